/**
 * `npm run bench:trace`: one fresh app process per implementation, its CPU per login second by
 * second — first at concurrency 32, then one login at a time — with the share that ran on helper
 * threads (V8's concurrent GC and compiler, libuv's pool) beside it. What it shows on a shared
 * machine: consecutive seconds of the same process doing the same work differ by 20 % and more,
 * which is why the 5 % targets are judged on many short paired phases, not on a few rounds
 * (docs/benchmarks.md).
 *
 * Env: TRACE_IMPLS ("ours,minimal"), TRACE_WARMUP_SECONDS (4, at concurrency 32), TRACE_SLICES
 * (6 per concurrency), TRACE_REPEATS (1), BENCH_STATE (1: express-session and state; default 1),
 * and the bench app's own (BENCH_NO_DUPLICATE_GUARD, BENCH_GUARD_MAX_ENTRIES).
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import type { Implementation } from './app.ts';
import { makeCertificates } from './certs.ts';
import { envNumber, startChild } from './child.ts';
import { drive } from './drive.ts';
import { fileSpecifier } from './footprint.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const IMPLEMENTATIONS = (process.env.TRACE_IMPLS ?? 'ours,minimal').split(',') as Implementation[];
const WARMUP_SECONDS = envNumber('TRACE_WARMUP_SECONDS', 4);
const SLICES = envNumber('TRACE_SLICES', 6);
const REPEATS = envNumber('TRACE_REPEATS', 1);
const WITH_STATE = (process.env.BENCH_STATE ?? '1') === '1';

const snapshot = join(ROOT, '.tmp', `bench-package-${process.pid}`);
mkdirSync(join(ROOT, '.tmp'), { recursive: true });
cpSync(join(ROOT, 'dist/esm'), snapshot, { recursive: true });
const certDir = mkdtempSync(join(tmpdir(), 'wechat-bench-'));
const certs = makeCertificates(certDir, 'ec');
const stub = await startChild(fileURLToPath(new URL('./stub.ts', import.meta.url)), { env: { ...process.env, STUB_TLS_KEY: certs.key, STUB_TLS_CERT: certs.cert } });
try {
  console.log(`trace: per login in consecutive 1 s slices: µs of app CPU / of it on helper threads / kB allocated on the JS heap; ${WITH_STATE ? 'with' : 'without'} state`);
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    for (const name of IMPLEMENTATIONS) {
      const env: NodeJS.ProcessEnv = { ...process.env, BENCH_STUB_URL: String(stub.ready.url), BENCH_CA: certs.ca, BENCH_PACKAGE: fileSpecifier(join(snapshot, 'index.js')), BENCH_STATE: WITH_STATE ? '1' : '0' };
      // The peers use Node's https, which reads extra CAs at start-up only (as in run.ts).
      if (name !== 'minimal') env.NODE_EXTRA_CA_CERTS = certs.ca;
      const app = await startChild(fileURLToPath(new URL('./app.ts', import.meta.url)), { args: [name], env });
      const pool = new Pool(String(app.ready.url), { connections: 32, keepAliveTimeout: 60_000 });
      try {
        await drive(pool, 32, WARMUP_SECONDS, WITH_STATE);
        for (const concurrency of [32, 1]) {
          const slices: string[] = [];
          for (let slice = 0; slice < SLICES; slice++) {
            await app.ask('mark');
            const driven = await drive(pool, concurrency, 1, WITH_STATE);
            const usage = await app.ask<{ cpuMicros: number; mainThreadCpuMicros: number; allocatedBytes: number }>('usage');
            if (driven.failures > 0) throw new Error(`${name}: ${driven.failures} logins failed, first: ${driven.firstFailure}`);
            const logins = Math.max(1, driven.logins);
            slices.push(`${(usage.cpuMicros / logins).toFixed(0)}/${((usage.cpuMicros - usage.mainThreadCpuMicros) / logins).toFixed(0)}/${(usage.allocatedBytes / logins / 1024).toFixed(1)}`);
          }
          console.log(`  ${name.padEnd(16)} c${String(concurrency).padEnd(3)} ${slices.join('  ')}`);
        }
      } finally {
        await pool.close();
        await app.stop();
      }
    }
  }
} finally {
  await stub.stop();
  rmSync(snapshot, { recursive: true, force: true });
  rmSync(certDir, { recursive: true, force: true });
}
