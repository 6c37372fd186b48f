/**
 * What a package costs before it logs anyone in: time to import it (fresh node, median of N),
 * its packed size (`npm pack --dry-run --json`), and its production dependency tree, walked from
 * package-lock.json with Node's resolution (count and bytes on disk).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { median } from './child.ts';

export interface Footprint {
  importMs: number;
  importRuns: number[];
  packedBytes: number;
  unpackedBytes: number;
  files: number;
  /** Transitive production dependencies (package-lock.json walk), the package itself excluded. */
  dependencies: number;
  /** Of which `@types/*` packages. */
  typeDependencies: number;
  /** The package and its production dependencies, bytes on disk. */
  installedBytes: number;
}

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  dev?: boolean;
}

/** Paths (lockfile keys) of every package `start` needs at run time, found as Node would. */
export function dependencyClosure(root: string, start: string): string[] {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const seen = new Set<string>();
  const visit = (path: string): void => {
    const entry = lock.packages[path];
    if (!entry) throw new Error(`package-lock.json has no ${path || '(root)'}`);
    const names = {
      ...entry.optionalDependencies,
      ...Object.fromEntries(Object.entries(entry.peerDependencies ?? {}).filter(([name]) => !entry.peerDependenciesMeta?.[name]?.optional)),
      ...entry.dependencies,
    };
    for (const name of Object.keys(names)) {
      const found = resolveFrom(lock.packages, path, name);
      if (found === undefined) {
        if (entry.optionalDependencies?.[name] !== undefined) continue;
        throw new Error(`${path} needs ${name}, which package-lock.json does not have`);
      }
      if (seen.has(found)) continue;
      seen.add(found);
      visit(found);
    }
  };
  visit(start);
  seen.delete(start);
  return [...seen].sort();
}

function resolveFrom(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (dir === '') return undefined;
    const cut = dir.lastIndexOf('/node_modules/');
    dir = cut === -1 ? '' : dir.slice(0, cut);
  }
}

function bytesOnDisk(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  let total = 0;
  for (const name of readdirSync(path)) {
    // A nested node_modules holds other packages, counted on their own.
    if (name === 'node_modules') continue;
    total += bytesOnDisk(join(path, name));
  }
  return total;
}

/** `npm pack --dry-run --json` of a package folder: sizes and file count. */
function packed(dir: string): { packedBytes: number; unpackedBytes: number; files: number } {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const [info] = JSON.parse(out) as Array<{ size: number; unpackedSize: number; entryCount: number }>;
  if (!info) throw new Error(`npm pack gave nothing for ${dir}`);
  return { packedBytes: info.size, unpackedBytes: info.unpackedSize, files: info.entryCount };
}

/** Milliseconds to `await import(specifier)` in a fresh node process, once per run. */
export function importTime(specifier: string, cwd: string): number {
  const code = `const t = performance.now(); await import(${JSON.stringify(specifier)}); process.stdout.write(String(performance.now() - t));`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`importing ${specifier} failed: ${result.stderr}`);
  return Number(result.stdout);
}

export interface FootprintTarget {
  name: string;
  /** What `import()` gets: a package name or a file URL. */
  specifier: string;
  /** The folder `npm pack` packs. */
  packDir: string;
  /** The package's key in package-lock.json ('' for the root package). */
  lockPath: string;
}

/** Measures every target; import times alternate between targets, `runs` each. */
export function measureFootprints(root: string, targets: readonly FootprintTarget[], runs: number): Map<string, Footprint> {
  const times = new Map<string, number[]>(targets.map((target) => [target.name, []]));
  for (let run = 0; run < runs; run++) {
    for (const target of targets) times.get(target.name)?.push(importTime(target.specifier, root));
  }
  const result = new Map<string, Footprint>();
  for (const target of targets) {
    const closure = dependencyClosure(root, target.lockPath);
    const own = packed(target.packDir);
    // The package as published (its packed files), plus its dependencies as installed.
    const installedBytes = closure.reduce((sum, path) => sum + bytesOnDisk(join(root, path)), own.unpackedBytes);
    const importRuns = times.get(target.name) ?? [];
    result.set(target.name, {
      importMs: median(importRuns),
      importRuns,
      ...own,
      dependencies: closure.length,
      typeDependencies: closure.filter((path) => /(^|\/)node_modules\/@types\//.test(path)).length,
      installedBytes,
    });
  }
  return result;
}

export function fileSpecifier(path: string): string {
  return pathToFileURL(path).href;
}
