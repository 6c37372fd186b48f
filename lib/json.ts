/**
 * WeChat's JSON without `__proto__` keys. `JSON.parse('{"__proto__":{…}}')` keeps `__proto__` as an
 * own key; an app that merges a token response or a profile's `_json` into its own objects
 * (`Object.assign`, a deep merge, lodash's `merge`) then sets a prototype or pollutes
 * `Object.prototype`. WeChat never sends such a key, so dropping it loses nothing.
 * `constructor` and `prototype` are harmless as own keys and are kept.
 */

const PROTO = '__proto__';

// A `\u` escape can spell the key without the text containing it (`"\u005f_proto__"`), so any
// escape sends the text through the reviver too. Answers with neither pay nothing.
const MAY_HOLD_PROTO = /__proto__|\\u/;

function dropProtoKey(key: string, value: unknown): unknown {
  // Returning undefined makes JSON.parse delete the key from the object that holds it.
  return key === PROTO ? undefined : value;
}

/** `JSON.parse` that leaves no `__proto__` key at any depth. Throws what `JSON.parse` throws. */
export function parseJSONWithoutProto(text: string): unknown {
  return MAY_HOLD_PROTO.test(text) ? JSON.parse(text, dropProtoKey) : JSON.parse(text);
}

/**
 * `value` itself when no object in it has an own `__proto__` key; otherwise a copy without those
 * keys (arrays and plain objects copied, anything else shared). For values that did not come
 * through {@link parseJSONWithoutProto}, e.g. a profile built by an app from its own parse.
 */
export function withoutProtoKeys<T>(value: T): T {
  return hasProtoKey(value) ? (copyWithoutProto(value, new Map()) as T) : value;
}

// Iterative, so a deeply nested answer cannot overflow the stack; `seen` stops at cycles.
function hasProtoKey(value: unknown): boolean {
  const pending: unknown[] = [value];
  const seen = new Set<object>();
  while (pending.length > 0) {
    const item = pending.pop();
    // Only what JSON makes (arrays, plain objects), as copyWithoutProto copies only those.
    if (typeof item !== 'object' || item === null || seen.has(item)) continue;
    if (!Array.isArray(item) && !isPlainObject(item)) continue;
    seen.add(item);
    if (Object.hasOwn(item, PROTO)) return true;
    // A loop, not push(...values): a huge array would pass too many arguments.
    for (const child of Object.values(item)) pending.push(child);
  }
  return false;
}

function copyWithoutProto(value: unknown, copies: Map<object, unknown>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const known = copies.get(value);
  if (known !== undefined) return known;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    copies.set(value, out);
    for (const item of value as unknown[]) out.push(copyWithoutProto(item, copies));
    return out;
  }
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  copies.set(value, out);
  for (const [key, item] of Object.entries(value)) {
    if (key === PROTO) continue;
    // defineProperty, not assignment: no setter on Object.prototype can see the value.
    Object.defineProperty(out, key, { value: copyWithoutProto(item, copies), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
