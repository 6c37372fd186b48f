// Lists the mutants Stryker's last run left alive (reports/mutation/mutation.json) as Markdown rows
// for docs/mutation.md: where, which mutator, what the code became, and why it is accepted. The
// reason comes from a small set of rules a person wrote after reading the survivors; a survivor no
// rule explains is printed with "to review", so it cannot be accepted by accident.
import { readFileSync, readdirSync } from 'node:fs';

const report = JSON.parse(readFileSync(process.argv[2] ?? 'reports/mutation/mutation.json', 'utf8'));

/** [test, reason]: the first rule whose test matches a survivor gives its reason. */
const RULES = [
  [(m) => m.mutator === 'StringLiteral' && /Error\(|message|throw|`[^`]*\$\{/.test(m.original), 'Message wording: tests assert the stable `code`, the option named and the absence of secrets, not every sentence.'],
  [(m) => m.mutator === 'StringLiteral' && /^\s*(\/\/|\*)/.test(m.original), 'Text in a comment or TSDoc example.'],
  [(m) => /^\s*(\/\/|\*|\/\*\*)/.test(m.original), 'Comment or TSDoc only.'],
  [(m) => m.mutator === 'BlockStatement' && /catch\s*\{|catch \{/.test(m.original), 'An empty catch around a host that already answered: there is nothing left to observe.'],
  [(m) => /host already answered|nothing left to tell/.test(m.context), 'Guards a host that already answered the request: no behaviour left to observe.'],
  [(m) => m.mutator === 'OptionalChaining', 'Optional chaining on a value the callers always provide: equivalent for every input that reaches it.'],
  [(m) => m.status === 'NoCoverage' && /lib\/(miniprogram|native-app|strategy)\.ts/.test(m.file) && /raw|fastify/i.test(m.context), 'Fastify-only path: covered by the Fastify tests, which load dist/ and so cannot see mutants.'],
  [(m) => /timer\.unref|unref\(\)/.test(m.original), 'unref() only affects whether an idle timer keeps the process alive.'],
  [
    (m) => /\bdebug(Failure)?\(/.test(m.original) || (m.file === 'lib/diagnostics.ts' && /debug\.enabled|'%s|errcode=|rid=|\?\? ''|status \?\? 401/.test(m.original)),
    'Debug output (NODE_DEBUG=passport-wechat-oauth2): util.debuglog reads NODE_DEBUG when the process starts, so test/debug-log.test.ts checks these lines in a child process on the built package, where no mutant is.',
  ],
  [(m) => /MAX_CAUSE_LABEL|MAX_CAUSE_MESSAGE|CAUSE_DEPTH|POLL_MS|STORE_DEADLINE_MS|TAG_LENGTH/.test(m.original) && m.mutator === 'ArithmeticOperator', 'A tuning constant; tests pin the bound it sets, not its exact value.'],
];

/**
 * Survivors a person read and accepted one by one: scripts/mutation-accepted/*.json, each an array
 * of { file, mutator, original, replacement?, reason }. `original` is a piece of the mutated line
 * (so the entry survives line shifts) and `replacement`, when given, a piece of the mutant.
 */
const ACCEPTED = readdirSync(new URL('./mutation-accepted/', import.meta.url))
  .filter((name) => name.endsWith('.json'))
  .flatMap((name) => JSON.parse(readFileSync(new URL(`./mutation-accepted/${name}`, import.meta.url), 'utf8')));
for (const entry of ACCEPTED) {
  RULES.unshift([
    (m) =>
      m.file === entry.file &&
      m.mutator === entry.mutator &&
      m.original.includes(entry.original) &&
      (entry.replacement === undefined || m.replacement.includes(entry.replacement)),
    entry.reason,
  ]);
}

const counts = { detected: 0, undetected: 0, invalid: 0, toReview: 0 };
const rows = [];
for (const [file, { source, mutants }] of Object.entries(report.files)) {
  const lines = source.split('\n');
  for (const mutant of mutants) {
    if (mutant.status === 'Killed' || mutant.status === 'Timeout') {
      counts.detected += 1;
      continue;
    }
    if (mutant.status !== 'Survived' && mutant.status !== 'NoCoverage') {
      counts.invalid += 1;
      continue;
    }
    counts.undetected += 1;
    const { start } = mutant.location;
    const survivor = {
      file,
      line: start.line,
      mutator: mutant.mutatorName,
      status: mutant.status,
      original: (lines[start.line - 1] ?? '').trim(),
      context: lines.slice(Math.max(0, start.line - 4), start.line + 2).join('\n'),
      replacement: String(mutant.replacement ?? '').replace(/\s+/g, ' '),
    };
    const rule = RULES.find(([test]) => test(survivor));
    if (!rule) counts.toReview += 1;
    rows.push({ ...survivor, reason: rule ? rule[1] : 'to review' });
  }
}
const score = (100 * counts.detected) / (counts.detected + counts.undetected);
const code = (text, max) => '`' + text.slice(0, max).replaceAll('`', "'").replaceAll('|', '\\|') + '`';
console.log(`Mutation score ${score.toFixed(2)} %: ${counts.detected} mutants detected, ${counts.undetected} not (${counts.toReview} still to review); ${counts.invalid} not valid (compile errors, ignored).\n`);
console.log('| Where | Mutator | Code → mutant | Why it is accepted |');
console.log('|---|---|---|---|');
for (const row of rows.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line)) {
  const status = row.status === 'NoCoverage' ? ' (no coverage)' : '';
  console.log(`| ${row.file}:${row.line} | ${row.mutator}${status} | ${code(row.original, 80)} → ${code(row.replacement, 50)} | ${row.reason} |`);
}
