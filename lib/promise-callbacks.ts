/**
 * Promises meeting Passport's callbacks, for every strategy here: settling a promise into
 * callbacks without ever leaving a rejected promise behind, and the skipUserProfile decision in
 * its three forms.
 */
import type { SkipUserProfile } from './options.js';

/**
 * Hands a promise's outcome to callback-style code without ever leaving a rejected
 * promise behind: whatever the callbacks throw goes to `onThrow`.
 */
export function settle<T>(
  promise: Promise<T>,
  onValue: (value: T) => void,
  onError: (error: unknown) => void,
  onThrow: (thrown: unknown) => void,
): void {
  promise.then(onValue, onError).catch(onThrow);
}

/** Evaluates `skipUserProfile` in its three forms: a boolean, `fn(token)`, `fn(token, done)`. */
export function shouldSkip(skip: SkipUserProfile, accessToken: string): Promise<boolean> {
  if (typeof skip === 'boolean') return Promise.resolve(skip);
  if (skip.length > 1) {
    return new Promise((resolve, reject) => {
      (skip as (t: string, d: (err: unknown, s?: boolean) => void) => void)(accessToken, (err, s) =>
        err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(s === true),
      );
    });
  }
  return Promise.resolve((skip as (t: string) => boolean)(accessToken) === true);
}

/**
 * `verify` with the same arity (passport-oauth2 picks the arguments by it), whose
 * returned promise's rejection reaches its `done` — the last argument — as an error. `done` acts
 * once, so a verify that called it and then rejected ends the login only once.
 */
export function catchingRejection<F extends (...args: never[]) => unknown>(verify: F): F {
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    const done = args.at(-1) as (...result: unknown[]) => unknown;
    let called = false;
    const once = (...result: unknown[]): unknown => {
      if (called) return undefined;
      called = true;
      return done(...result);
    };
    const returned = (verify as unknown as (...a: unknown[]) => unknown).apply(this, [...args.slice(0, -1), once]);
    if (isThenable(returned)) {
      returned.then(undefined, (error: unknown) => {
        try {
          once(error instanceof Error ? error : new Error(String(error)));
        } catch {
          // The host already answered this request; nothing left to tell it.
        }
      });
    }
    return returned;
  };
  Object.defineProperty(wrapped, 'length', { value: verify.length });
  return wrapped as unknown as F;
}

/** Whether a value is a promise or a promise-like (what an async verify returns). */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}
