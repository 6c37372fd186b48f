/**
 * Soak: up to 100k full logins through `WeChatStrategy.authenticate()`, driven the way Passport
 * drives it (a fresh `Object.create(strategy)` per request, both legs: redirect with the state
 * nonce into a session, then the callback), against a stateless WeChat stub in a child process.
 * After every batch the heap is measured after a full GC; the run fails (exit 1) when the heap
 * grew by more than the bound after warm-up: nothing the strategy (or its HTTP client) keeps may
 * grow with the number of logins.
 *
 *   npm run soak                     # build, then this script
 *   node scripts/soak.ts             # with a build already in dist/
 *
 * Env: SOAK_LOGINS (100000), SOAK_MINUTES (10, a hard stop), SOAK_BATCH (10000 logins between
 * samples), SOAK_WARMUP (20000), SOAK_CONCURRENCY (16), SOAK_MAX_GROWTH_MB (4),
 * SOAK_INJECT_LEAK=1 (keeps every profile: proves the check fails when something does grow).
 */
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import type { Request } from 'express';
import { WeChatStrategy, type WeChatProfile } from 'passport-wechat-oauth2';
import { envNumber, startChild, table } from './bench/child.ts';
import { STUB_APPID, STUB_SECRET, stubCode, stubIds } from './bench/stub.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (typeof gc !== 'function') {
  // Re-run with --expose-gc: a heap figure means little without a full collection first.
  const result = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exit(result.status ?? 1);
}

const LOGINS = envNumber('SOAK_LOGINS', 100_000);
const MINUTES = envNumber('SOAK_MINUTES', 10);
const BATCH = envNumber('SOAK_BATCH', 10_000);
const WARMUP = envNumber('SOAK_WARMUP', 20_000);
const CONCURRENCY = envNumber('SOAK_CONCURRENCY', 16);
const MAX_GROWTH_MB = envNumber('SOAK_MAX_GROWTH_MB', 4);
const INJECT_LEAK = process.env.SOAK_INJECT_LEAK === '1';
const USERS = 5_000;
const MiB = 1024 * 1024;

type Outcome = { action: 'redirect'; url: string } | { action: 'success'; user: unknown } | { action: 'fail' | 'error' | 'pass'; detail: unknown };

/** One request, as Passport runs it: a per-request delegate with the four actions attached. */
function authenticate(strategy: WeChatStrategy, req: Record<string, unknown>): Promise<Outcome> {
  return new Promise((resolve) => {
    const delegate = Object.create(strategy) as WeChatStrategy & Record<string, unknown>;
    delegate.redirect = (url: string) => resolve({ action: 'redirect', url });
    delegate.success = (user: unknown) => resolve({ action: 'success', user });
    delegate.fail = (detail: unknown) => resolve({ action: 'fail', detail });
    delegate.error = (detail: unknown) => resolve({ action: 'error', detail });
    delegate.pass = () => resolve({ action: 'pass', detail: undefined });
    delegate.authenticate({ headers: { host: 'app.example.com' }, ...req } as unknown as Request, {});
  });
}

const leaked: unknown[] = [];

async function login(strategy: WeChatStrategy, serial: number): Promise<void> {
  const user = serial % USERS;
  const session: Record<string, unknown> = {};
  const start = await authenticate(strategy, { query: {}, session, url: '/auth/wechat' });
  if (start.action !== 'redirect') throw new Error(`login ${serial}: the first leg ended in ${start.action}`);
  const state = new URL(start.url).searchParams.get('state') ?? '';
  const code = stubCode(serial, user);
  const done = await authenticate(strategy, { query: { code, state }, session, url: `/auth/wechat/callback?code=${code}&state=${state}` });
  if (done.action !== 'success') throw new Error(`login ${serial}: ended in ${done.action}: ${String((done as { detail?: unknown }).detail)}`);
  const id = (done.user as { id: string }).id;
  if (id !== stubIds(user).unionid) throw new Error(`login ${serial}: logged in ${id}, expected ${stubIds(user).unionid}`);
}

async function settle(): Promise<void> {
  for (let i = 0; i < 4; i++) {
    gc?.();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

interface Sample {
  logins: number;
  seconds: number;
  rate: number;
  heapMB: number;
  heapTotalMB: number;
  externalMB: number;
  rssMB: number;
}

async function main(): Promise<number> {
  const stub = await startChild(fileURLToPath(new URL('./bench/stub.ts', import.meta.url)));
  const base = String(stub.ready.url);
  const strategy = new WeChatStrategy(
    {
      clientID: STUB_APPID,
      clientSecret: STUB_SECRET,
      callbackURL: 'https://app.example.com/auth/wechat/callback',
      tokenURL: `${base}/sns/oauth2/access_token`,
      userProfileURL: `${base}/sns/userinfo`,
      timeout: 5_000,
    },
    (_accessToken, _refreshToken, profile: WeChatProfile, done) => {
      if (INJECT_LEAK) leaked.push(profile);
      done(null, { id: profile.id });
    },
  );

  const deadline = Date.now() + MINUTES * 60_000;
  const started = Date.now();
  const samples: Sample[] = [];
  let next = 0;
  let failure: unknown;
  console.log(`soak: up to ${LOGINS} logins (stop after ${MINUTES} min), ${CONCURRENCY} in flight, heap sampled after GC every ${BATCH}` +
    `${INJECT_LEAK ? ' — SOAK_INJECT_LEAK=1: every profile is kept on purpose' : ''}`);
  await settle();
  const first = process.memoryUsage();
  samples.push({ logins: 0, seconds: 0, rate: 0, heapMB: first.heapUsed / MiB, heapTotalMB: first.heapTotal / MiB, externalMB: first.external / MiB, rssMB: first.rss / MiB });

  while (next < LOGINS && Date.now() < deadline && failure === undefined) {
    const batchEnd = Math.min(LOGINS, next + BATCH);
    const batchStarted = Date.now();
    const batchFirst = next;
    const worker = async (): Promise<void> => {
      while (next < batchEnd && failure === undefined && Date.now() < deadline) {
        const serial = next++;
        await login(strategy, serial).catch((error: unknown) => {
          failure ??= error;
        });
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const rate = (next - batchFirst) / ((Date.now() - batchStarted) / 1000);
    await settle();
    const memory = process.memoryUsage();
    samples.push({
      logins: next,
      seconds: (Date.now() - started) / 1000,
      rate,
      heapMB: memory.heapUsed / MiB,
      heapTotalMB: memory.heapTotal / MiB,
      externalMB: memory.external / MiB,
      rssMB: memory.rss / MiB,
    });
    const last = samples.at(-1) as Sample;
    console.log(`  ${String(last.logins).padStart(7)} logins  ${last.seconds.toFixed(1).padStart(6)} s  heap ${last.heapMB.toFixed(2)} MB`);
  }
  const stats = await stub.ask<{ stats: Record<string, number> }>('stats');
  await stub.stop();

  const baseline = [...samples].reverse().find((sample) => sample.logins <= WARMUP && sample.logins > 0) ?? samples[1] ?? samples[0];
  const after = samples.filter((sample) => baseline !== undefined && sample.logins > baseline.logins);
  const worst = Math.max(0, ...after.map((sample) => sample.heapMB - (baseline?.heapMB ?? 0)));
  const slope = slopeBytesPerLogin(after);

  console.log('');
  console.log(
    table(
      ['logins', 'elapsed s', 'logins/s (batch)', 'heap after GC MB', 'Δ heap vs warm-up MB', 'heap total MB', 'external MB', 'rss MB'],
      samples.map((sample) => [
        sample.logins,
        sample.seconds.toFixed(1),
        sample.logins === 0 ? '—' : Math.round(sample.rate),
        sample.heapMB.toFixed(2),
        baseline && sample.logins > baseline.logins ? (sample.heapMB - baseline.heapMB).toFixed(2) : sample === baseline ? '(warm-up baseline)' : '—',
        sample.heapTotalMB.toFixed(1),
        sample.externalMB.toFixed(2),
        sample.rssMB.toFixed(1),
      ]),
    ),
  );
  console.log('');
  console.log(`stub: ${stats.stats.tokenCalls} token calls, ${stats.stats.userinfoCalls} userinfo calls, ${stats.stats.connections} connections, ${stats.stats.errors} errcode answers`);
  console.log(`heap growth after warm-up (${baseline?.logins ?? 0} logins): worst ${worst.toFixed(2)} MB (bound ${MAX_GROWTH_MB} MB), ` +
    `trend ${slope.toFixed(1)} bytes/login`);

  if (failure !== undefined) {
    console.error(`soak: FAILED, a login did not succeed: ${failure instanceof Error ? failure.message : String(failure)}`);
    return 1;
  }
  if (after.length === 0) {
    console.error(`soak: FAILED, stopped before any sample after the ${WARMUP}-login warm-up (raise SOAK_MINUTES or lower SOAK_WARMUP).`);
    return 1;
  }
  if (worst > MAX_GROWTH_MB) {
    console.error(`soak: FAILED, the heap grew by ${worst.toFixed(2)} MB after warm-up (bound ${MAX_GROWTH_MB} MB).`);
    return 1;
  }
  console.log(`soak: OK, ${next} logins, heap flat after warm-up.`);
  return 0;
}

/** Least-squares slope of heap over logins, in bytes per login. */
function slopeBytesPerLogin(samples: readonly Sample[]): number {
  if (samples.length < 2) return 0;
  const xs = samples.map((sample) => sample.logins);
  const ys = samples.map((sample) => sample.heapMB * MiB);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
    den += ((xs[i] as number) - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

process.exitCode = await main();
