import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { WeChatStrategy, type WeChatProfile, type WeChatStrategyOptions } from 'passport-wechat-oauth2';

/** The injection token of the strategy's options (clientID, clientSecret, callbackURL, …). */
export const WECHAT_OPTIONS = Symbol('WECHAT_OPTIONS');

/** What the app keeps of a WeChat login: `req.user` after the callback. */
export interface AppUser {
  id: string;
  name: string;
}

/** Registered with Passport as 'wechat': `AuthGuard('wechat')` runs it. */
@Injectable()
export class WeChatLoginStrategy extends PassportStrategy(WeChatStrategy, 'wechat') {
  // @Inject names the token, so no emitted decorator metadata is needed.
  constructor(@Inject(WECHAT_OPTIONS) options: WeChatStrategyOptions) {
    super(options);
  }

  /** What it returns becomes `req.user`. */
  validate(_accessToken: string, _refreshToken: string, profile: WeChatProfile): AppUser {
    // A real app finds or creates its user here, keyed by profile.id (the unionid when WeChat sends one).
    return { id: profile.id, name: profile.displayName };
  }
}
