/**
 * Asserts that an error shows no secret in any of the ways it can reach a log or an HTTP answer.
 */
import { inspect } from 'node:util';
import { expect } from 'vitest';
import { WeChatError } from '../../lib/errors.js';

/** Every text a logger may print for `value`: message, stack, JSON and a deep inspect with causes. */
export function renderings(value: unknown): Record<string, string> {
  const error = value as { message?: unknown; stack?: unknown };
  return {
    message: String(error?.message),
    stack: String(error?.stack),
    'String()': String(value),
    'JSON.stringify': JSON.stringify(value) ?? '',
    // maxStringLength: by default inspect cuts strings at 10,000 characters, and a secret past that
    // point would go unseen.
    'util.inspect': inspect(value, { depth: 10, showHidden: true, maxStringLength: Infinity, maxArrayLength: Infinity }),
  };
}

/**
 * Every string reachable from `value`, at any depth and length: property names and values of every
 * own property (non-enumerable and symbol-keyed too, getters read), causes, array items, Map and
 * Set entries, and bytes (Buffers, typed arrays) as text. What a logger with its own serializer
 * could find, whatever it chooses to print.
 */
export function reachableStrings(value: unknown): string[] {
  const strings: string[] = [];
  const pending: unknown[] = [value];
  const seen = new Set<object>();
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item === 'string') strings.push(item);
    if (typeof item !== 'object' || item === null || seen.has(item)) continue;
    seen.add(item);
    if (ArrayBuffer.isView(item)) {
      strings.push(Buffer.from(item.buffer, item.byteOffset, item.byteLength).toString('latin1'));
      continue;
    }
    if (item instanceof Map || item instanceof Set) for (const entry of item.entries()) pending.push(...entry);
    for (const key of Reflect.ownKeys(item)) {
      strings.push(String(key));
      pending.push(ownValue(item, key));
    }
  }
  return strings;
}

function ownValue(object: object, key: string | symbol): unknown {
  const descriptor = Object.getOwnPropertyDescriptor(object, key);
  if (descriptor === undefined) return undefined;
  if (!descriptor.get) return descriptor.value;
  try {
    return Reflect.get(object, key);
  } catch {
    return undefined;
  }
}

/** A secret as it may show: as is, and URL-encoded the ways a request URL or a tool writes it. */
function formsOf(secret: string): Set<string> {
  return new Set([secret, encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString().slice(2)]);
}

/**
 * Fails when any secret (or its URL-encoded form, as it appears in a request URL) shows up in
 * `err.message`, `err.stack`, `String(err)`, `JSON.stringify(err)`,
 * `util.inspect(err, { depth: 10, showHidden: true })` without its length limit, or in any string
 * reachable from the error through its own properties and causes ({@link reachableStrings}).
 */
export function expectNoSecrets(err: unknown, secrets: readonly string[]): void {
  expect(err, 'expected an Error to inspect').toBeInstanceOf(Error);
  expectNoSecretsIn(err, secrets);
}

/**
 * {@link expectNoSecrets} for any value, not only an Error: what Passport is handed (a `fail`
 * challenge, a whole outcome), or anything an app may log.
 */
export function expectNoSecretsIn(value: unknown, secrets: readonly string[]): void {
  const reachable = reachableStrings(value);
  for (const secret of secrets) {
    // A short "secret" would match by chance and prove nothing.
    expect(secret.length, `secret "${secret}" is too short to search for`).toBeGreaterThanOrEqual(8);
    for (const form of formsOf(secret)) {
      for (const [where, text] of Object.entries(renderings(value))) {
        expect(text.includes(form), `${where} shows the secret ${form.slice(0, 6)}…`).toBe(false);
      }
      const found = reachable.find((text) => text.includes(form));
      expect(found === undefined, `a property reachable from it holds the secret ${form.slice(0, 6)}… (in ${found?.length} characters)`).toBe(true);
    }
  }
}

/**
 * Awaits a call that must fail with a WeChatError, checks with {@link expectNoSecrets} that the
 * error shows none of `secrets`, and returns it.
 */
export async function rejectionWithoutSecrets(call: Promise<unknown>, secrets: readonly string[]): Promise<WeChatError> {
  let caught: unknown;
  try {
    await call;
  } catch (error) {
    caught = error;
  }
  expect(caught, 'the call should have failed').toBeInstanceOf(WeChatError);
  expectNoSecrets(caught, secrets);
  return caught as WeChatError;
}
