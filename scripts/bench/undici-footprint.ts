/**
 * `node scripts/bench/undici-footprint.ts`: what undici itself adds to a process's memory, the
 * evidence behind docs/benchmarks.md "Memory". For each way of making HTTP calls — undici's index,
 * undici's agent module alone (what the package loads), Node's own `http` — a fresh process loads
 * it, makes 2000 sequential requests to a local server, collects garbage twice and reports RSS
 * and the JS heap. Median of UNDICI_FOOTPRINT_RUNS (3) processes each.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { envNumber, median } from './child.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RUNS = envNumber('UNDICI_FOOTPRINT_RUNS', 3);

const CHILD = `
const { createRequire } = require('node:module');
const load = createRequire(process.cwd() + '/package.json');
const http = require('node:http');
const way = process.argv[1];
const mb = (bytes) => bytes / 1048576;
const before = process.memoryUsage().rss;
const Agent = way === 'index' ? load('undici').Agent : way === 'agent' ? load('undici/lib/dispatcher/agent.js') : undefined;
const loaded = process.memoryUsage().rss;
const server = http.createServer((_req, res) => res.end('{"a":1}'));
server.listen(0, '127.0.0.1', async () => {
  const origin = 'http://127.0.0.1:' + server.address().port;
  const handler = (resolve, reject) => ({ onRequestStart() {}, onResponseStart() {}, onResponseData() {}, onResponseEnd: () => resolve(), onResponseError: (_c, e) => reject(e) });
  const agent = Agent ? new Agent() : new http.Agent({ keepAlive: true });
  for (let i = 0; i < 2000; i++) {
    await new Promise((resolve, reject) => Agent
      ? agent.dispatch({ origin, path: '/', method: 'GET' }, handler(resolve, reject))
      : http.get(origin, { agent }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject));
  }
  globalThis.gc(); globalThis.gc();
  const m = process.memoryUsage();
  process.stdout.write(JSON.stringify({ loadMB: mb(loaded - before), rssMB: mb(m.rss), heapUsedMB: mb(m.heapUsed), heapTotalMB: mb(m.heapTotal) }));
  server.close(); process.exit(0);
});
`;

const rows: string[] = [];
for (const way of ['index', 'agent', 'node:http']) {
  const runs: Array<{ loadMB: number; rssMB: number; heapUsedMB: number; heapTotalMB: number }> = [];
  for (let run = 0; run < RUNS; run++) {
    const child = spawnSync(process.execPath, ['--expose-gc', '-e', CHILD, way], { cwd: ROOT, encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`${way}: ${child.stderr}`);
    runs.push(JSON.parse(child.stdout) as (typeof runs)[number]);
  }
  const of = (pick: (run: (typeof runs)[number]) => number) => median(runs.map(pick)).toFixed(1);
  rows.push(`| ${way === 'index' ? "undici's index" : way === 'agent' ? "undici's agent module (the package's)" : 'node:http'} | ${way === 'node:http' ? '—' : of((r) => r.loadMB)} | ${of((r) => r.rssMB)} | ${of((r) => r.heapUsedMB)} | ${of((r) => r.heapTotalMB)} |`);
}
console.log(`undici footprint: median of ${RUNS} fresh processes, 2000 sequential requests each, after two full GCs (MB)\n`);
console.log('| how the calls are made | RSS added by loading it | RSS after | JS heap used | JS heap total |');
console.log('| --- | --- | --- | --- | --- |');
for (const row of rows) console.log(row);
