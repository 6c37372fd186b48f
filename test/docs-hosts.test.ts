/**
 * The host pages in docs/hosts/ show only code that runs: every TypeScript block names its source
 * in an `<!-- source: path -->` comment and must appear there verbatim, so a change to an example
 * or a test that the page quotes fails here until the page follows.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const PAGES = ['docs/hosts/express.md', 'docs/hosts/fastify.md', 'docs/hosts/nestjs.md'];

interface Snippet {
  source: string | undefined;
  code: string;
  line: number;
}

function snippetsOf(markdown: string): Snippet[] {
  const snippets: Snippet[] = [];
  const pattern = /(?:<!-- source: (\S+) -->\n)?```ts\n([\s\S]*?)\n```/g;
  for (const match of markdown.matchAll(pattern)) {
    const line = markdown.slice(0, match.index).split('\n').length;
    snippets.push({ source: match[1], code: match[2] ?? '', line });
  }
  return snippets;
}

describe.each(PAGES)('%s', (page) => {
  const markdown = readFileSync(path.join(ROOT, page), 'utf8');

  it('shows TypeScript only as verbatim copies of the examples and tests that run', () => {
    const snippets = snippetsOf(markdown);
    expect(snippets.length).toBeGreaterThan(0);
    for (const { source, code, line } of snippets) {
      expect(source, `${page}:${line} has no <!-- source: … --> comment`).toBeDefined();
      const file = readFileSync(path.join(ROOT, source ?? ''), 'utf8');
      expect(file.includes(code), `${page}:${line} is not a verbatim copy of ${source}`).toBe(true);
    }
  });

  it('links only to files that exist', () => {
    const links = [...markdown.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((match) => match[1] ?? '');
    const local = links.filter((link) => !/^[a-z]+:/.test(link));
    expect(local.length).toBeGreaterThan(0);
    for (const link of local) {
      expect(existsSync(path.resolve(ROOT, path.dirname(page), link)), `${page} links to missing ${link}`).toBe(true);
    }
  });
});
