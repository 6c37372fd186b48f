/**
 * The emulator's in-memory data: registered apps and users, and the codes, tokens, Mini
 * Program session keys and phone codes it has issued, each with its expiry (app access tokens
 * have their own keeper, app-tokens.ts). Knows lifetimes, not WeChat's
 * checks or errcodes: those are the API's (api.ts).
 *
 * @internal Not part of the public `passport-wechat-oauth2/testing` API.
 */
import type { Grant } from './grant.js';
import { newCode, newPhoneCode, newToken } from './ids.js';
import type { ResolvedOptions } from './options.js';
import type { EmulatorApp, EmulatorUser } from './types.js';

export interface CodeRecord {
  readonly grant: Grant;
  readonly expiresAt: number;
  /** Mini Program codes only: the session key of this `wx.login()`, which jscode2session returns. */
  readonly sessionKey: string | undefined;
  used: boolean;
}

/** A code of the phone-number button: one user's number, for one Mini Program. */
export interface PhoneCodeRecord {
  readonly appid: string;
  /** The user as registered when the code was given: their number then. */
  readonly user: EmulatorUser;
  readonly expiresAt: number;
  used: boolean;
}

export interface AccessTokenRecord {
  readonly grant: Grant;
  expiresAt: number;
}

export interface RefreshTokenRecord {
  readonly grant: Grant;
  readonly expiresAt: number;
  accessToken: string;
}

export class EmulatorStore {
  private readonly apps = new Map<string, EmulatorApp>();
  private readonly users = new Map<string, EmulatorUser>();
  private readonly codes = new Map<string, CodeRecord>();
  private readonly accessTokens = new Map<string, AccessTokenRecord>();
  private readonly refreshTokens = new Map<string, RefreshTokenRecord>();
  /** Apart from the login codes: a phone code is no `js_code`, nor the reverse. */
  private readonly phoneCodes = new Map<string, PhoneCodeRecord>();
  /** The session key of each Mini Program user's latest `wx.login()`, by {@link sessionId}. */
  private readonly sessionKeys = new Map<string, string>();
  private readonly options: ResolvedOptions;

  constructor(options: ResolvedOptions) {
    this.options = options;
  }

  // -- apps and users --------------------------------------------------------

  putApp(app: EmulatorApp): void {
    this.apps.set(app.appid, app);
  }

  app(appid: string): EmulatorApp | undefined {
    return this.apps.get(appid);
  }

  putUser(user: EmulatorUser): void {
    this.users.set(user.id, user);
  }

  user(id: string): EmulatorUser | undefined {
    return this.users.get(id);
  }

  /** The users in the order first registered (replacing one keeps its place). */
  allUsers(): EmulatorUser[] {
    return [...this.users.values()];
  }

  firstUser(): EmulatorUser | undefined {
    return this.users.values().next().value;
  }

  // -- codes and Mini Program sessions -----------------------------------------

  /** A single-use code; a Mini Program's also starts the user's new session (its key is the latest). */
  createCode(grant: Grant, sessionKey?: string): string {
    const code = newCode();
    const expiresAt = this.options.clock() + this.options.codeTtlMs[grant.app.kind];
    this.codes.set(code, { grant, expiresAt, sessionKey, used: false });
    if (sessionKey !== undefined) this.sessionKeys.set(sessionId(grant.app.appid, grant.openid), sessionKey);
    return code;
  }

  code(code: string): CodeRecord | undefined {
    return this.codes.get(code);
  }

  sessionKey(appid: string, openid: string): string | undefined {
    return this.sessionKeys.get(sessionId(appid, openid));
  }

  /** A single-use phone code for `user`'s number in a Mini Program. */
  createPhoneCode(appid: string, user: EmulatorUser): string {
    const code = newPhoneCode();
    this.phoneCodes.set(code, { appid, user, expiresAt: this.options.clock() + this.options.phoneCodeTtlMs, used: false });
    return code;
  }

  phoneCode(code: string): PhoneCodeRecord | undefined {
    return this.phoneCodes.get(code);
  }

  // -- tokens ------------------------------------------------------------------

  /** A new access_token and refresh_token for a grant, with their lifetimes from now. */
  issueTokens(grant: Grant): { readonly accessToken: string; readonly refreshToken: string } {
    const now = this.options.clock();
    const accessToken = newToken();
    const refreshToken = newToken();
    this.accessTokens.set(accessToken, { grant, expiresAt: now + this.options.accessTokenTtlMs });
    this.refreshTokens.set(refreshToken, { grant, expiresAt: now + this.options.refreshTokenTtlMs, accessToken });
    return { accessToken, refreshToken };
  }

  accessToken(token: string): AccessTokenRecord | undefined {
    return this.accessTokens.get(token);
  }

  refreshToken(token: string): RefreshTokenRecord | undefined {
    return this.refreshTokens.get(token);
  }

  /** Same access_token with a fresh expiry while valid; a new one once expired (docs/wechat-protocol.md#refresh-request-and-answer). */
  renewAccessToken(record: RefreshTokenRecord, now: number): string {
    const current = this.accessTokens.get(record.accessToken);
    const expiresAt = now + this.options.accessTokenTtlMs;
    if (current !== undefined && now < current.expiresAt) {
      current.expiresAt = expiresAt;
      return record.accessToken;
    }
    this.accessTokens.delete(record.accessToken);
    const fresh = newToken();
    this.accessTokens.set(fresh, { grant: record.grant, expiresAt });
    record.accessToken = fresh;
    return fresh;
  }

  /** A new refresh_token with the old one's expiry: it "cannot be extended" (docs/wechat-protocol.md#refresh-lifetimes). */
  rotateRefreshToken(oldToken: string, record: RefreshTokenRecord): string {
    const fresh = newToken();
    this.refreshTokens.delete(oldToken);
    this.refreshTokens.set(fresh, record);
    return fresh;
  }

  /** Forgets codes, phone codes, session keys and tokens; keeps apps and users. */
  clearIssued(): void {
    this.codes.clear();
    this.phoneCodes.clear();
    this.sessionKeys.clear();
    this.accessTokens.clear();
    this.refreshTokens.clear();
  }
}

/** Where the latest session key of a Mini Program user is kept. */
function sessionId(appid: string, openid: string): string {
  return `${appid}\n${openid}`;
}
