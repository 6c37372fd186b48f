/**
 * One login as passport-oauth2 runs it, on WeChat's terms: a per-request view of the strategy
 * whose redirect is WeChat's authorize link, whose token exchange and profile call go to WeChat,
 * whose failures carry stable codes, and whose outcome is recorded for duplicate callbacks. What
 * one login learns (the token response) lives in this closure, never on the shared strategy, so
 * interleaved logins cannot see each other's users.
 */
import type { Request } from 'express';
import OAuth2Strategy from 'passport-oauth2';
import { toWeChatAuthorizeURL, type WeChatQRLang } from './authorize.js';
import type { WeChatTokenResponse } from './client.js';
import { withTextState } from './app-state.js';
import { debug, debugFailure } from './diagnostics.js';
import type { CallbackOutcome, DuplicateCallbackGuard, GuardedCallback } from './duplicate-guard.js';
import { WeChatError, WeChatOptionsError } from './errors.js';
import { SNAPSHOT_USER, failureOf, stateFailure } from './failures.js';
import { settle, shouldSkip } from './promise-callbacks.js';
import type { LoginFlow } from './login-flows.js';
import type { WeChatOAuth2Adapter } from './oauth2-adapter.js';
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

/** A view of `passport` (Passport's per-request strategy object) for one login. */
export function beginAttempt<S extends PassportActions>(passport: S, context: AttemptContext): S {
  const { flow, req, callback, guard } = context;
  const attempt = Object.create(passport) as S;
  let token: WeChatTokenResponse | undefined;
  let stateVerified = false;
  // A login that claimed its callback records how it ended before saying so, for its duplicates.
  const finish = (outcome: CallbackOutcome, end: () => void): void => (guard && callback ? guard.finish(callback, outcome, end, req) : end());
  const appid = flow.settings.appId;
  const fail = (challenge: object, status?: number): void => {
    debugFailure(appid, challenge, status);
    finish({ status: 'fail', challenge, httpStatus: status }, () => passport.fail(challenge, status));
  };
  // A state that does not verify may be a duplicate whose first delivery used the state up (a
  // reload after the login): the record decides, and only the sessions that own it get its outcome.
  // Before the state verified, the only failure passport-oauth2 reports is the state check's.
  const failState = (challenge: object, status?: number): void => {
    if (stateVerified) return fail(challenge, status);
    const failure = stateFailure(challenge, status);
    if (!guard || !callback) return fail(failure.challenge, failure.status);
    const failAsIs = () => {
      debugFailure(appid, failure.challenge, failure.status);
      passport.fail(failure.challenge, failure.status);
    };
    settle(guard.endIfRecorded(callback, passport, req), (ended) => ended || failAsIs(), failAsIs, () => {});
  };
  const report = (error: unknown): void => {
    try {
      // passport-oauth2 wraps what the token call rejected with in an InternalOAuthError.
      const cause = error instanceof OAuth2Strategy.InternalOAuthError && error.oauthError instanceof WeChatError ? error.oauthError : error;
      const failure = failureOf(cause, 'Please log in again.');
      if (failure) return fail(failure.info, failure.status);
      debug('login %s error %s', appid, cause instanceof WeChatError ? cause.code : 'from the app or a host');
      finish({ status: 'error' }, () => passport.error(cause instanceof Error ? cause : new Error(String(cause))));
    } catch {
      // The host already answered this request (e.g. headers sent); nothing left to tell it.
    }
  };
  const oauth2 = Object.create(flow.oauth2) as WeChatOAuth2Adapter;
  // passport-oauth2 asks for the token only once the state verified: the moment to claim the callback.
  oauth2.getOAuthAccessToken = (code, _params, done) => {
    stateVerified = true;
    const exchange = (): void =>
      settle(
        flow.client.exchangeCode(code),
        (response) => {
          if (Number(response.is_snapshotuser) === 1) return fail({ ...SNAPSHOT_USER.info }, SNAPSHOT_USER.status);
          token = response;
          done(null, response.access_token, response.refresh_token, response);
        },
        (error) => done(error),
        report,
      );
    if (!guard || !callback) return exchange();
    settle(
      guard.claim(callback),
      (claimed) => (claimed ? exchange() : guard.replay(callback, passport, req)),
      // The store is down: exchange without duplicate protection rather than not at all.
      () => exchange(),
      report,
    );
  };
  Object.assign(attempt, {
    _oauth2: oauth2,
    _stateStore: flow.stateStore,
    success: (user: Express.User, givenInfo?: object) => {
      debug('login %s succeeded', appid);
      const info = withTextState(givenInfo);
      finish({ status: 'success', user, info }, () => passport.success(user, info));
    },
    fail: failState,
    error: report,
    redirect: (location: string, status?: number) => {
      try {
        passport.redirect(toWeChatAuthorizeURL(location, flow.settings, context.qrLang), status);
      } catch (error) {
        report(error);
      }
    },
    userProfile: (accessToken: string, done: (err?: unknown, profile?: WeChatProfile) => void) => {
      if (!token) return done(new WeChatOptionsError('No WeChat token response in this login.'));
      const current = token;
      const identity = { openid: current.openid, unionid: current.unionid, appid: flow.settings.appId };
      settle(
        shouldSkip(context.skipUserProfile, accessToken).then((skip) => (skip ? profileFromToken(identity) : context.loadProfile(current))),
        (profile) => done(null, profile),
        (error) => done(error),
        report,
      );
    },
  });
  return attempt;
}
