/**
 * Drives a strategy the way Passport does: a fresh Object.create(strategy) per request, with the
 * four actions attached, and resolves with whichever action the strategy took.
 */
import type { Request } from 'express';
import type { Strategy } from 'passport-strategy';
import { expect } from 'vitest';

export type Outcome =
  | { action: 'redirect'; url: string; status: number | undefined }
  | { action: 'success'; user: unknown; info: unknown }
  | { action: 'fail'; challenge: unknown; status: number | undefined }
  | { action: 'error'; error: Error }
  | { action: 'pass' };

export interface FakeRequest {
  query?: Record<string, unknown>;
  body?: unknown;
  headers?: Record<string, string | string[]>;
  session?: Record<string, unknown>;
  url?: string;
  app?: { get(name: string): unknown };
  socket?: { encrypted?: boolean };
}

export function authenticate(strategy: Strategy, req: FakeRequest, options: Record<string, unknown> = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const delegate = Object.create(strategy) as Strategy & Record<string, unknown>;
    delegate.redirect = (url: string, status?: number) => resolve({ action: 'redirect', url, status });
    delegate.success = (user: unknown, info?: unknown) => resolve({ action: 'success', user, info });
    delegate.fail = (challenge?: unknown, status?: number) =>
      resolve({ action: 'fail', challenge, status: typeof challenge === 'number' ? challenge : status });
    delegate.error = (error: Error) => resolve({ action: 'error', error });
    delegate.pass = () => resolve({ action: 'pass' });
    const returned: unknown = delegate.authenticate({ headers: { host: 'example.com' }, url: '/', ...req } as unknown as Request, options);
    if (returned !== undefined) throw new Error('authenticate() must return undefined, not a promise');
  });
}

/** A session that already holds the state nonce, as after the redirect leg. */
export function sessionWithState(state: string, key = 'oauth2:open.weixin.qq.com'): Record<string, unknown> {
  return { [key]: { state } };
}

/** The error of an outcome that must be Passport's `error` action. */
export function errorOf(outcome: Outcome): Error {
  expect(outcome.action).toBe('error');
  return (outcome as Extract<Outcome, { action: 'error' }>).error;
}
