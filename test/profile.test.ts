import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WeChatResponseError } from '../lib/errors.js';
import { parseProfile, profileFromToken } from '../lib/profile.js';

/** A recorded WeChat body: the exact text, and its parsed JSON. */
function fixture(name: string): { raw: string; json: Record<string, unknown> } {
  const raw = readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
  return { raw, json: JSON.parse(raw) as Record<string, unknown> };
}

const OPENID = 'oRrdQt2LF0SpCODdV4KhLuEoPgwg';
const UNIONID = 'oU5Yyt8X-WpQeBsNFS4HuvmDwEhs';

const tokenWithUnionid = fixture('token-with-unionid.json').json as { openid: string; unionid: string } & Record<string, unknown>;
const tokenWithoutUnionid = fixture('token-without-unionid.json').json as { openid: string } & Record<string, unknown>;

describe('parseProfile', () => {
  describe('with the documented (pre-2021) userinfo', () => {
    const { raw, json } = fixture('userinfo-documented.json');
    const profile = parseProfile(json, { openid: OPENID, unionid: UNIONID }, raw);

    it('uses the unionid as the id and keeps both ids', () => {
      expect(profile.provider).toBe('wechat');
      expect(profile.id).toBe(UNIONID);
      expect(profile.openid).toBe(OPENID);
      expect(profile.unionid).toBe(UNIONID);
    });

    it('keeps the nickname, emoji included, as displayName', () => {
      expect(profile.displayName).toBe('张三 🐼');
    });

    it('maps sex 1 to male', () => {
      expect(profile.gender).toBe('male');
    });

    it('keeps the region fields WeChat filled in', () => {
      expect(profile.country).toBe('中国');
      expect(profile.province).toBe('广东');
      expect(profile.city).toBe('深圳');
    });

    it('serves the http avatar over https and keeps its /132 size suffix', () => {
      expect(profile.photos).toEqual([
        {
          value:
            'https://thirdwx.qlogo.cn/mmopen/vi_32/Q0j4TwGTfTKxUHiaQAZNSPYcGkmZ3ib1xbdCSpXhEkLdzXdOVialbDOPOiaKFKnfNv3ksf9WYeO6R0UqiaVJ0mOEAsw/132',
        },
      ]);
    });

    it('keeps the privileges', () => {
      expect(profile.privilege).toEqual(['chinaunicom']);
    });

    it('keeps the body byte for byte as _raw, escaped slashes included, and the parsed body as _json', () => {
      expect(profile._raw).toBe(raw);
      expect(profile._raw).toContain('http:\\/\\/thirdwx.qlogo.cn');
      expect(profile._json).toEqual(JSON.parse(raw));
      expect(profile._json.language).toBe('zh_CN');
    });
  });

  it('maps sex 2 to female and keeps an https avatar exactly as sent', () => {
    const { json } = fixture('userinfo-documented-female.json');

    const profile = parseProfile(json);

    expect(profile.gender).toBe('female');
    expect(profile.photos).toEqual([
      {
        value:
          'https://thirdwx.qlogo.cn/mmopen/g3MonUZtNHkdmzicIlibx6iaFqAc56vxLSUfpb6n5WKSYVY0ChQKkiaJSgQ1dZuTOgvLLrhJbERQQ4eMsv84eavHiaiceqxibJxCfHe/46',
      },
    ]);
  });

  describe('with the userinfo WeChat sends since 2021-10-20', () => {
    const { raw, json } = fixture('userinfo-2021.json');

    it('gives no gender for sex 0', () => {
      const profile = parseProfile(json, { openid: OPENID }, raw);

      expect(profile).not.toHaveProperty('gender');
    });

    it('leaves out the empty country, province and city', () => {
      const profile = parseProfile(json, { openid: OPENID }, raw);

      expect(profile).not.toHaveProperty('country');
      expect(profile).not.toHaveProperty('province');
      expect(profile).not.toHaveProperty('city');
    });

    it('uses the openid as the id when neither answer has a unionid', () => {
      const profile = parseProfile(json, { openid: OPENID }, raw);

      expect(profile.id).toBe(OPENID);
      expect(profile).not.toHaveProperty('unionid');
      expect(JSON.stringify(profile)).not.toContain('"undefined"');
    });

    it('keeps a unionid known only from the token response, and uses it as the id', () => {
      const profile = parseProfile(json, { openid: OPENID, unionid: UNIONID }, raw);

      expect(profile.id).toBe(UNIONID);
      expect(profile.unionid).toBe(UNIONID);
      expect(profile.openid).toBe(OPENID);
    });

    it('turns an empty privilege list into an empty array', () => {
      expect(parseProfile(json, { openid: OPENID }, raw).privilege).toEqual([]);
    });

    it('serves the avatar over https with its /132 suffix', () => {
      expect(parseProfile(json, { openid: OPENID }, raw).photos).toEqual([
        {
          value:
            'https://thirdwx.qlogo.cn/mmopen/vi_32/DYAIOgq83eoT4ykBRmoicfZ5w1ZqLgZ7HhwAVGJwOmNKnL9OaDKX7Yw1sRicOx8EzwpXwzib0ibxzWdZiaU4mDGtHQQ/132',
        },
      ]);
    });
  });

  it('gives no photos when the user has no avatar (empty headimgurl)', () => {
    const { json } = fixture('userinfo-2021-no-avatar.json');

    const profile = parseProfile(json, { openid: OPENID });

    expect(profile).not.toHaveProperty('photos');
  });

  it('drops privilege entries that are not strings', () => {
    const { json } = fixture('userinfo-2021.json');

    const profile = parseProfile({ ...json, privilege: ['chinaunicom', 7, null, { name: 'x' }, ['y']] }, { openid: OPENID });

    expect(profile.privilege).toEqual(['chinaunicom']);
  });

  it('gives an empty privilege list when privilege is not an array', () => {
    const { json } = fixture('userinfo-2021.json');

    expect(parseProfile({ ...json, privilege: 'chinaunicom' }).privilege).toEqual([]);
  });

  it('refuses a userinfo answer for another openid than the token (it would log in the wrong person)', () => {
    const { json } = fixture('userinfo-documented-female.json');

    expect(() => parseProfile(json, { openid: OPENID, unionid: UNIONID })).toThrow(WeChatResponseError);
  });

  it('refuses a userinfo answer for another unionid than the token (it would log in the wrong person)', () => {
    const { json } = fixture('userinfo-documented.json');

    const parse = () => parseProfile({ ...json, unionid: 'oU5Yyt8X-SomebodyElse0000000' }, { openid: OPENID, unionid: UNIONID });

    expect(parse).toThrow(WeChatResponseError);
    expect(parse).toThrow(
      expect.objectContaining({ code: 'WECHAT_MALFORMED_RESPONSE', message: 'WeChat userinfo is for another unionid than the access token.' }),
    );
  });

  it('accepts the same unionid in both answers, padding aside, and a unionid in only one of them', () => {
    const { json } = fixture('userinfo-documented.json');

    expect(parseProfile({ ...json, unionid: ` ${UNIONID} ` }, { openid: OPENID, unionid: UNIONID }).id).toBe(UNIONID);
    expect(parseProfile({ ...json, unionid: '' }, { openid: OPENID, unionid: UNIONID }).id).toBe(UNIONID);
    expect(parseProfile({ ...json, unionid: UNIONID }, { openid: OPENID, unionid: '' }).id).toBe(UNIONID);
  });

  it('keeps no __proto__ key in _json at any depth, nor a constructor holding an object, and leaves a string constructor alone', () => {
    const raw = `{"openid":"${OPENID}","__proto__":{"polluted":1},"tags":[{"__proto__":{"polluted":2}},{"constructor":"kept"}],"constructor":{"prototype":{"polluted":3}}}`;
    const json = JSON.parse(raw) as Record<string, unknown>;
    expect(Object.hasOwn(json, '__proto__')).toBe(true);

    const profile = parseProfile(json, { openid: OPENID }, raw);

    expect(Object.hasOwn(profile._json, '__proto__')).toBe(false);
    expect(Object.hasOwn((profile._json.tags as object[])[0] ?? {}, '__proto__')).toBe(false);
    expect(Object.hasOwn(profile._json, 'constructor')).toBe(false);
    expect((profile._json.tags as object[])[1]).toEqual({ constructor: 'kept' });
    expect(profile._raw).toBe(raw);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('uses the token openid when userinfo carries none', () => {
    const { json } = fixture('userinfo-2021.json');
    const { openid: _dropped, ...withoutOpenid } = json;

    const profile = parseProfile(withoutOpenid, { openid: OPENID });

    expect(profile.openid).toBe(OPENID);
    expect(profile.id).toBe(OPENID);
  });

  it('refuses userinfo with no openid when none is known from the token', () => {
    let caught: unknown;
    try {
      parseProfile({ nickname: 'Wang', sex: 0 });
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(WeChatResponseError);
    expect((caught as WeChatResponseError).code).toBe('WECHAT_MALFORMED_RESPONSE');
  });

  it.each([
    ['null', null],
    ['an array', [{ openid: OPENID }]],
    ['a number', 40029],
    ['a string', '{"openid":"oRrdQt2LF0SpCODdV4KhLuEoPgwg"}'],
    ['a boolean', true],
    ['undefined', undefined],
  ])('refuses %s with a WeChatResponseError, never a TypeError', (_what, value) => {
    let caught: unknown;
    try {
      parseProfile(value, { openid: OPENID });
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(WeChatResponseError);
    expect(caught).not.toBeInstanceOf(TypeError);
    expect((caught as WeChatResponseError).code).toBe('WECHAT_MALFORMED_RESPONSE');
  });

  it('never makes "undefined" a unionid when the token says unionid: undefined', () => {
    const { json } = fixture('userinfo-2021.json');

    const profile = parseProfile(json, { openid: OPENID, unionid: undefined });

    expect(profile).not.toHaveProperty('unionid');
    expect(profile.id).toBe(OPENID);
  });

  it('ignores a unionid that is not a non-empty string', () => {
    const { json } = fixture('userinfo-2021.json');

    for (const unionid of ['', '   ', null, 0, {}]) {
      const profile = parseProfile({ ...json, unionid }, { openid: OPENID });
      expect(profile).not.toHaveProperty('unionid');
      expect(profile.id).toBe(OPENID);
    }
  });

  it('gives an empty displayName when WeChat sends no nickname', () => {
    const { json } = fixture('userinfo-2021.json');
    const { nickname: _dropped, ...withoutNickname } = json;

    expect(parseProfile(withoutNickname).displayName).toBe('');
  });

  it('drops an avatar that is not an http(s) URL', () => {
    const { json } = fixture('userinfo-2021.json');

    expect(parseProfile({ ...json, headimgurl: 'javascript:alert(1)' })).not.toHaveProperty('photos');
    expect(parseProfile({ ...json, headimgurl: 'not a url' })).not.toHaveProperty('photos');
  });

  it('serializes _raw from the JSON when no raw body is given', () => {
    const { json } = fixture('userinfo-2021.json');

    const profile = parseProfile(json);

    expect(profile._raw).toBe(JSON.stringify(json));
    expect(profile._json).toBe(json);
  });
});

describe('profileFromToken', () => {
  it('builds the profile from a token response with a unionid', () => {
    const profile = profileFromToken(tokenWithUnionid);

    expect(profile.provider).toBe('wechat');
    expect(profile.id).toBe(UNIONID);
    expect(profile.openid).toBe(OPENID);
    expect(profile.unionid).toBe(UNIONID);
    expect(profile.displayName).toBe('');
    expect(profile.privilege).toEqual([]);
    expect(profile._raw).toBe('');
    expect(profile).not.toHaveProperty('photos');
    expect(profile).not.toHaveProperty('gender');
  });

  it('uses the openid as the id when the token response has no unionid, never "undefined"', () => {
    const profile = profileFromToken(tokenWithoutUnionid);

    expect(profile.id).toBe(OPENID);
    expect(profile).not.toHaveProperty('unionid');
    expect(JSON.stringify(profile)).not.toContain('undefined');
  });

  it('copies no token into the profile', () => {
    const profile = profileFromToken(tokenWithUnionid);
    const shown = JSON.stringify(profile);

    expect(shown).not.toContain(tokenWithUnionid.access_token as string);
    expect(shown).not.toContain(tokenWithUnionid.refresh_token as string);
  });
});

describe('parseProfile avatars on a loopback host (the local emulator playing the avatar host)', () => {
  it.each(['http://127.0.0.1:41234/mmopen/vi_32/abc/132', 'http://localhost:3000/mmopen/vi_32/abc/132', 'http://[::1]:8080/mmopen/vi_32/abc/132'])(
    'keeps %s as http, which is what that host serves',
    (url) => {
      expect(parseProfile({ openid: 'o1', headimgurl: url }).photos).toEqual([{ value: url }]);
    },
  );

  it('still rewrites an http avatar on any other host to https', () => {
    expect(parseProfile({ openid: 'o1', headimgurl: 'http://127.0.0.1.example.com/a/132' }).photos).toEqual([{ value: 'https://127.0.0.1.example.com/a/132' }]);
  });

  it('gives no avatar for a loopback URL that is neither http nor https', () => {
    expect(parseProfile({ openid: 'o1', headimgurl: 'ftp://127.0.0.1/a/132' })).not.toHaveProperty('photos');
  });
});
