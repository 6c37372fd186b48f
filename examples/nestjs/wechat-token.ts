/**
 * A second strategy of the same class under its own name, 'wechat-token': the variant whose
 * `validate` also receives WeChat's token response (openid, unionid, scope, expires_in).
 */
import { Controller, Get, Inject, Injectable, Module, Req, UseGuards, type DynamicModule } from '@nestjs/common';
import { AuthGuard, PassportModule, PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import {
  WeChatStrategy,
  type WeChatProfile,
  type WeChatStrategyOptions,
  type WeChatTokenResponse,
} from 'passport-wechat-oauth2';
import { WECHAT_OPTIONS } from './wechat.strategy.js';

/** A login that keeps what the app needs to call WeChat later on the user's behalf. */
export interface TokenUser {
  id: string;
  openid: string;
  refreshToken: string;
}

// The third argument `true` makes the mixin hand `validate` the token response (`params`).
@Injectable()
export class WeChatTokenStrategy extends PassportStrategy(WeChatStrategy, 'wechat-token', true) {
  constructor(@Inject(WECHAT_OPTIONS) options: WeChatStrategyOptions) {
    super(options);
  }

  validate(_accessToken: string, refreshToken: string, params: WeChatTokenResponse, profile: WeChatProfile): TokenUser {
    return { id: profile.id, openid: params.openid, refreshToken };
  }
}

@Controller('auth/wechat-token')
export class WeChatTokenController {
  @Get()
  @UseGuards(AuthGuard('wechat-token'))
  login(): void {}

  @Get('callback')
  @UseGuards(AuthGuard('wechat-token'))
  callback(@Req() req: Request): { user: Express.User | undefined } {
    return { user: req.user };
  }
}

// Its own WECHAT_OPTIONS: Nest scopes providers to their module, so each strategy keeps its settings.
@Module({})
export class WeChatTokenModule {
  static forRoot(options: WeChatStrategyOptions): DynamicModule {
    return {
      module: WeChatTokenModule,
      imports: [PassportModule],
      controllers: [WeChatTokenController],
      providers: [{ provide: WECHAT_OPTIONS, useValue: options }, WeChatTokenStrategy],
    };
  }
}
