/**
 * One login on WeChat's terms, for one request: its start (state, then WeChat's authorize link),
 * its callback (state check, code exchange, profile, the app's verify), how it fails (stable
 * codes), how it errs, and how its outcome is recorded for duplicate callbacks. passport-oauth2's
 * contracts are kept — state stores of every arity, verify arities, `authorizationParams`,
 * `info.state` — but not its generic authenticate(), whose URL parsing and repeated `req.query`
 * reads cost more than the rest of a login's own work (docs/benchmarks.md, "Where the time
 * goes"). What one login learns lives in this object, never on the shared strategy, so
 * interleaved logins cannot see each other's users.
 */
import type { Request } from 'express';
import OAuth2Strategy from 'passport-oauth2';
import { loginLink, type LoginLinkParams, type WeChatQRLang } from './authorize.js';
import type { WeChatTokenResponse } from './client.js';
import { withTextState } from './app-state.js';
import { debug, debugFailure } from './diagnostics.js';
import type { CallbackOutcome, DuplicateCallbackGuard, GuardedCallback } from './duplicate-guard.js';
import { WeChatError } from './errors.js';
import { SNAPSHOT_USER, failureOf, stateFailure } from './failures.js';
import { settle, shouldSkip } from './promise-callbacks.js';
import type { LoginFlow } from './login-flows.js';
import type { SkipUserProfile } from './options.js';
import { profileFromToken, type WeChatProfile } from './profile.js';

/** The actions Passport gives the per-request strategy object. */
export interface PassportActions {
  success(user: Express.User, info?: object): void;
  fail(challenge: object, status?: number): void;
  error(error: Error): void;
  redirect(url: string, status?: number): void;
}

/** What one login needs to know beyond the request. */
export interface AttemptContext {
  flow: LoginFlow;
  req: Request;
  /** The callback this request finishes, when duplicate handling is on and the host has sessions. */
  callback: GuardedCallback | undefined;
  guard: DuplicateCallbackGuard | undefined;
  qrLang: WeChatQRLang | undefined;
  skipUserProfile: SkipUserProfile;
  loadProfile(token: WeChatTokenResponse): Promise<WeChatProfile>;
}

/** The verify callback as passport-oauth2 keeps it, and how it is called. */
export interface VerifySetup {
  verify: (...args: unknown[]) => unknown;
  passReqToCallback: boolean;
}

type VerifyDone = (err: unknown, user?: Express.User | false | null, info?: object) => void;

/** One login of one request. */
export class LoginAttempt {
  readonly #passport: PassportActions;
  readonly #context: AttemptContext;
  #stateVerified = false;

  constructor(passport: PassportActions, context: AttemptContext) {
    this.#passport = passport;
    this.#context = context;
  }

  /** Ends the login as a failure the person can act on. */
  fail(challenge: object, status?: number): void {
    debugFailure(this.#context.flow.settings.appId, challenge, status);
    this.#finish({ status: 'fail', challenge, httpStatus: status }, () => this.#passport.fail(challenge, status));
  }

  /**
   * A state that does not verify may be a duplicate whose first delivery used the state up (a
   * reload after the login): the record decides, and only the sessions that own it get its
   * outcome. Before the state verified, the only failure is the state check's.
   */
  failState(challenge: object, status?: number): void {
    if (this.#stateVerified) return this.fail(challenge, status);
    const failure = stateFailure(challenge, status);
    const { guard, callback, req } = this.#context;
    if (!guard || !callback) return this.fail(failure.challenge, failure.status);
    const failAsIs = (): void => {
      debugFailure(this.#context.flow.settings.appId, failure.challenge, failure.status);
      this.#passport.fail(failure.challenge, failure.status);
    };
    settle(guard.endIfRecorded(callback, this.#passport, req), (ended) => ended || failAsIs(), failAsIs, () => {});
  }

  /** Ends the login with what went wrong: a WeChat failure the person can retry, or an error. */
  report(error: unknown): void {
    try {
      // passport-oauth2 wraps what the token call rejected with in an InternalOAuthError.
      const cause = error instanceof OAuth2Strategy.InternalOAuthError && error.oauthError instanceof WeChatError ? error.oauthError : error;
      const failure = failureOf(cause, 'Please log in again.');
      if (failure) return this.fail(failure.info, failure.status);
      debug('login %s error %s', this.#context.flow.settings.appId, cause instanceof WeChatError ? cause.code : 'from the app or a host');
      this.#finish({ status: 'error' }, () => this.#passport.error(cause instanceof Error ? cause : new Error(String(cause))));
    } catch {
      // The host already answered this request (e.g. headers sent); nothing left to tell it.
    }
  }

  /** Ends the login with the app's user. */
  succeed(user: Express.User, givenInfo?: object): void {
    debug('login %s succeeded', this.#context.flow.settings.appId);
    const info = withTextState(givenInfo);
    this.#finish({ status: 'success', user, info }, () => this.#passport.success(user, info));
  }

  /**
   * Finishes a callback that carries a code: the state store's verdict, then (once the state
   * verified, so a request that cannot prove it owns the login never blocks the owner) the
   * duplicate claim, the code exchange, the profile and the app's verify — in passport-oauth2's
   * order and with its arities, so apps and state stores see what they always saw.
   */
  finishCallback(code: string, state: string | undefined, meta: OAuth2Strategy.Metadata, verify: VerifySetup): void {
    const { flow, req } = this.#context;
    try {
      flow.stateStore.verify(req, state as string, meta, (err, ok, stateInfo) => {
        if (err) return this.report(err);
        if (!ok) return this.failState(stateInfo as object, 403);
        this.#stateVerified = true;
        this.#claimThenExchange(code, (response) => this.#loadProfileThenVerify(response, stateInfo, verify));
      });
    } catch (error) {
      this.report(error);
    }
  }

  /** The token call for a login whose state verified; a duplicate of a claimed login replays its outcome. */
  #claimThenExchange(code: string, then: (response: WeChatTokenResponse) => void): void {
    const { guard, callback, flow, req } = this.#context;
    const exchange = (): void =>
      settle(
        flow.client.exchangeCode(code),
        (response) => {
          if (Number(response.is_snapshotuser) === 1) return this.fail({ ...SNAPSHOT_USER.info }, SNAPSHOT_USER.status);
          then(response);
        },
        (error) => this.report(error instanceof WeChatError ? error : new OAuth2Strategy.InternalOAuthError('Failed to obtain access token', error)),
        (thrown) => this.report(thrown),
      );
    if (!guard || !callback) return exchange();
    const claimedOrReplay = (claimed: boolean): void => (claimed ? exchange() : guard.replay(callback, this.#passport, req));
    const claimedNow = guard.claimNow(callback);
    if (claimedNow !== undefined) return claimedOrReplay(claimedNow);
    settle(
      guard.claim(callback),
      claimedOrReplay,
      // The store is down: exchange without duplicate protection rather than not at all.
      () => exchange(),
      (thrown) => this.report(thrown),
    );
  }

  #loadProfileThenVerify(token: WeChatTokenResponse, stateInfo: unknown, { verify, passReqToCallback }: VerifySetup): void {
    const { flow, req, skipUserProfile } = this.#context;
    const verified: VerifyDone = (err, user, info) => {
      if (err) return this.report(err);
      if (!user) return this.fail(info as object);
      const given = info ?? {};
      if (stateInfo) (given as { state?: unknown }).state = stateInfo;
      this.succeed(user, given);
    };
    const callVerify = (profile: WeChatProfile): void => {
      const accessToken = token.access_token;
      const refreshToken = token.refresh_token;
      try {
        // The same arities passport-oauth2 reads: (req?, accessToken, refreshToken, params?, profile, done).
        if (passReqToCallback) {
          if (verify.length === 6) verify(req, accessToken, refreshToken, token, profile, verified);
          else verify(req, accessToken, refreshToken, profile, verified);
        } else if (verify.length === 5) verify(accessToken, refreshToken, token, profile, verified);
        else verify(accessToken, refreshToken, profile, verified);
      } catch (error) {
        this.report(error);
      }
    };
    const identity = { openid: token.openid, unionid: token.unionid, appid: flow.settings.appId };
    const profile =
      skipUserProfile === false
        ? this.#context.loadProfile(token)
        : shouldSkip(skipUserProfile, token.access_token).then((skip) => (skip ? profileFromToken(identity) : this.#context.loadProfile(token)));
    settle(profile, callVerify, (error) => this.report(error), (thrown) => this.report(thrown));
  }

  /**
   * Starts a login: the state store keeps its nonce (and the app state), then the browser goes to
   * WeChat's authorize link. A string state on a strategy that checks none goes to WeChat as it is
   * (passport-oauth2's behaviour, for apps that check it on their own).
   */
  startLogin(appState: unknown, meta: OAuth2Strategy.Metadata, link: Omit<LoginLinkParams, 'state' | 'qrLang'>): void {
    const { flow, req, qrLang } = this.#context;
    const redirectTo = (state: string | undefined): void => {
      try {
        this.#passport.redirect(loginLink(flow.settings, { ...link, state, qrLang }));
      } catch (error) {
        this.report(error);
      }
    };
    if (typeof appState === 'string' && appState !== '') return redirectTo(appState);
    try {
      flow.stateStore.store(req, appState, meta, (err, handle) => (err ? this.report(err) : redirectTo(handle || undefined)));
    } catch (error) {
      this.report(error);
    }
  }

  // A login that claimed its callback records how it ended before saying so, for its duplicates.
  #finish(outcome: CallbackOutcome, end: () => void): void {
    const { guard, callback, req } = this.#context;
    if (guard && callback) guard.finish(callback, outcome, end, req);
    else end();
  }
}
