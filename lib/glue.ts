/**
 * Small pieces of Passport glue every strategy here shares: turning promises into Passport's
 * callbacks without ever leaving a rejected promise behind, the skipUserProfile decision, and
 * what a plausible WeChat code looks like.
 */
import type { SkipUserProfile } from './options.js';

// WeChat codes are ~32 printable characters (wechat-api.md §0); anything else never came from WeChat.
export const PLAUSIBLE_CODE = /^[\x21-\x7e]{1,512}$/;

/**
 * @internal Hands a promise's outcome to callback-style code without ever leaving a rejected
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

/** @internal Evaluates `skipUserProfile` in its three forms: a boolean, `fn(token)`, `fn(token, done)`. */
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
