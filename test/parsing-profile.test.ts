/**
 * The profile at its edges: sex sent as text, avatars in other schemes, the `_json` of a profile
 * built from the token alone, and what is kept or dropped from `_json` so that an app can merge
 * it safely — including values an app builds itself (a Date, an object without a prototype, a
 * cycle) and hands to parseProfile.
 */
import { describe, expect, it } from 'vitest';
import { parseProfile, profileFromToken } from '../lib/profile.js';

const OPENID = 'oRrdQt2LF0SpCODdV4KhLuEoPgwg';
const UNIONID = 'oU5Yyt8X-WpQeBsNFS4HuvmDwEhs';

/** An object with an own `__proto__` key, as `JSON.parse` makes it from WeChat's text. */
function withOwnProto(json: string): Record<string, unknown> {
  const parsed = JSON.parse(json) as Record<string, unknown>;
  expect(Object.hasOwn(parsed, '__proto__')).toBe(true);
  return parsed;
}

describe('gender from sex', () => {
  it.each([
    ['"1"', '1', 'male'],
    ['"2"', '2', 'female'],
    ['" 2 "', ' 2 ', 'female'],
  ])('reads sex sent as the text %s', (_case, sex, gender) => {
    expect(parseProfile({ openid: OPENID, sex }).gender).toBe(gender);
  });

  it.each([
    ['true', true],
    ['[1]', [1]],
    ['"0"', '0'],
  ])('gives no gender for sex %s', (_case, sex) => {
    expect(parseProfile({ openid: OPENID, sex })).not.toHaveProperty('gender');
  });
});

describe('the avatar', () => {
  it.each(['ftp://thirdwx.qlogo.cn/mmopen/vi_32/Q0j4TwGTfTK/132', 'ws://thirdwx.qlogo.cn/mmopen/vi_32/Q0j4TwGTfTK/132'])(
    'is dropped, not rewritten to https, when its URL is %s',
    (headimgurl) => {
      expect(parseProfile({ openid: OPENID, headimgurl })).not.toHaveProperty('photos');
    },
  );
});

describe('profileFromToken', () => {
  it('gives _json exactly the token identity, unionid included', () => {
    const profile = profileFromToken({ openid: OPENID, unionid: UNIONID });

    expect(profile._json).toStrictEqual({ openid: OPENID, unionid: UNIONID });
  });

  it('gives _json no unionid key at all when the token has none', () => {
    const profile = profileFromToken({ openid: OPENID });

    expect(profile._json).toStrictEqual({ openid: OPENID });
    expect(Object.keys(profile._json)).toEqual(['openid']);
  });
});

describe('_json, safe to merge', () => {
  it('drops a prototype key holding an object', () => {
    const profile = parseProfile(JSON.parse(`{"openid":"${OPENID}","prototype":{"polluted":1}}`));

    expect(Object.hasOwn(profile._json, 'prototype')).toBe(false);
    expect(profile._json).toEqual({ openid: OPENID });
  });

  it('keeps constructor and prototype fields that hold null: no merge walks into them', () => {
    const json = JSON.parse(`{"openid":"${OPENID}","constructor":null,"prototype":null}`) as Record<string, unknown>;

    const profile = parseProfile(json);

    expect(profile._json).toBe(json);
    expect(Object.hasOwn(profile._json, 'constructor')).toBe(true);
    expect(Object.hasOwn(profile._json, 'prototype')).toBe(true);
  });

  it('drops a __proto__ key found only in a nested object', () => {
    const profile = parseProfile(JSON.parse(`{"openid":"${OPENID}","extra":{"__proto__":{"polluted":1},"kept":true}}`));

    expect(Object.hasOwn(profile._json.extra as object, '__proto__')).toBe(false);
    expect(profile._json.extra).toEqual({ kept: true });
  });

  it('drops a __proto__ key from an object without a prototype that the app built', () => {
    const bare = Object.create(null) as Record<string, unknown>;
    bare['__proto__'] = { polluted: 1 };
    bare.kept = true;

    const profile = parseProfile({ openid: OPENID, extra: bare });

    expect(Object.hasOwn(profile._json.extra as object, '__proto__')).toBe(false);
    expect(profile._json.extra).toEqual({ kept: true });
  });

  it('shares a value that is neither an array nor a plain object (a Date) when it copies the rest', () => {
    const seenAt = new Date(0);
    const json = withOwnProto(`{"openid":"${OPENID}","__proto__":{"polluted":1}}`);
    json.seenAt = seenAt;

    const profile = parseProfile(json, undefined, '{}');

    expect(profile._json).not.toBe(json);
    expect(profile._json.seenAt).toBe(seenAt);
  });

  it('leaves the copy an ordinary object the app can edit and delete fields of', () => {
    const profile = parseProfile(withOwnProto(`{"openid":"${OPENID}","nickname":"Ann","city":"Shenzhen","__proto__":{"polluted":1}}`));

    profile._json.nickname = 'Bo';
    delete profile._json.city;

    expect(profile._json).toEqual({ openid: OPENID, nickname: 'Bo' });
  });

  it('hands back a cyclic value that holds no dangerous key as it is', () => {
    const json: Record<string, unknown> = { openid: OPENID, nickname: 'Ann' };
    json.self = json;

    const profile = parseProfile(json, undefined, '{}');

    expect(profile._json).toBe(json);
  });

  it('copies a cyclic value that holds a __proto__ key into a copy with the same cycle', () => {
    const json = withOwnProto(`{"openid":"${OPENID}","__proto__":{"polluted":1}}`);
    json.self = json;

    const profile = parseProfile(json, undefined, '{}');

    expect(Object.hasOwn(profile._json, '__proto__')).toBe(false);
    expect(profile._json.self).toBe(profile._json);
  });
});
