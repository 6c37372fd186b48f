/**
 * The emulator's options with WeChat's defaults filled in: lifetimes in ms, one code lifetime
 * per app kind, and the clock every expiry is measured against.
 *
 * @internal Not part of the public `passport-wechat-oauth2/testing` API.
 */
import type { DeclineBehaviour, EmulatorContentType, WeChatAppKind, WeChatEmulatorOptions } from './types.js';

export const SECOND = 1000;

const DEFAULTS = Object.freeze({
  qrconnectCodeTtl: 600, // 10 min for website codes (docs/wechat-protocol.md#codes-lifetime-and-single-use)
  authorizeCodeTtl: 300, // 5 min for official-account codes (docs/wechat-protocol.md#codes-lifetime-and-single-use)
  miniprogramCodeTtl: 300, // wx.login() codes: 5 min (docs/wechat-protocol.md#codes-lifetime-and-single-use)
  appCodeTtl: 600, // Open SDK codes: 10 min, as the Open Platform's website codes (docs/wechat-protocol.md#mobile-application-code-exchange)
  accessTokenTtl: 7200, // docs/wechat-protocol.md#token-exchange-answer
  refreshTokenTtl: 30 * 24 * 3600, // docs/wechat-protocol.md#refresh-lifetimes
});

export interface ResolvedOptions {
  readonly declineBehaviour: DeclineBehaviour;
  readonly contentType: EmulatorContentType;
  /** Per app kind: the kind decides which page or SDK issued the code. */
  readonly codeTtlMs: Readonly<Record<WeChatAppKind, number>>;
  readonly accessTokenTtlMs: number;
  readonly refreshTokenTtlMs: number;
  readonly rotateRefreshToken: boolean;
  readonly autoConfirmBase: boolean;
  readonly strictParameterOrder: boolean;
  readonly clock: () => number;
}

export function resolveOptions(options: WeChatEmulatorOptions): ResolvedOptions {
  return {
    declineBehaviour: options.declineBehaviour ?? 'redirect',
    contentType: options.contentType ?? 'text/plain',
    codeTtlMs: resolveCodeTtl(options.codeTtlSeconds),
    accessTokenTtlMs: (options.accessTokenTtlSeconds ?? DEFAULTS.accessTokenTtl) * SECOND,
    refreshTokenTtlMs: (options.refreshTokenTtlSeconds ?? DEFAULTS.refreshTokenTtl) * SECOND,
    rotateRefreshToken: options.rotateRefreshToken ?? false,
    autoConfirmBase: options.autoConfirmBase ?? true,
    // NOTE: WeChat checks the authorize link with a strict regex (docs/wechat-protocol.md#parameter-order): strict unless loosened on purpose.
    strictParameterOrder: options.strictParameterOrder ?? true,
    clock: options.clock ?? Date.now,
  };
}

function resolveCodeTtl(option: WeChatEmulatorOptions['codeTtlSeconds']): Record<WeChatAppKind, number> {
  const perKind = typeof option === 'number' ? { qrconnect: option, authorize: option, miniprogram: option, app: option } : (option ?? {});
  return {
    website: (perKind.qrconnect ?? DEFAULTS.qrconnectCodeTtl) * SECOND,
    'official-account': (perKind.authorize ?? DEFAULTS.authorizeCodeTtl) * SECOND,
    miniprogram: (perKind.miniprogram ?? DEFAULTS.miniprogramCodeTtl) * SECOND,
    'mobile-app': (perKind.app ?? DEFAULTS.appCodeTtl) * SECOND,
  };
}
