/**
 * `node scripts/bench/guard-cost.ts` (after `npm run build`): what the duplicate-callback guard
 * adds to one login, in isolation — the two hashes, the claim, the recorded outcome in the
 * in-memory store (kept full, as under load), the listener for a new session id — measured on
 * the build, in a loop of fresh requests; and what the store keeps per remembered login, from the
 * heap after a full collection once it holds its 10 000. The per-login figures of
 * docs/benchmarks.md are in whole logins; these are the guard alone. Re-runs itself with
 * --expose-gc.
 *
 * Env: GUARD_LOGINS (200 000 per measurement), GUARD_REPEATS (5; the median is printed).
 */
import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { envNumber, median } from './child.ts';

const collect = (globalThis as { gc?: () => void }).gc;
if (collect === undefined) {
  const child = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url)], { stdio: 'inherit' });
  process.exit(child.status ?? 1);
}

const { WeChatStrategy } = (await import(fileURLToPath(new URL('../../dist/esm/index.js', import.meta.url)))) as typeof import('passport-wechat-oauth2');
const LOGINS = envNumber('GUARD_LOGINS', 200_000);
const REPEATS = envNumber('GUARD_REPEATS', 5);

interface Guard {
  callbackOf(req: object, appId: string, code: string, state: string): object | undefined;
  claimNow(callback: object): boolean | undefined;
  finish(callback: object, outcome: object, end: () => void, req: object): void;
}
const strategy = new WeChatStrategy(
  { clientID: 'wx1f2e3d4c5b6a7980', clientSecret: 'c0ffee00c0ffee00c0ffee00c0ffee00', callbackURL: 'https://shop.example.cn/cb' },
  () => {},
);
const guard = (strategy as unknown as { _duplicates: Guard })._duplicates;
const user = { id: 'oUnion0123456789abcdefghijklmn' };
const info = { state: { returnTo: '/account' } };
let sequence = 0;

function request(): EventEmitter & { sessionID: string } {
  return Object.assign(new EventEmitter(), { sessionID: `s${++sequence}-abcdefghijklmnopqrstuvwxyz0123` });
}

/** µs per iteration of `body` over LOGINS iterations. */
function time(body: (i: number) => void): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < LOGINS; i++) body(i);
  return Number(process.hrtime.bigint() - start) / 1000 / LOGINS;
}

const bare = (): void => {
  request().emit('close');
};
const guarded = (): void => {
  const req = request(); // a fresh session id, and from its number a fresh code and state
  const callback = guard.callbackOf(req, 'wx1f2e3d4c5b6a7980', `code${sequence}0123456789abcdefghij`, `state${sequence}0123456789ab`);
  if (callback === undefined || guard.claimNow(callback) !== true) throw new Error('the claim failed');
  guard.finish(callback, { status: 'success', user, info }, () => {}, req);
  req.emit('close');
};

time(bare);
collect?.();
const heapBefore = process.memoryUsage().heapUsed;
for (let i = 0; i < 10_000; i++) guarded();
collect?.();
const bytesPerEntry = (process.memoryUsage().heapUsed - heapBefore) / 10_000;
time(guarded); // warm-up: JIT, and the store kept at its bound
const costs: number[] = [];
for (let repeat = 0; repeat < REPEATS; repeat++) costs.push(time(guarded) - time(bare));
console.log(`duplicate-callback guard: ${bytesPerEntry.toFixed(0)} bytes of heap per remembered login (${((bytesPerEntry * 10_000) / 1024 / 1024).toFixed(1)} MB at the default bound of 10 000)`);
console.log(`duplicate-callback guard: ${median(costs).toFixed(2)} µs per login (median of ${REPEATS} × ${LOGINS} logins; each ${costs.map((c) => c.toFixed(2)).join(', ')})`);
