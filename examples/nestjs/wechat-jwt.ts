/**
 * A NestJS API with no server session: WeChat login ends in a signed token (a JWT) the client
 * keeps, and the CSRF state of each login lives in a signed cookie (`state: { cookie }`), so no
 * express-session and no shared session store. test/nestjs.test.ts runs it against the emulator.
 */
import 'reflect-metadata';
import { createHmac } from 'node:crypto';
import { Controller, Get, Inject, Injectable, Module, Req, UseGuards, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AuthGuard, PassportModule, PassportStrategy } from '@nestjs/passport';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Request } from 'express';
import { WeChatStrategy, type WeChatProfile, type WeChatStrategyOptions } from 'passport-wechat-oauth2';

/** The injection token of this module's settings. */
export const WECHAT_JWT_OPTIONS = Symbol('WECHAT_JWT_OPTIONS');

export interface WeChatJwtOptions {
  /** clientID, clientSecret, callbackURL, … and `state: { cookie: { secret } }`. */
  strategy: WeChatStrategyOptions;
  /** Signs the tokens the callback issues. */
  jwtSecret: string;
}

@Injectable()
export class WeChatJwtStrategy extends PassportStrategy(WeChatStrategy, 'wechat-jwt') {
  constructor(@Inject(WECHAT_JWT_OPTIONS) options: WeChatJwtOptions) {
    super(options.strategy);
  }

  validate(_accessToken: string, _refreshToken: string, profile: WeChatProfile): { id: string; name: string } {
    return { id: profile.id, name: profile.displayName };
  }
}

@Controller('auth/wechat-jwt')
export class WeChatJwtController {
  constructor(@Inject(WECHAT_JWT_OPTIONS) private readonly options: WeChatJwtOptions) {}

  /** The guard sets the state cookie and redirects to WeChat's QR page. */
  @Get()
  @UseGuards(AuthGuard('wechat-jwt'))
  login(): void {}

  /** AuthGuard's default is `session: false`: no session is read or written, the client gets a token. */
  @Get('callback')
  @UseGuards(AuthGuard('wechat-jwt'))
  callback(@Req() req: Request & { user: { id: string; name: string } }): { token: string } {
    return { token: signJwt({ sub: req.user.id, name: req.user.name }, this.options.jwtSecret) };
  }
}

@Module({})
export class WeChatJwtModule {
  static forRoot(options: WeChatJwtOptions): DynamicModule {
    return {
      module: WeChatJwtModule,
      imports: [PassportModule],
      controllers: [WeChatJwtController],
      providers: [{ provide: WECHAT_JWT_OPTIONS, useValue: options }, WeChatJwtStrategy],
    };
  }
}

/** No `app.use(session(…))`: the state cookie is all a login needs. */
export async function createJwtApp(options: WeChatJwtOptions, logger?: false): Promise<NestExpressApplication> {
  return NestFactory.create<NestExpressApplication>(WeChatJwtModule.forRoot(options), { logger });
}

/** An HS256 JWT, with node:crypto only; a real app would use @nestjs/jwt. */
export function signJwt(claims: Record<string, unknown>, secret: string): string {
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
  const unsigned = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(claims)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}
