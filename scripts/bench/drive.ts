/**
 * Driving logins at a benchmark app (scripts/bench/app.ts) over loopback HTTP/1.1 keep-alive, and
 * checking every answer: HTTP 200 with the right user's unionid, or the login counts as failed.
 *
 * Without state, a login is one request: the callback with a fresh code. With state (the app runs
 * express-session and checks a nonce), a login is what a browser does: start the login (no
 * cookie: a new visitor), take the session cookie and the state out of the redirect to WeChat,
 * then send the callback with both.
 */
import type { Pool } from 'undici';
import { stubCode, stubIds } from './stub.ts';

const USERS = 10_000;
let serial = 0;

export interface Driven {
  logins: number;
  failures: number;
  /** Milliseconds per successful login, start of the login to the answer of its callback. */
  latencies: number[];
  seconds: number;
  firstFailure?: string;
}

async function callback(pool: Pool, path: string, cookie: string | undefined, user: number): Promise<string | undefined> {
  const response = await pool.request({ method: 'GET', path, headers: cookie ? { cookie } : {} });
  const body = (await response.body.json()) as { id?: string; error?: string };
  if (response.statusCode !== 200 || body.id !== stubIds(user).unionid) return `HTTP ${response.statusCode}: ${JSON.stringify(body)}`;
  return undefined;
}

/** One login; resolves with why it failed, or undefined. */
async function login(pool: Pool, withState: boolean): Promise<string | undefined> {
  const mine = serial++;
  const user = mine % USERS;
  const code = stubCode(mine, user);
  if (!withState) return callback(pool, `/auth/wechat/callback?code=${code}`, undefined, user);
  const start = await pool.request({ method: 'GET', path: '/auth/wechat' });
  await start.body.dump();
  const location = String(start.headers.location ?? '');
  const state = /[?&]state=([^&#]+)/.exec(location)?.[1];
  const setCookie = start.headers['set-cookie'];
  const cookie = (Array.isArray(setCookie) ? setCookie : [setCookie ?? '']).map((line) => line.split(';')[0]).join('; ');
  if (start.statusCode !== 302 || !state || !cookie) return `login start: HTTP ${start.statusCode}, location ${location}`;
  return callback(pool, `/auth/wechat/callback?code=${code}&state=${state}`, cookie, user);
}

/** Runs `concurrency` login loops for `seconds`. */
export async function drive(pool: Pool, concurrency: number, seconds: number, withState: boolean): Promise<Driven> {
  const latencies: number[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  const started = performance.now();
  const stopAt = started + seconds * 1000;
  const worker = async (): Promise<void> => {
    while (performance.now() < stopAt) {
      const t = performance.now();
      let failed: string | undefined;
      try {
        failed = await login(pool, withState);
      } catch (error) {
        failed = String(error);
      }
      if (failed !== undefined) {
        failures += 1;
        firstFailure ??= failed;
        continue;
      }
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { logins: latencies.length, failures, latencies, seconds: (performance.now() - started) / 1000, ...(firstFailure ? { firstFailure } : {}) };
}
