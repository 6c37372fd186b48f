import { Controller, Get, Req, UseGuards } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import type { Request } from 'express';

@Controller('auth/wechat')
export class WeChatAuthController {
  /** The guard redirects to WeChat's QR page; this handler never runs. */
  @Get()
  @UseGuards(AuthGuard('wechat'))
  login(): void {}

  /** WeChat sends the user back here; the guard finishes the login or answers 401. */
  @Get('callback')
  @UseGuards(AuthGuard('wechat'))
  callback(@Req() req: Request): { user: Express.User | undefined } {
    return { user: req.user };
  }
}
