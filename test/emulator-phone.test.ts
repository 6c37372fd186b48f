/**
 * The emulator's app access token (`cgi-bin/stable_token`) and Mini Program phone numbers
 * (`wxa/business/getuserphonenumber`), at the HTTP edge: plain fetch against the emulator on
 * 127.0.0.1, its clock in the test's hands, as a strategy's client would call them.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DEMO_MINIPROGRAM_APP,
  DEMO_OFFICIAL_ACCOUNT_APP,
  DEMO_WEBSITE_APP,
  WeChatEmulator,
  type EmulatorApp,
  type WeChatEmulatorOptions,
} from '../lib/testing/index.js';

/** 2025-01-01 00:00 UTC: 08:00 in Beijing, where WeChat's days begin. */
const START = Date.UTC(2025, 0, 1);
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const RID = /, rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$/;
const MP = DEMO_MINIPROGRAM_APP;

let now = START;
const running: WeChatEmulator[] = [];
let emulator: WeChatEmulator;

async function start(options: WeChatEmulatorOptions = {}): Promise<WeChatEmulator> {
  const started = await WeChatEmulator.start({ clock: () => now, ...options });
  running.push(started);
  return started;
}

beforeEach(async () => {
  now = START;
  emulator = await start();
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((started) => started.close()));
});

interface Answer {
  status: number;
  json: Record<string, unknown>;
}

async function send(url: string, init: RequestInit): Promise<Answer> {
  const res = await fetch(url, init);
  return { status: res.status, json: JSON.parse(await res.text()) as Record<string, unknown> };
}

function postJson(url: string, body: unknown): Promise<Answer> {
  return send(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** A stable_token call as an app server makes it; `body` replaces fields of the right one. */
function stableToken(options: { force?: boolean; app?: EmulatorApp; body?: Record<string, unknown>; on?: WeChatEmulator } = {}): Promise<Answer> {
  const app = options.app ?? MP;
  const on = options.on ?? emulator;
  return postJson(on.endpoints.stableTokenURL, {
    grant_type: 'client_credential',
    appid: app.appid,
    secret: app.secret,
    force_refresh: options.force ?? false,
    ...options.body,
  });
}

/** The app token, or a failure naming the errcode instead. */
async function appToken(options: Parameters<typeof stableToken>[0] = {}): Promise<string> {
  const answer = await stableToken(options);
  if (typeof answer.json.access_token !== 'string') throw new Error(`stable_token answered ${JSON.stringify(answer.json)}`);
  return answer.json.access_token;
}

function getPhoneNumber(token: string, code: unknown, on = emulator): Promise<Answer> {
  return postJson(`${on.endpoints.phoneNumberURL}?access_token=${encodeURIComponent(token)}`, { code });
}

function phoneCode(user = 'alice', on = emulator): string {
  return on.issuePhoneCode({ appid: MP.appid, user });
}

/** The errcode of an answer, after checking it is WeChat's error shape: HTTP 200 and a rid-suffixed errmsg. */
function errcodeOf(answer: Answer): number {
  expect(answer.status).toBe(200);
  expect(answer.json.errmsg).toMatch(RID);
  return answer.json.errcode as number;
}

describe('cgi-bin/stable_token in normal mode', () => {
  it('answers the same token twice while it is valid, with the time it has left as expires_in', async () => {
    const first = await stableToken();
    expect(first.status).toBe(200);
    expect(first.json).toEqual({ access_token: expect.stringMatching(/^86_[\w-]{104}$/) as unknown, expires_in: 7200 });
    now += 10 * MINUTE;
    const second = await stableToken();
    expect(second.json).toEqual({ access_token: first.json.access_token, expires_in: 6600 });
  });

  it('hands out a new token in the last 5 minutes, and the old one works until it expires', async () => {
    const old = await appToken();
    now = START + 7200 * SECOND - 301 * SECOND;
    expect((await stableToken()).json).toEqual({ access_token: old, expires_in: 301 });
    now = START + 7200 * SECOND - 299 * SECOND;
    const renewed = await stableToken();
    expect(renewed.json.access_token).not.toBe(old);
    expect(renewed.json.expires_in).toBe(7200);
    expect((await getPhoneNumber(old, phoneCode())).json.errcode).toBe(0); // both valid meanwhile
    expect((await stableToken()).json.access_token).toBe(renewed.json.access_token); // the new one is in force

    now = START + 7200 * SECOND;
    expect(errcodeOf(await getPhoneNumber(old, phoneCode()))).toBe(42001);
    expect((await getPhoneNumber(renewed.json.access_token as string, phoneCode())).json.errcode).toBe(0);
  });

  it('hands out a new token once the old one expired', async () => {
    const old = await appToken();
    now = START + 7200 * SECOND;
    const fresh = await stableToken();
    expect(fresh.json.access_token).not.toBe(old);
    expect(fresh.json.expires_in).toBe(7200);
  });

  it('takes the lifetime from appTokenTtlSeconds, renewing in its last half when it is 10 minutes or less', async () => {
    const short = await start({ appTokenTtlSeconds: 120 });
    const first = await stableToken({ on: short });
    expect(first.json.expires_in).toBe(120);
    now += 59 * SECOND;
    expect((await stableToken({ on: short })).json).toEqual({ access_token: first.json.access_token, expires_in: 61 });
    now += 2 * SECOND;
    const renewed = await stableToken({ on: short });
    expect(renewed.json.access_token).not.toBe(first.json.access_token);
    expect(renewed.json.expires_in).toBe(120);
  });

  it('answers 45009 past the per-minute limit, without stopping a forced refresh, and serves again the next minute', async () => {
    const limited = await start({ stableTokenQuota: { perMinute: 3 } });
    const token = await appToken({ on: limited });
    await appToken({ on: limited });
    await appToken({ on: limited });
    const refused = await stableToken({ on: limited });
    expect(errcodeOf(refused)).toBe(45009);
    expect(refused.json.errmsg).toMatch(/^reach max api daily quota limit, rid: /);
    const forced = await appToken({ on: limited, force: true }); // a quota of its own
    expect(forced).not.toBe(token);
    now += MINUTE;
    expect(await appToken({ on: limited })).toBe(forced);
  });

  it('answers 45009 past the per-day limit until the next Beijing day', async () => {
    const limited = await start({ stableTokenQuota: { perDay: 2 } });
    await appToken({ on: limited });
    now += 2 * MINUTE;
    await appToken({ on: limited });
    now += 2 * MINUTE;
    expect(errcodeOf(await stableToken({ on: limited }))).toBe(45009);
    now = START + 16 * 60 * MINUTE - SECOND; // 23:59:59 in Beijing
    expect(errcodeOf(await stableToken({ on: limited }))).toBe(45009);
    now += SECOND; // midnight in Beijing
    expect(typeof (await stableToken({ on: limited })).json.access_token).toBe('string');
  });
});

describe('cgi-bin/stable_token with force_refresh: true', () => {
  it('replaces the token, and getuserphonenumber refuses the old one with 40001', async () => {
    const old = await appToken();
    const code = phoneCode();
    const forced = await stableToken({ force: true });
    expect(forced.json.access_token).not.toBe(old);
    expect(forced.json.expires_in).toBe(7200);
    expect(errcodeOf(await getPhoneNumber(old, code))).toBe(40001);
    expect((await getPhoneNumber(forced.json.access_token as string, code)).json.errcode).toBe(0); // the code was not spent by the refusal
    expect(await appToken()).toBe(forced.json.access_token); // normal mode now answers the new one
  });

  it('revokes the old token even in the last 5 minutes, when a renewal had left two valid', async () => {
    const old = await appToken();
    now = START + 7000 * SECOND;
    const renewed = await appToken();
    now += 30 * SECOND;
    const forced = await appToken({ force: true });
    expect(errcodeOf(await getPhoneNumber(old, phoneCode()))).toBe(40001);
    expect(errcodeOf(await getPhoneNumber(renewed, phoneCode()))).toBe(40001);
    expect((await getPhoneNumber(forced, phoneCode())).json.errcode).toBe(0);
  });

  it('does not refresh a call less than 30 s after the last forced refresh: the same token, still valid', async () => {
    const first = await appToken({ force: true });
    now += 29 * SECOND;
    const tooSoon = await stableToken({ force: true });
    expect(tooSoon.json).toEqual({ access_token: first, expires_in: 7200 - 29 });
    expect((await getPhoneNumber(first, phoneCode())).json.errcode).toBe(0);
    now += SECOND;
    expect(await appToken({ force: true })).not.toBe(first);
  });

  it('answers 45009 to the 21st refresh of a Beijing day, not to the calls that were too soon, and refreshes again the next day', async () => {
    const tokens = new Set<string>();
    for (let i = 0; i < 20; i += 1) {
      tokens.add(await appToken({ force: true }));
      now += 10 * SECOND;
      await appToken({ force: true }); // too soon: not a refresh, not counted
      now += 20 * SECOND;
    }
    expect(tokens.size).toBe(20);
    const refused = await stableToken({ force: true });
    expect(errcodeOf(refused)).toBe(45009);
    const inForce = await appToken(); // normal mode still answers
    expect((await getPhoneNumber(inForce, phoneCode())).json.errcode).toBe(0);
    now = START + 16 * 60 * MINUTE; // midnight in Beijing
    expect(await appToken({ force: true })).not.toBe(inForce);
  });
});

describe('cgi-bin/stable_token refusals', () => {
  it.each([
    ['a wrong secret', { secret: 'not-the-secret' }, 40125],
    ['no secret', { secret: undefined }, 41004],
    ['an unknown appid', { appid: 'wx0000000000000000' }, 40013],
    ['a website app', { appid: DEMO_WEBSITE_APP.appid, secret: DEMO_WEBSITE_APP.secret }, 40013],
    ['no appid', { appid: undefined }, 41002],
    ['grant_type authorization_code', { grant_type: 'authorization_code' }, 40002],
    ['no grant_type', { grant_type: undefined }, 40002],
  ])('answers %s with %i', async (_name, body, errcode) => {
    expect(errcodeOf(await stableToken({ body }))).toBe(errcode);
  });

  it('hands an Official Account a token of its own', async () => {
    const oa = await appToken({ app: DEMO_OFFICIAL_ACCOUNT_APP });
    expect(oa).not.toBe(await appToken());
  });

  it('refuses a GET with 43002, and a form or a body that is not JSON with 47001, as JSON with HTTP 200', async () => {
    const query = new URLSearchParams({ grant_type: 'client_credential', appid: MP.appid, secret: MP.secret });
    expect(errcodeOf(await send(`${emulator.endpoints.stableTokenURL}?${query}`, { method: 'GET' }))).toBe(43002);
    expect(errcodeOf(await send(emulator.endpoints.stableTokenURL, { method: 'POST', body: query }))).toBe(47001);
    expect(errcodeOf(await send(emulator.endpoints.stableTokenURL, { method: 'POST', body: '["client_credential"]' }))).toBe(47001);
    expect(emulator.calls.map((call) => [call.endpoint, call.method, call.errcode])).toEqual([
      ['stable_token', 'GET', 43002],
      ['stable_token', 'POST', 47001],
      ['stable_token', 'POST', 47001],
    ]);
  });

  it("honours failNext('stable_token'), then answers normally", async () => {
    emulator.failNext('stable_token', { errcode: -1 });
    const busy = await stableToken();
    expect(errcodeOf(busy)).toBe(-1);
    expect(busy.json.errmsg).toMatch(/^system error, rid: /);
    expect(typeof (await stableToken()).json.access_token).toBe('string');
    expect(emulator.calls.map((call) => call.fault)).toEqual(['errcode', undefined]);
  });
});

describe('wxa/business/getuserphonenumber', () => {
  it("answers Alice's Chinese number, with a watermark of the Mini Program and the time", async () => {
    const code = phoneCode('alice');
    expect(code).toMatch(/^[0-9a-f]{64}$/);
    now += 90 * SECOND;
    const answer = await getPhoneNumber(await appToken(), code);
    expect(answer).toEqual({
      status: 200,
      json: {
        errcode: 0,
        errmsg: 'ok',
        phone_info: {
          phoneNumber: '13800138000',
          purePhoneNumber: '13800138000',
          countryCode: '86',
          watermark: { timestamp: (START + 90 * SECOND) / SECOND, appid: MP.appid },
        },
      },
    });
  });

  it("answers Bob's US number: phoneNumber with the country code, purePhoneNumber without", async () => {
    const answer = await getPhoneNumber(await appToken(), phoneCode('bob'));
    expect(answer.json.phone_info).toMatchObject({ phoneNumber: '+14155550123', purePhoneNumber: '4155550123', countryCode: '1' });
  });

  it('answers the number a registered user was given', async () => {
    emulator.registerUser({ id: 'dave', phoneNumber: '61234567', phoneCountryCode: '852' });
    const answer = await getPhoneNumber(await appToken(), phoneCode('dave'));
    expect(answer.json.phone_info).toMatchObject({ phoneNumber: '+85261234567', purePhoneNumber: '61234567', countryCode: '852' });
  });

  it('accepts a phone code once: the second use answers 40029', async () => {
    const token = await appToken();
    const code = phoneCode();
    expect((await getPhoneNumber(token, code)).json.errcode).toBe(0);
    const again = await getPhoneNumber(token, code);
    expect(errcodeOf(again)).toBe(40029);
    expect(again.json.errmsg).toMatch(/^invalid code, rid: /);
  });

  it('answers 40029 for a phone code 5 minutes after it was given, not a moment before', async () => {
    const token = await appToken();
    const fresh = phoneCode();
    const stale = phoneCode();
    now += 5 * MINUTE - 1;
    expect((await getPhoneNumber(token, fresh)).json.errcode).toBe(0);
    now += 1;
    expect(errcodeOf(await getPhoneNumber(token, stale))).toBe(40029);
  });

  it("answers 40029 for another Mini Program's phone code, a wx.login() code and a made-up one", async () => {
    const other = emulator.registerApp({ appid: 'wx0123456789abcdee', secret: 'f'.repeat(32), kind: 'miniprogram' });
    const token = await appToken();
    const othersCode = emulator.issuePhoneCode({ appid: other.appid, user: 'alice' });
    expect(errcodeOf(await getPhoneNumber(token, othersCode))).toBe(40029);
    expect(errcodeOf(await getPhoneNumber(token, emulator.issueCode({ appid: MP.appid, user: 'alice' })))).toBe(40029);
    expect(errcodeOf(await getPhoneNumber(token, 'e31968a7f94cc5ee25fafc2aef2773f0bb8c3937b22520eb8ee345274d00c144'))).toBe(40029);
    expect((await getPhoneNumber(await appToken({ app: other }), othersCode)).json.phone_info).toMatchObject({ watermark: { appid: other.appid } });
  });

  it('answers 40001 for a token it never gave, 41001 for none, 41008 for no code', async () => {
    expect(errcodeOf(await getPhoneNumber('86_made-up', phoneCode()))).toBe(40001);
    expect(errcodeOf(await postJson(emulator.endpoints.phoneNumberURL, { code: phoneCode() }))).toBe(41001);
    expect(errcodeOf(await getPhoneNumber(await appToken(), undefined))).toBe(41008);
  });

  it("answers 48001 for an Official Account's token", async () => {
    expect(errcodeOf(await getPhoneNumber(await appToken({ app: DEMO_OFFICIAL_ACCOUNT_APP }), phoneCode()))).toBe(48001);
  });

  it('answers 42001 once expireAppToken() ends the token in the middle of a login; stable_token then gives a new one, and the code still works', async () => {
    const token = await appToken();
    const code = phoneCode();
    emulator.expireAppToken(MP.appid);
    const expired = await getPhoneNumber(token, code);
    expect(errcodeOf(expired)).toBe(42001);
    expect(expired.json.errmsg).toMatch(/^access_token expired, rid: /);
    const fresh = await appToken();
    expect(fresh).not.toBe(token);
    expect((await getPhoneNumber(fresh, code)).json.errcode).toBe(0);
  });

  it('answers 40001 once invalidateAppToken() revoked the token, as another server forcing a refresh would', async () => {
    const token = await appToken();
    emulator.invalidateAppToken(MP.appid);
    expect(errcodeOf(await getPhoneNumber(token, phoneCode()))).toBe(40001);
    expect(await appToken()).not.toBe(token);
  });

  it('refuses to expire or invalidate the token of an app that has none', () => {
    expect(() => emulator.expireAppToken(MP.appid)).toThrow(/has no app access token yet/);
    expect(() => emulator.invalidateAppToken(MP.appid)).toThrow(/has no app access token yet/);
  });

  it('refuses a GET with 43002 and a body that is not JSON with 47001', async () => {
    const token = await appToken();
    const url = `${emulator.endpoints.phoneNumberURL}?access_token=${token}`;
    expect(errcodeOf(await send(`${url}&code=${phoneCode()}`, { method: 'GET' }))).toBe(43002);
    expect(errcodeOf(await send(url, { method: 'POST', body: `code=${phoneCode()}` }))).toBe(47001);
  });

  it("honours failNext('getuserphonenumber'): the code is not spent, unless the fault comes after processing", async () => {
    const token = await appToken();
    const code = phoneCode();
    emulator.failNext('getuserphonenumber', { errcode: 45011 });
    const limited = await getPhoneNumber(token, code);
    expect(errcodeOf(limited)).toBe(45011);
    expect(limited.json.errmsg).toMatch(/^api minute-quota reach limit/);
    expect((await getPhoneNumber(token, code)).json.errcode).toBe(0);

    const spent = phoneCode();
    emulator.failNext('getuserphonenumber', { errcode: -1, afterProcessing: true });
    expect(errcodeOf(await getPhoneNumber(token, spent))).toBe(-1);
    expect(errcodeOf(await getPhoneNumber(token, spent))).toBe(40029);
  });
});

describe('phone codes and numbers: the programmable side', () => {
  it('gives phone codes only for a Mini Program and a user with a number', () => {
    expect(() => emulator.issuePhoneCode({ appid: DEMO_WEBSITE_APP.appid, user: 'alice' })).toThrow(/not a miniprogram app/);
    emulator.registerUser({ id: 'carol' });
    expect(() => emulator.issuePhoneCode({ appid: MP.appid, user: 'carol' })).toThrow(/carol has no phone number/);
    expect(() => emulator.issuePhoneCode({ appid: MP.appid, user: 'zed' })).toThrow(/no user zed/);
  });

  it('takes phone numbers as digits only, without the country code', () => {
    expect(() => emulator.registerUser({ id: 'x', phoneNumber: '+86 13800138000' })).toThrow(/phoneNumber takes 4 to 15 digits/);
    expect(() => emulator.registerUser({ id: 'x', phoneNumber: '13800138000', phoneCountryCode: '+86' })).toThrow(/phoneCountryCode takes 1 to 4 digits/);
    expect(emulator.registerUser({ id: 'x', phoneNumber: '13800138000' })).toMatchObject({ phoneNumber: '13800138000', phoneCountryCode: '86' });
    expect(emulator.registerUser({ id: 'y' }).phoneNumber).toBeNull();
  });

  it('takes the phone code lifetime from codeTtlSeconds.phone', async () => {
    const quick = await start({ codeTtlSeconds: { phone: 10 } });
    const token = await appToken({ on: quick });
    const code = phoneCode('alice', quick);
    now += 10 * SECOND;
    expect(errcodeOf(await getPhoneNumber(token, code, quick))).toBe(40029);
  });

  it('forgets app tokens, their quotas and phone codes on reset()', async () => {
    const limited = await start({ stableTokenQuota: { perMinute: 1 } });
    const token = await appToken({ on: limited });
    const code = phoneCode('alice', limited);
    limited.reset();
    const fresh = await appToken({ on: limited }); // the minute's quota started afresh
    expect(fresh).not.toBe(token);
    expect(errcodeOf(await getPhoneNumber(token, phoneCode('alice', limited), limited))).toBe(40001);
    expect(errcodeOf(await getPhoneNumber(fresh, code, limited))).toBe(40029);
  });
});

describe('the call log of the app-token endpoints', () => {
  it('names stable_token and getuserphonenumber and redacts the secret, the access token and the phone code', async () => {
    const token = await appToken();
    const code = phoneCode();
    await getPhoneNumber(token, code);
    const [tokenCall, phoneCall] = emulator.calls;
    expect(tokenCall).toMatchObject({
      endpoint: 'stable_token',
      method: 'POST',
      path: '/cgi-bin/stable_token',
      query: {},
      body: { grant_type: 'client_credential', appid: MP.appid, secret: '[redacted]', force_refresh: false },
      status: 200,
    });
    expect(phoneCall).toMatchObject({
      endpoint: 'getuserphonenumber',
      method: 'POST',
      path: '/wxa/business/getuserphonenumber',
      query: { access_token: '[redacted]' },
      body: { code: '[redacted]' },
      status: 200,
      errcode: 0,
    });
    const everything = JSON.stringify(emulator.calls);
    for (const secret of [MP.secret, token, code]) expect(everything).not.toContain(secret);
  });

  it('redacts secrets in any letter case and at any depth of a posted body, and keeps no body that is not JSON', async () => {
    await postJson(emulator.endpoints.stableTokenURL, { appid: MP.appid, SECRET: MP.secret, nested: { Code: 'c0de-1', list: [{ access_token: 't0ken-1' }] } });
    await send(emulator.endpoints.stableTokenURL, { method: 'POST', body: `secret=${MP.secret}` });
    expect(emulator.calls[0]?.body).toEqual({ appid: MP.appid, SECRET: '[redacted]', nested: { Code: '[redacted]', list: [{ access_token: '[redacted]' }] } });
    expect(emulator.calls[1]?.body).toBeUndefined();
    const everything = JSON.stringify(emulator.calls);
    for (const secret of [MP.secret, 'c0de-1', 't0ken-1']) expect(everything).not.toContain(secret);
  });
});

describe('miniProgramStrategyOptions()', () => {
  it('points the strategy at the app token and phone number endpoints too', () => {
    expect(emulator.miniProgramStrategyOptions(MP.appid)).toMatchObject({
      stableTokenURL: `${emulator.url}/cgi-bin/stable_token`,
      phoneNumberURL: `${emulator.url}/wxa/business/getuserphonenumber`,
    });
  });
});
