/**
 * WeChat's JSON without `__proto__` keys. `JSON.parse('{"__proto__":{…}}')` keeps `__proto__` as an
 * own key; an app that merges a token response or a profile's `_json` into its own objects
 * (`Object.assign`, a deep merge, lodash's `merge`) then sets a prototype or pollutes
 * `Object.prototype`. WeChat never sends such a key, so dropping it loses nothing.
 * `constructor` and `prototype` go too when they hold an object: a deep merge walks them into
 * `Object.prototype` as well.
 */

// A `\u` escape can spell a key without the text containing it (`"\u005f_proto__"`), so an
// escape of an underscore or a lower-case ASCII letter (`\u005f`…`\u007a`, any case of hex) sends
// the text through the reviver too. Other escapes (a nickname's emoji, `\ud83d\ude00`) cannot
// spell those keys, and answers with neither pay nothing.
const MAY_HOLD_DANGER = /__proto__|constructor|prototype|\\u00[5-7]/;

/**
 * Keys a merge walks into the prototype chain: `__proto__` always, and `constructor` or
 * `prototype` holding an object (`{"constructor":{"prototype":{…}}}` pollutes through a naive
 * deep merge, as in lodash's CVE-2019-10744). WeChat sends none of them.
 */
function isDangerous(key: string, value: unknown): boolean {
  if (key === '__proto__') return true;
  return (key === 'constructor' || key === 'prototype') && typeof value === 'object' && value !== null;
}

function dropDangerous(key: string, value: unknown): unknown {
  // Returning undefined makes JSON.parse delete the key from the object that holds it.
  return isDangerous(key, value) ? undefined : value;
}

/** `JSON.parse` that leaves no prototype-polluting key at any depth. Throws what `JSON.parse` throws. */
export function parseJSONWithoutProto(text: string): unknown {
  return MAY_HOLD_DANGER.test(text) ? JSON.parse(text, dropDangerous) : JSON.parse(text);
}

/**
 * `value` itself when nothing in it holds a prototype-polluting key; otherwise a copy without
 * those keys (arrays and plain objects copied, anything else shared). For values that did not
 * come through {@link parseJSONWithoutProto}, e.g. a profile built by an app from its own parse.
 */
export function withoutProtoKeys<T>(value: T): T {
  return hasDangerousKey(value) ? (copyWithoutDangerousKeys(value) as T) : value;
}

/** The arrays and plain objects JSON makes: the only values walked and copied. */
function isContainer(value: unknown): value is unknown[] | Record<string, unknown> {
  return typeof value === 'object' && value !== null && (Array.isArray(value) || isPlainObject(value));
}

// Iterative, so a deeply nested value cannot overflow the stack; `seen` stops at cycles.
function hasDangerousKey(value: unknown): boolean {
  const pending: unknown[] = [value];
  const seen = new Set<object>();
  while (pending.length > 0) {
    const item = pending.pop();
    if (!isContainer(item) || seen.has(item)) continue;
    seen.add(item);
    for (const [key, child] of Object.entries(item)) {
      if (!Array.isArray(item) && isDangerous(key, child)) return true;
      // One push at a time: a huge array would pass too many arguments to push(...values).
      pending.push(child);
    }
  }
  return false;
}

// Iterative too: each container gets its empty copy first, then a work list fills it in.
function copyWithoutDangerousKeys(value: unknown): unknown {
  const copies = new Map<object, unknown[] | Record<string, unknown>>();
  const work: Array<[unknown[] | Record<string, unknown>, unknown[] | Record<string, unknown>]> = [];
  const copyOf = (item: unknown): unknown => {
    if (!isContainer(item)) return item;
    const known = copies.get(item);
    if (known !== undefined) return known;
    const empty: unknown[] | Record<string, unknown> = Array.isArray(item) ? [] : {};
    copies.set(item, empty);
    work.push([item, empty]);
    return empty;
  };
  const root = copyOf(value);
  while (work.length > 0) {
    const [source, target] = work.pop() as [unknown[] | Record<string, unknown>, unknown[] | Record<string, unknown>];
    if (Array.isArray(source)) {
      for (const item of source) (target as unknown[]).push(copyOf(item));
      continue;
    }
    for (const [key, item] of Object.entries(source)) {
      if (isDangerous(key, item)) continue;
      // defineProperty, not assignment: no setter on Object.prototype can see the value.
      Object.defineProperty(target, key, { value: copyOf(item), enumerable: true, writable: true, configurable: true });
    }
  }
  return root;
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
