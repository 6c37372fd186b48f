/**
 * Node's built-in modules the package uses, as Node's own CommonJS objects. An ES module
 * `import { … } from 'node:crypto'` makes Node build a facade of the whole module first, which
 * runs every lazy getter it has (Web Crypto, util's diff and parseArgs, a stderr stream): about
 * 6 ms at import for crypto and util together, a third of the package's import time
 * (docs/benchmarks.md). `process.getBuiltinModule` hands over the module as it is.
 */
export const crypto = process.getBuiltinModule('node:crypto');
export const util = process.getBuiltinModule('node:util');
