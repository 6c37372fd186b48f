/**
 * The emulator's options with WeChat's defaults filled in: lifetimes in ms, one code lifetime
 * per app kind, and the clock every expiry is measured against.
 *
 * @internal Not part of the public `passport-wechat-oauth2/testing` API.
 */
import type { DeclineBehaviour, EmulatorContentType, StableTokenQuota, WeChatAppKind, WeChatEmulatorOptions } from './types.js';

export const SECOND = 1000;

const DEFAULTS = Object.freeze({
  qrconnectCodeTtl: 600, // 10 min for website codes (docs/wechat-protocol.md#codes-lifetime-and-single-use)
  authorizeCodeTtl: 300, // 5 min for official-account codes (docs/wechat-protocol.md#codes-lifetime-and-single-use)
  miniprogramCodeTtl: 300, // wx.login() codes: 5 min (docs/wechat-protocol.md#codes-lifetime-and-single-use)
  appCodeTtl: 600, // Open SDK codes: 10 min, as the Open Platform's website codes (docs/wechat-protocol.md#mobile-application-code-exchange)
  phoneCodeTtl: 300, // getuserphonenumber: "each code can be used once and expires after 5 minutes"
  accessTokenTtl: 7200, // docs/wechat-protocol.md#token-exchange-answer
  appTokenTtl: 7200, // stable_token's expires_in
  appTokenRenewWindow: 300, // stable_token: a new token in the old one's last 5 minutes, both valid meanwhile
  stableTokenPerMinute: 10_000, // stable_token, normal mode
  stableTokenPerDay: 500_000,
  forceRefreshPerDay: 20, // stable_token, force_refresh: true
  forceRefreshInterval: 30,
  refreshTokenTtl: 30 * 24 * 3600, // docs/wechat-protocol.md#refresh-lifetimes
});

export interface ResolvedOptions {
  readonly declineBehaviour: DeclineBehaviour;
  readonly contentType: EmulatorContentType;
  /** Per app kind: the kind decides which page or SDK issued the code. */
  readonly codeTtlMs: Readonly<Record<WeChatAppKind, number>>;
  /** The phone-number button's codes. */
  readonly phoneCodeTtlMs: number;
  readonly accessTokenTtlMs: number;
  readonly refreshTokenTtlMs: number;
  readonly appTokenTtlMs: number;
  /** How long before an app token expires stable_token hands out a new one. */
  readonly appTokenRenewWindowMs: number;
  readonly stableTokenQuota: Readonly<Required<StableTokenQuota>>;
  readonly rotateRefreshToken: boolean;
  readonly autoConfirmBase: boolean;
  readonly strictParameterOrder: boolean;
  readonly clock: () => number;
}

export function resolveOptions(options: WeChatEmulatorOptions): ResolvedOptions {
  const appTokenTtlMs = (options.appTokenTtlSeconds ?? DEFAULTS.appTokenTtl) * SECOND;
  if (!(appTokenTtlMs > 0)) throw new RangeError('WeChatEmulator: appTokenTtlSeconds must be more than 0');
  const phoneCodeTtl = typeof options.codeTtlSeconds === 'number' ? options.codeTtlSeconds : options.codeTtlSeconds?.phone;
  return {
    declineBehaviour: options.declineBehaviour ?? 'redirect',
    contentType: options.contentType ?? 'text/plain',
    codeTtlMs: resolveCodeTtl(options.codeTtlSeconds),
    phoneCodeTtlMs: (phoneCodeTtl ?? DEFAULTS.phoneCodeTtl) * SECOND,
    accessTokenTtlMs: (options.accessTokenTtlSeconds ?? DEFAULTS.accessTokenTtl) * SECOND,
    refreshTokenTtlMs: (options.refreshTokenTtlSeconds ?? DEFAULTS.refreshTokenTtl) * SECOND,
    appTokenTtlMs,
    // NOTE: the emulator's choice: a lifetime of 10 minutes or less (tests) renews in its last half, so a normal call still returns the same token for a while.
    appTokenRenewWindowMs: Math.min(DEFAULTS.appTokenRenewWindow * SECOND, appTokenTtlMs / 2),
    stableTokenQuota: resolveQuota(options.stableTokenQuota ?? {}),
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

function resolveQuota(quota: StableTokenQuota): Required<StableTokenQuota> {
  return {
    perMinute: quota.perMinute ?? DEFAULTS.stableTokenPerMinute,
    perDay: quota.perDay ?? DEFAULTS.stableTokenPerDay,
    forceRefreshPerDay: quota.forceRefreshPerDay ?? DEFAULTS.forceRefreshPerDay,
    forceRefreshIntervalSeconds: quota.forceRefreshIntervalSeconds ?? DEFAULTS.forceRefreshInterval,
  };
}
