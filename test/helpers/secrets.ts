/**
 * Asserts that an error shows no secret in any of the ways it can reach a log or an HTTP answer.
 */
import { inspect } from 'node:util';
import { expect } from 'vitest';

/** Every text a logger may print for `value`: message, stack, JSON and a deep inspect with causes. */
export function renderings(value: unknown): Record<string, string> {
  const error = value as { message?: unknown; stack?: unknown };
  return {
    message: String(error?.message),
    stack: String(error?.stack),
    'String()': String(value),
    'JSON.stringify': JSON.stringify(value) ?? '',
    'util.inspect': inspect(value, { depth: 10, showHidden: true }),
  };
}

/**
 * Fails when any secret (or its URL-encoded form, as it appears in a request URL) shows up in
 * `err.message`, `err.stack`, `String(err)`, `JSON.stringify(err)` or
 * `util.inspect(err, { depth: 10, showHidden: true })`.
 */
export function expectNoSecrets(err: unknown, secrets: readonly string[]): void {
  expect(err, 'expected an Error to inspect').toBeInstanceOf(Error);
  for (const secret of secrets) {
    // A short "secret" would match by chance and prove nothing.
    expect(secret.length, `secret "${secret}" is too short to search for`).toBeGreaterThanOrEqual(8);
    for (const [where, text] of Object.entries(renderings(err))) {
      for (const form of new Set([secret, encodeURIComponent(secret)])) {
        expect(text.includes(form), `${where} shows the secret ${form.slice(0, 6)}…`).toBe(false);
      }
    }
  }
}
