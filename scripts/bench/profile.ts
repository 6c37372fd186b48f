/**
 * `npm run bench:profile`: where a login's CPU time goes. Runs one implementation of the benchmark
 * (scripts/bench/app.ts) against the HTTPS WeChat stub, warms it up, then records V8's sampling
 * profile (what `node --cpu-prof` records) over a measured phase only, and prints self time
 * grouped by who owns the code (this package, undici, passport-oauth2, Express, Node's TLS/HTTP,
 * GC, …) and the top functions. The profile is kept in .tmp/bench/ for Chrome DevTools.
 *
 *   npm run bench:profile                     # ours, no state, concurrency 32
 *   BENCH_PROFILE_IMPL=minimal BENCH_STATE=1 BENCH_CONCURRENCY=1 npm run bench:profile
 *
 * Env: BENCH_PROFILE_IMPL (ours | minimal | passport-oauth2 | passport-wechat; default ours),
 * BENCH_STATE (1: express-session and a state nonce, two requests per login), BENCH_CONCURRENCY
 * (32), BENCH_WARMUP_SECONDS (3), BENCH_PROFILE_SECONDS (6), BENCH_PROFILE_INTERVAL_US (100),
 * BENCH_PROFILE_TOP (25).
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import type { Implementation } from './app.ts';
import { makeCertificates } from './certs.ts';
import { envNumber, startChild, table, type Child } from './child.ts';
import { drive } from './drive.ts';
import { fileSpecifier } from './footprint.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const IMPLEMENTATION = (process.env.BENCH_PROFILE_IMPL ?? 'ours') as Implementation;
const WITH_STATE = process.env.BENCH_STATE === '1';
const CONCURRENCY = envNumber('BENCH_CONCURRENCY', 32);
const WARMUP_SECONDS = envNumber('BENCH_WARMUP_SECONDS', 3);
const SECONDS = envNumber('BENCH_PROFILE_SECONDS', 6);
const TOP = envNumber('BENCH_PROFILE_TOP', 25);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Who owns a frame's code, by its script URL. */
export function ownerOf(url: string, functionName: string): string {
  if (url === '') {
    if (functionName === '(garbage collector)') return 'V8: garbage collector';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'V8: (program)';
    return 'V8 builtins (JSON, RegExp, …)';
  }
  if (/bench-package-\d+\/|\/dist\/esm\//.test(url)) return 'passport-wechat-oauth2 (this)';
  if (url.includes('/scripts/bench/')) return 'bench app (verify, routes)';
  const module = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];
  if (module) {
    if (module === 'undici') return 'undici';
    if (module === 'passport-oauth2' || module === 'oauth') return 'passport-oauth2 + node-oauth';
    if (module === 'passport' || module === 'passport-strategy') return 'passport';
    if (module === 'express-session' || module === 'uid-safe' || module === 'cookie' || module === 'cookie-signature' || module === 'on-headers') return 'express-session';
    if (module.startsWith('passport-wechat') || module === 'wechat-oauth' || module === 'urllib') return module;
    return 'express and its dependencies';
  }
  if (/^node:internal\/(tls|crypto|net|dns)|^node:(tls|net|crypto)/.test(url)) return 'Node: TLS, net, crypto';
  if (/^node:internal\/(http|streams)|^node:(http|_http)|_http_/.test(url)) return 'Node: HTTP, streams';
  if (url.startsWith('node:')) return 'Node: other';
  return `other (${url.slice(0, 60)})`;
}

function shortLocation(frame: ProfileNode['callFrame']): string {
  const url = frame.url.replace(/^file:\/\/.*?node_modules\//, '').replace(/^file:\/\/.*?bench-package-\d+\//, 'dist/esm/').replace(/^file:\/\/.*?scripts\//, 'scripts/');
  return `${frame.functionName || '(anonymous)'} ${url}:${frame.lineNumber + 1}`;
}

function analyse(profile: CpuProfile, logins: number): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMicros = new Map<number, number>();
  profile.samples.forEach((id, i) => selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const owners = new Map<string, number>();
  const functions = new Map<string, { owner: string; micros: number }>();
  let busy = 0;
  for (const [id, micros] of selfMicros) {
    const frame = (byId.get(id) as ProfileNode).callFrame;
    const owner = ownerOf(frame.url, frame.functionName);
    owners.set(owner, (owners.get(owner) ?? 0) + micros);
    if (owner !== 'idle') busy += micros;
    const key = shortLocation(frame);
    const entry = functions.get(key) ?? { owner, micros: 0 };
    entry.micros += micros;
    functions.set(key, entry);
  }
  // Node's and V8's own frames charged to the nearest caller that belongs to a package: who made
  // that work happen (a TLS write charged to undici, a URL parse to whoever asked for it).
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const PACKAGE = /^(passport|undici|express|bench app)/;
  const caller = new Map<number, string>();
  const callerOf = (id: number): string => {
    const known = caller.get(id);
    if (known !== undefined) return known;
    const frame = (byId.get(id) as ProfileNode).callFrame;
    const owner = ownerOf(frame.url, frame.functionName);
    const parent = parentOf.get(id);
    const result = PACKAGE.test(owner) || owner === 'idle' ? owner : parent === undefined ? 'Node: event loop, I/O callbacks' : callerOf(parent);
    caller.set(id, result);
    return result;
  };
  const charged = new Map<string, number>();
  for (const [id, micros] of selfMicros) {
    const owner = callerOf(id);
    const ownSelf = ownerOf((byId.get(id) as ProfileNode).callFrame.url, (byId.get(id) as ProfileNode).callFrame.functionName);
    // GC and (program) have no caller in the tree; they stay as they are.
    const key = ownSelf.startsWith('V8: ') ? ownSelf : owner;
    charged.set(key, (charged.get(key) ?? 0) + micros);
  }
  // Total (self + callees) time of this package's functions, outermost frame per sample counted once.
  const totals = new Map<string, number>();
  for (const [id, micros] of selfMicros) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const frame = (byId.get(at) as ProfileNode).callFrame;
      if (ownerOf(frame.url, frame.functionName) !== 'passport-wechat-oauth2 (this)') continue;
      const key = shortLocation(frame);
      if (seen.has(key)) continue;
      seen.add(key);
      totals.set(key, (totals.get(key) ?? 0) + micros);
    }
  }
  const perLogin = (micros: number) => (micros / logins).toFixed(1);
  const share = (micros: number) => `${((micros / busy) * 100).toFixed(1)} %`;
  const ownerRows = [...owners].filter(([owner]) => owner !== 'idle').sort((a, b) => b[1] - a[1]).map(([owner, micros]) => [owner, perLogin(micros), share(micros)]);
  const functionRows = [...functions].filter(([, entry]) => entry.owner !== 'idle').sort((a, b) => b[1].micros - a[1].micros).slice(0, TOP)
    .map(([name, entry]) => [`\`${name}\``, entry.owner, perLogin(entry.micros), share(entry.micros)]);
  return [
    `${IMPLEMENTATION}, ${WITH_STATE ? 'session + state' : 'no state'}, concurrency ${CONCURRENCY}: ${logins} logins in the profile, ` +
      `${perLogin(busy)} µs of sampled CPU per login (idle excluded)`,
    '',
    table(['owner of the code (self time)', 'µs per login', 'share'], ownerRows),
    '',
    table(['function (self time)', 'owner', 'µs per login', 'share'], functionRows),
    '',
    table(['charged to the package that called it', 'µs per login', 'share'],
      [...charged].filter(([owner]) => owner !== 'idle').sort((a, b) => b[1] - a[1]).map(([owner, micros]) => [owner, perLogin(micros), share(micros)])),
    ...(totals.size > 0
      ? ['', table(['passport-wechat-oauth2 function (total: self + callees)', 'µs per login', 'share'],
          [...totals].sort((a, b) => b[1] - a[1]).slice(0, TOP).map(([name, micros]) => [`\`${name}\``, perLogin(micros), share(micros)]))]
      : []),
  ].join('\n');
}

async function main(): Promise<void> {
  const built = join(ROOT, 'dist/esm/index.js');
  const snapshot = join(ROOT, '.tmp', `bench-package-${process.pid}`);
  const out = join(ROOT, '.tmp', 'bench');
  mkdirSync(out, { recursive: true });
  cpSync(join(ROOT, 'dist/esm'), snapshot, { recursive: true });
  const certDir = mkdtempSync(join(tmpdir(), 'wechat-profile-'));
  const children: Child[] = [];
  try {
    readFileSync(built);
    const certs = makeCertificates(certDir, 'ec');
    const stub = await startChild(fileURLToPath(new URL('./stub.ts', import.meta.url)), {
      env: { ...process.env, STUB_TLS_KEY: certs.key, STUB_TLS_CERT: certs.cert },
    });
    children.push(stub);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      BENCH_STUB_URL: String(stub.ready.url),
      BENCH_CA: certs.ca,
      BENCH_PACKAGE: fileSpecifier(join(snapshot, 'index.js')),
      BENCH_STATE: WITH_STATE ? '1' : '0',
    };
    if (IMPLEMENTATION !== 'minimal') env.NODE_EXTRA_CA_CERTS = certs.ca;
    const app = await startChild(fileURLToPath(new URL('./app.ts', import.meta.url)), { args: [IMPLEMENTATION], env });
    children.push(app);
    const pool = new Pool(String(app.ready.url), { connections: CONCURRENCY, keepAliveTimeout: 60_000 });
    await drive(pool, CONCURRENCY, WARMUP_SECONDS, WITH_STATE);
    const file = join(out, `profile-${IMPLEMENTATION}${WITH_STATE ? '-state' : ''}-c${CONCURRENCY}.cpuprofile`);
    await app.ask('profile-start');
    const result = await drive(pool, CONCURRENCY, SECONDS, WITH_STATE);
    await app.ask('profile-stop', { file });
    await pool.close();
    if (result.failures > 0) throw new Error(`${result.failures} logins failed, first: ${result.firstFailure}`);
    console.log(analyse(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, result.logins));
    console.log(`\nprofile: ${file} (open in Chrome DevTools → Performance)`);
  } finally {
    for (const child of children.reverse()) await child.stop();
    rmSync(certDir, { recursive: true, force: true });
    rmSync(snapshot, { recursive: true, force: true });
  }
}

await main();
