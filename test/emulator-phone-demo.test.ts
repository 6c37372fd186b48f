/**
 * The demo's "Sign in with phone number" on /miniprogram, with supertest and the emulator: the
 * button on the phone, the demo-only stand-in for WeChat's phone-number button
 * (`POST /demo/emulator/phone-code`) and the sign-in with `{ code, phoneCode }`.
 * (The examples import the built package: run `npm run build` first.)
 */
import { DEMO_MINIPROGRAM_APP, DEMO_WEBSITE_APP, WeChatEmulator } from 'passport-wechat-oauth2/testing';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../examples/express/app.ts';
import { emulatorSimulator } from '../examples/express/server.ts';

const MP = DEMO_MINIPROGRAM_APP;
let emulator: WeChatEmulator;

beforeAll(async () => {
  emulator = await WeChatEmulator.start();
});
afterEach(() => emulator.reset());
afterAll(() => emulator.close());

/** The demo as `npm run demo` builds it with the emulator, Mini Program and phone stand-ins included. */
function buildAppWithPhone() {
  return createApp({
    strategy: { ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid), callbackURL: 'http://localhost:3000/auth/wechat/callback' },
    sessionSecret: 'test session secret',
    miniProgram: emulator.miniProgramStrategyOptions(MP.appid),
    simulator: emulatorSimulator(emulator),
  });
}

/** The simulator's options, as the page's script reads them. */
function simulatorOptionsIn(html: string): Record<string, unknown> {
  const json = /<script type="application\/json" id="simulator-options">([^<]*)<\/script>/.exec(html)?.[1];
  if (json === undefined) throw new Error('no simulator-options element on the page');
  return JSON.parse(json) as Record<string, unknown>;
}

/** What the app server does with a phone code: the app token, then getuserphonenumber. */
async function exchangePhoneCode(phoneCode: string): Promise<Record<string, unknown>> {
  const tokenAnswer = await fetch(emulator.endpoints.stableTokenURL, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credential', appid: MP.appid, secret: MP.secret }),
  });
  const { access_token: token } = JSON.parse(await tokenAnswer.text()) as { access_token: string };
  const answer = await fetch(`${emulator.endpoints.phoneNumberURL}?access_token=${token}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code: phoneCode }),
  });
  return JSON.parse(await answer.text()) as Record<string, unknown>;
}

describe('the demo: Sign in with phone number', () => {
  it('puts the button on the phone next to wx.login(), with the route of the phone code and the field to post it in', async () => {
    const page = (await request(buildAppWithPhone()).get('/miniprogram').expect(200)).text;
    expect(page).toContain('data-testid="wx-login">wx.login()</button><button type="button" id="phone" data-testid="phone-login">Sign in with phone number</button>');
    expect(simulatorOptionsIn(page)).toMatchObject({ route: '/auth/wechat/miniprogram', phoneCode: '/demo/emulator/phone-code', phoneCodeField: 'phoneCode' });
    expect(page).toContain("$('phone')?.addEventListener('click'");
  });

  it("hands out a phone code of the demo Mini Program that WeChat's getuserphonenumber exchanges once, for Alice's number", async () => {
    const answer = await request(buildAppWithPhone()).post('/demo/emulator/phone-code').send({ user: 'alice' }).expect(200);
    const phoneCode = (answer.body as { phoneCode: string }).phoneCode;
    expect(phoneCode).toMatch(/^[0-9a-f]{64}$/);
    expect(await exchangePhoneCode(phoneCode)).toMatchObject({ errcode: 0, phone_info: { phoneNumber: '13800138000', watermark: { appid: MP.appid } } });
    expect((await exchangePhoneCode(phoneCode)).errcode).toBe(40029);
  });

  it('refuses a phone code for a user without a phone number, or an unknown one', async () => {
    emulator.registerUser({ id: 'carol' });
    const app = buildAppWithPhone();
    expect((await request(app).post('/demo/emulator/phone-code').send({ user: 'carol' }).expect(400)).body).toEqual({
      code: 'DEMO_BAD_REQUEST',
      message: expect.stringMatching(/carol has no phone number/) as unknown,
    });
    expect((await request(app).post('/demo/emulator/phone-code').send({ user: 'zed' }).expect(400)).body.message).toMatch(/no user zed/);
  });

  it('signs Alice in when the phone posts { code, phoneCode }, her unionid as id', async () => {
    const app = buildAppWithPhone();
    const code = ((await request(app).post('/demo/emulator/wx-login').send({ user: 'alice' }).expect(200)).body as { code: string }).code;
    const phoneCode = ((await request(app).post('/demo/emulator/phone-code').send({ user: 'alice' }).expect(200)).body as { phoneCode: string }).phoneCode;
    const response = await request(app).post('/auth/wechat/miniprogram').send({ code, phoneCode }).expect(200);
    expect(response.body.user).toMatchObject({ id: emulator.unionidFor('alice'), openid: emulator.openidFor(MP.appid, 'alice'), appid: MP.appid, phoneNumber: '+8613800138000' });
    expect(emulator.calls.map((call) => call.endpoint)).toEqual(expect.arrayContaining(['jscode2session', 'stable_token', 'getuserphonenumber']));
  });

  it("signs Bob in with his number outside China, and Alice without one when she posts no phone code (phoneNumber: 'optional')", async () => {
    const app = buildAppWithPhone();
    const bobCode = ((await request(app).post('/demo/emulator/wx-login').send({ user: 'bob' }).expect(200)).body as { code: string }).code;
    const bobPhone = ((await request(app).post('/demo/emulator/phone-code').send({ user: 'bob' }).expect(200)).body as { phoneCode: string }).phoneCode;
    expect((await request(app).post('/auth/wechat/miniprogram').send({ code: bobCode, phoneCode: bobPhone }).expect(200)).body.user.phoneNumber).toBe('+14155550123');

    const aliceCode = ((await request(app).post('/demo/emulator/wx-login').send({ user: 'alice' }).expect(200)).body as { code: string }).code;
    expect((await request(app).post('/auth/wechat/miniprogram').send({ code: aliceCode }).expect(200)).body.user.phoneNumber).toBeUndefined();
  });

  it('refreshes the app token once when it expired between two sign-ins, and still gives the number', async () => {
    const app = buildAppWithPhone();
    const signIn = async () => {
      const code = ((await request(app).post('/demo/emulator/wx-login').send({ user: 'alice' }).expect(200)).body as { code: string }).code;
      const phoneCode = ((await request(app).post('/demo/emulator/phone-code').send({ user: 'alice' }).expect(200)).body as { phoneCode: string }).phoneCode;
      return (await request(app).post('/auth/wechat/miniprogram').send({ code, phoneCode }).expect(200)).body.user as { phoneNumber?: string };
    };
    expect((await signIn()).phoneNumber).toBe('+8613800138000');
    emulator.expireAppToken(MP.appid);

    expect((await signIn()).phoneNumber).toBe('+8613800138000');
    const phoneCalls = emulator.calls.filter((call) => call.endpoint === 'getuserphonenumber' || call.endpoint === 'stable_token').map((call) => call.endpoint);
    expect(phoneCalls).toEqual(['stable_token', 'getuserphonenumber', 'getuserphonenumber', 'stable_token', 'getuserphonenumber']);
  });

  it('shows the getPhoneNumber button code with real credentials', async () => {
    const app = createApp({
      strategy: { ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid), callbackURL: 'http://localhost:3000/auth/wechat/callback' },
      sessionSecret: 's',
      miniProgram: { clientID: 'wx1f2e3d4c5b6a7981', clientSecret: 'c0ffee00c0ffee00c0ffee00c0ffee01' },
    });
    const page = (await request(app).get('/miniprogram').set('Host', 'api.example.com').expect(200)).text;
    expect(page).toContain('&lt;button open-type=&quot;getPhoneNumber&quot; bindgetphonenumber=&quot;onPhone&quot;&gt;');
    expect(page).toContain('data: { code, phoneCode }');
    await request(app).post('/demo/emulator/phone-code').send({ user: 'alice' }).expect(404);
  });
});
