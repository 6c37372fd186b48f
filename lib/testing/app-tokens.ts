/**
 * The app access tokens `cgi-bin/stable_token` hands out, per appid, with WeChat's rules: the
 * same token while it is valid, a new one in its last minutes (both valid until the old one
 * expires), a forced refresh that revokes the old one, and the quotas of both modes. Knows
 * tokens, lifetimes and counters, not errcodes: those are the API's (app-api.ts).
 *
 * @internal Not part of the public `passport-wechat-oauth2/testing` API.
 */
import { newToken } from './ids.js';
import type { ResolvedOptions } from './options.js';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
/** WeChat's quotas reset at midnight in Beijing (UTC+8). */
const BEIJING_OFFSET_MS = 8 * 60 * MINUTE_MS;

export interface AppTokenRecord {
  readonly appid: string;
  readonly token: string;
  expiresAt: number;
}

/** What a stable_token call gets: the token in force, or nothing because a quota is spent. */
export type StableTokenOutcome = AppTokenRecord | 'quota-reached';

/** One app's counters; a counter belongs to the minute or the day it was started in. */
interface Usage {
  minute: number;
  callsThisMinute: number;
  day: number;
  callsToday: number;
  forcedToday: number;
  lastForcedAt: number | null;
}

export class AppTokens {
  /** Every token that is not revoked, expired ones included: they answer 42001, not 40001. */
  private readonly tokens = new Map<string, AppTokenRecord>();
  /** The token stable_token answers now, by appid. */
  private readonly current = new Map<string, AppTokenRecord>();
  private readonly usage = new Map<string, Usage>();
  private readonly options: ResolvedOptions;

  constructor(options: ResolvedOptions) {
    this.options = options;
  }

  /** `force_refresh: false`: the token in force, or a new one once it is in its last minutes or expired. */
  normal(appid: string, now: number): StableTokenOutcome {
    const usage = this.usageOf(appid, now);
    const quota = this.options.stableTokenQuota;
    if (usage.callsThisMinute >= quota.perMinute || usage.callsToday >= quota.perDay) return 'quota-reached';
    usage.callsThisMinute += 1;
    usage.callsToday += 1;
    const record = this.current.get(appid);
    if (record !== undefined && now < record.expiresAt - this.options.appTokenRenewWindowMs) return record;
    // The old token is left as it is: valid until its own expiry, as WeChat keeps both for 5 minutes.
    return this.issue(appid, now);
  }

  /**
   * `force_refresh: true`: every token of the app revoked and a new one issued — unless the last
   * forced refresh was less than the interval ago (the token in force, uncounted) or the day's
   * forced refreshes are spent.
   */
  forceRefresh(appid: string, now: number): StableTokenOutcome {
    const usage = this.usageOf(appid, now);
    const quota = this.options.stableTokenQuota;
    const record = this.current.get(appid);
    const recent = usage.lastForcedAt !== null && now - usage.lastForcedAt < quota.forceRefreshIntervalSeconds * 1000;
    if (recent && record !== undefined && now < record.expiresAt) return record;
    if (usage.forcedToday >= quota.forceRefreshPerDay) return 'quota-reached';
    usage.forcedToday += 1;
    usage.lastForcedAt = now;
    this.revoke(appid);
    return this.issue(appid, now);
  }

  /** The record of a token that was issued and not revoked, expired or not. */
  record(token: string): AppTokenRecord | undefined {
    return this.tokens.get(token);
  }

  /** Ends every token of the app now (42001 from then on); false when it has none. */
  expire(appid: string, now: number): boolean {
    let found = false;
    for (const record of this.tokens.values()) {
      if (record.appid !== appid) continue;
      record.expiresAt = Math.min(record.expiresAt, now);
      found = true;
    }
    return found;
  }

  /** Revokes every token of the app (40001 from then on), as another server's forced refresh would; false when it has none. */
  invalidate(appid: string): boolean {
    return this.revoke(appid);
  }

  /** Forgets tokens and counters. */
  clear(): void {
    this.tokens.clear();
    this.current.clear();
    this.usage.clear();
  }

  private issue(appid: string, now: number): AppTokenRecord {
    const record: AppTokenRecord = { appid, token: newToken(), expiresAt: now + this.options.appTokenTtlMs };
    this.tokens.set(record.token, record);
    this.current.set(appid, record);
    return record;
  }

  private revoke(appid: string): boolean {
    let found = false;
    for (const [token, record] of this.tokens) {
      if (record.appid !== appid) continue;
      this.tokens.delete(token);
      found = true;
    }
    this.current.delete(appid);
    return found;
  }

  /** The app's counters, those of a past minute or day started afresh. */
  private usageOf(appid: string, now: number): Usage {
    const minute = Math.floor(now / MINUTE_MS);
    const day = Math.floor((now + BEIJING_OFFSET_MS) / DAY_MS);
    const usage = this.usage.get(appid) ?? { minute, callsThisMinute: 0, day, callsToday: 0, forcedToday: 0, lastForcedAt: null };
    if (usage.minute !== minute) {
      usage.minute = minute;
      usage.callsThisMinute = 0;
    }
    if (usage.day !== day) {
      usage.day = day;
      usage.callsToday = 0;
      usage.forcedToday = 0;
    }
    this.usage.set(appid, usage);
    return usage;
  }
}
