// Packs the package as npm would publish it, then checks the tarball: publint and
// @arethetypeswrong/cli (types resolve for require and import, on every module resolution), and
// every relative link in the shipped Markdown points at a file the tarball holds (a user reading
// the docs in node_modules, or on npm, has nothing else).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';

/** Relative link targets in a Markdown text: [text](target), ![alt](target), <img src="target">. Code is skipped. */
export function relativeLinks(markdown) {
  const prose = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  const targets = [
    ...[...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]),
    ...[...prose.matchAll(/<img[^>]*\ssrc="([^"]+)"/g)].map((m) => m[1]),
  ];
  return targets.filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('#'));
}

const dir = mkdtempSync(join(tmpdir(), 'wechat-pack-'));
const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit' });
let broken = 0;
try {
  const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { encoding: 'utf8' });
  const tarball = join(dir, out.trim().split('\n').at(-1));
  run('npx', ['--no-install', 'publint', '--strict', tarball]);
  run('npx', ['--no-install', 'attw', tarball]);

  execFileSync('tar', ['xzf', tarball, '-C', dir]);
  const files = new Set(
    execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((file) => file.replace(/^package\//, '')),
  );
  for (const file of [...files].filter((name) => name.endsWith('.md'))) {
    const text = readFileSync(join(dir, 'package', file), 'utf8');
    for (const target of relativeLinks(text)) {
      const path = decodeURIComponent(target.split('#')[0]);
      if (path === '') continue;
      const resolved = posix.normalize(posix.join(posix.dirname(file), path)).replace(/\/$/, '');
      const exists = files.has(resolved) || [...files].some((name) => name.startsWith(`${resolved}/`));
      if (!exists) {
        broken += 1;
        console.error(`broken link in the tarball: ${file} → ${target}`);
      }
    }
  }
  if (broken === 0) console.log(`links: every relative link in the ${[...files].filter((n) => n.endsWith('.md')).length} shipped Markdown files resolves in the tarball`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(broken === 0 ? 0 : 1);
