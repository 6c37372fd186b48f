/**
 * The emulator against WeChat's own examples: each doc-*.json fixture is an answer printed on a
 * WeChat doc page (test/fixtures/README.md gives the page and section). The emulator's answer for
 * the same endpoint must have the same keys with the same JSON types; where it differs on purpose
 * (an undocumented field developers see, a field the doc prints but WeChat does not send), the
 * difference is named here and in the README, so any other drift fails.
 *
 * The client's side (it parses these same fixtures) is in test/client.test.ts.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseProfile } from '../lib/profile.js';
import { DEMO_MINIPROGRAM_APP, DEMO_OFFICIAL_ACCOUNT_APP, DEMO_WEBSITE_APP, WeChatEmulator, type EmulatorApp } from '../lib/testing/index.js';

const WEB = DEMO_WEBSITE_APP;
const OA = DEMO_OFFICIAL_ACCOUNT_APP;
const MP = DEMO_MINIPROGRAM_APP;
const CALLBACK = 'http://localhost:3000/auth/wechat/callback';

/** A WeChat doc example, parsed. */
function documented(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;
}

/** Each key with its JSON type: `'string'`, `'number'`, `'array'`, `'object'`, … */
function shapeOf(json: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(json).map(([key, value]) => [key, Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value]));
}

/** A shape without some keys: what WeChat's doc says is sent only in some cases. */
function without(shape: Record<string, string>, ...keys: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(shape).filter(([key]) => !keys.includes(key)));
}

let emulator: WeChatEmulator;

beforeEach(async () => {
  emulator = await WeChatEmulator.start();
});
afterEach(async () => {
  await emulator.close();
});

/** GETs an sns endpoint and parses the body whatever its Content-Type, as WeChat's clients must. */
async function api(url: string, params: Record<string, string>): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}?${new URLSearchParams(params)}`);
  expect(res.status).toBe(200);
  return JSON.parse(await res.text()) as Record<string, unknown>;
}

/** The authorize URL in WeChat's order, as the strategy builds it. */
function authorizeUrl(page: string, appid: string, scope: string): string {
  return `${page}?${new URLSearchParams({ appid, redirect_uri: CALLBACK, response_type: 'code', scope, state: 'st4te' })}#wechat_redirect`;
}

/** Logs `user` in on the app's page (the user confirms), and exchanges the code: the token answer. */
async function login(app: EmulatorApp, scope: string, user = 'alice'): Promise<Record<string, unknown>> {
  const page = app.kind === 'official-account' ? emulator.endpoints.officialAccountAuthorizationURL : emulator.endpoints.authorizationURL;
  const outcome = emulator.authorize(authorizeUrl(page, app.appid, scope), { user });
  if (outcome.type !== 'redirect' || outcome.code === undefined) throw new Error(`no code: ${outcome.type}`);
  return api(emulator.endpoints.tokenURL, { appid: app.appid, secret: app.secret, code: outcome.code, grant_type: 'authorization_code' });
}

describe('sns/oauth2/access_token: the emulator answers in the shape of WeChat\'s examples', () => {
  it('gives a website login the keys and types of the website doc (doc-website-access-token.json)', async () => {
    expect(shapeOf(await login(WEB, 'snsapi_login'))).toEqual(shapeOf(documented('doc-website-access-token.json')));
  });

  it('gives an Official Account snapshot-page user the keys and types of the OA example (doc-oa-access-token.json)', async () => {
    emulator.registerUser({ id: 'snap', nickname: '微信用户', snapshot: true });
    expect(shapeOf(await login(OA, 'snsapi_userinfo', 'snap'))).toEqual(shapeOf(documented('doc-oa-access-token.json')));
  });

  it('leaves is_snapshotuser out for a real user, as the OA doc says ("只有当用户是快照页模式虚拟账号时返回")', async () => {
    expect(shapeOf(await login(OA, 'snsapi_userinfo'))).toEqual(without(shapeOf(documented('doc-oa-access-token.json')), 'is_snapshotuser'));
  });

  it('leaves unionid out of a snsapi_base token too, as the OA doc says ("只有当scope为snsapi_userinfo时返回")', async () => {
    expect(shapeOf(await login(OA, 'snsapi_base'))).toEqual(without(shapeOf(documented('doc-oa-access-token.json')), 'is_snapshotuser', 'unionid'));
  });

  it("answers an unknown code with the doc's error: the same keys, errcode 40029 and its errmsg plus WeChat's rid", async () => {
    const answer = await api(emulator.endpoints.tokenURL, { appid: WEB.appid, secret: WEB.secret, code: 'CODE', grant_type: 'authorization_code' });
    const doc = documented('doc-website-access-token-error-40029.json');
    expect(shapeOf(answer)).toEqual(shapeOf(doc));
    expect(answer.errcode).toBe(doc.errcode);
    expect(answer.errmsg).toMatch(new RegExp(`^${String(doc.errmsg)}, rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$`));
  });
});

describe('sns/oauth2/refresh_token', () => {
  it('answers with the keys and types of the refresh doc, no unionid (doc-oa-refresh-token.json)', async () => {
    const token = await login(WEB, 'snsapi_login');
    const refreshed = await api(emulator.endpoints.refreshTokenURL, { appid: WEB.appid, grant_type: 'refresh_token', refresh_token: String(token.refresh_token) });
    expect(shapeOf(refreshed)).toEqual(shapeOf(documented('doc-oa-refresh-token.json')));
  });

  it("answers an unknown refresh token with the doc's 40030 (doc-website-refresh-token-error-40030.json)", async () => {
    const answer = await api(emulator.endpoints.refreshTokenURL, { appid: WEB.appid, grant_type: 'refresh_token', refresh_token: 'REFRESH_TOKEN' });
    const doc = documented('doc-website-refresh-token-error-40030.json');
    expect(shapeOf(answer)).toEqual(shapeOf(doc));
    expect(answer.errcode).toBe(doc.errcode);
    expect(String(answer.errmsg).startsWith(`${String(doc.errmsg)}, rid: `)).toBe(true);
  });
});

describe('sns/userinfo', () => {
  async function profile(): Promise<Record<string, unknown>> {
    const token = await login(WEB, 'snsapi_login');
    return api(emulator.endpoints.userProfileURL, { access_token: String(token.access_token), openid: String(token.openid) });
  }

  it.each(['doc-website-userinfo.json', 'doc-oa-userinfo.json'])('has every key of %s, with the same types', async (name) => {
    const answer = shapeOf(await profile());
    const doc = shapeOf(documented(name));
    expect(Object.fromEntries(Object.keys(doc).map((key) => [key, answer[key]]))).toEqual(doc);
  });

  it('adds one key the docs do not list, language, which real answers carry (protocol notes §6)', async () => {
    const answer = await profile();
    const extra = Object.keys(answer).filter((key) => !(key in documented('doc-website-userinfo.json')));
    expect(extra).toEqual(['language']);
    expect(answer.language).toBe('');
  });

  it("answers another user's openid with the doc's 40003 (doc-website-userinfo-error-40003.json)", async () => {
    const token = await login(WEB, 'snsapi_login');
    const answer = await api(emulator.endpoints.userProfileURL, { access_token: String(token.access_token), openid: emulator.openidFor(WEB.appid, 'bob') });
    const doc = documented('doc-website-userinfo-error-40003.json');
    expect(shapeOf(answer)).toEqual(shapeOf(doc));
    expect(answer.errcode).toBe(doc.errcode);
    expect(String(answer.errmsg).startsWith(`${String(doc.errmsg)}, rid: `)).toBe(true);
  });

  it('answers a snsapi_base token with 48001, as api_snsuserinfo §4 says ("否则会返回 48001 的报错")', async () => {
    const token = await login(OA, 'snsapi_base');
    const answer = await api(emulator.endpoints.userProfileURL, { access_token: String(token.access_token), openid: String(token.openid) });
    expect(answer).toEqual({ errcode: 48001, errmsg: expect.stringMatching(/^api unauthorized, rid: /) as unknown });
  });
});

describe('sns/auth', () => {
  it('answers a valid token exactly as the doc does (doc-auth-ok.json)', async () => {
    const token = await login(WEB, 'snsapi_login');
    const answer = await api(emulator.endpoints.checkTokenURL, { access_token: String(token.access_token), openid: String(token.openid) });
    expect(answer).toEqual(documented('doc-auth-ok.json'));
  });

  it("answers another openid with the doc's invalid-token answer, plus WeChat's rid (doc-auth-error-40003.json)", async () => {
    const token = await login(WEB, 'snsapi_login');
    const answer = await api(emulator.endpoints.checkTokenURL, { access_token: String(token.access_token), openid: 'OPENID' });
    const doc = documented('doc-auth-error-40003.json');
    expect(shapeOf(answer)).toEqual(shapeOf(doc));
    expect(answer.errcode).toBe(doc.errcode);
    expect(String(answer.errmsg).startsWith(`${String(doc.errmsg)}, rid: `)).toBe(true);
  });
});

describe('sns/jscode2session (code2Session)', () => {
  const session = (jsCode: string) => api(emulator.endpoints.sessionURL, { appid: MP.appid, secret: MP.secret, js_code: jsCode, grant_type: 'authorization_code' });

  it("has the doc example's keys and types, without the errcode and errmsg the doc prints but WeChat sends only on failure", async () => {
    const answer = await session(emulator.issueCode({ appid: MP.appid, user: 'alice' }));
    expect(shapeOf(answer)).toEqual(without(shapeOf(documented('doc-code2session.json')), 'errcode', 'errmsg'));
  });

  it("answers a high-risk user with the doc table's 40226 'code blocked' (doc-code2session-error-40226.json)", async () => {
    emulator.registerUser({ id: 'mallory', highRisk: true });
    const answer = await session(emulator.issueCode({ appid: MP.appid, user: 'mallory' }));
    const doc = documented('doc-code2session-error-40226.json');
    expect(shapeOf(answer)).toEqual(shapeOf(doc));
    expect(answer.errcode).toBe(doc.errcode);
    expect(String(answer.errmsg).startsWith(`${String(doc.errmsg)}, rid: `)).toBe(true);
  });
});

describe("the profile of WeChat's documented userinfo", () => {
  it("trims the website doc's unionid, printed with a leading space, so it matches the token's", () => {
    const json = documented('doc-website-userinfo.json');
    const profile = parseProfile(json, { openid: 'OPENID', unionid: 'o6_bmasdasdsad6_2sgVt7hMZOPfL' });
    expect(profile).toMatchObject({ id: 'o6_bmasdasdsad6_2sgVt7hMZOPfL', unionid: 'o6_bmasdasdsad6_2sgVt7hMZOPfL', openid: 'OPENID' });
  });

  it("maps the Official Account doc's profile: https avatar with its size suffix, gender, region and privileges", () => {
    const profile = parseProfile(documented('doc-oa-userinfo.json'), { openid: 'OPENID' });
    expect(profile).toMatchObject({
      provider: 'wechat',
      displayName: 'NICKNAME',
      gender: 'male',
      country: 'COUNTRY',
      province: 'PROVINCE',
      city: 'CITY',
      privilege: ['PRIVILEGE1', 'PRIVILEGE2'],
    });
    expect(profile.photos?.[0].value).toMatch(/^https:\/\/thirdwx\.qlogo\.cn\/mmopen\/g3MonUZ\w+\/46$/);
  });
});
