/**
 * Node's built-in modules the package uses, as Node's own CommonJS objects. An ES module
 * `import { … } from 'node:crypto'` makes Node build a facade of the whole module first, which
 * runs every lazy getter it has (Web Crypto, util's diff and parseArgs, a stderr stream): about
 * 6 ms at import for crypto and util together, a third of the package's import time
 * (docs/benchmarks.md). `process.getBuiltinModule` hands over the module as it is.
 */
export const crypto = process.getBuiltinModule('node:crypto');
export const util = process.getBuiltinModule('node:util');
/** Node's own timers: a test's fake timers (which replace the global functions) leave these be. */
export const timers = process.getBuiltinModule('node:timers');

// Random bytes drawn from the CSPRNG 4 KB at a time, as crypto.randomUUID() does: one call into
// OpenSSL per 340 state handles instead of one per login. Each byte is handed out once.
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let used = POOL_BYTES;

/** `bytes` fresh random bytes (from Node's CSPRNG) as lower-case hex. */
export function randomHex(bytes: number): string {
  if (used + bytes > pool.length) {
    pool = crypto.randomBytes(Math.max(POOL_BYTES, bytes));
    used = 0;
  }
  const hex = pool.toString('hex', used, used + bytes);
  used += bytes;
  return hex;
}
