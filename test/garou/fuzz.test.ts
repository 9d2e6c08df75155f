/**
 * Fuzzing Garou (suites/garou/fuzz.ts) through `wirecheck fuzz
 * --in-process` (the reference core over the in-memory driver, virtual
 * time): no finding against the conforming core; the faults that hostile
 * input can show (stream typing, frame limit, close code) are found within
 * the stated budget, under their rule, and shrunk.
 */
import t from 'tap';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../harness/cli.js';

/** Programs a fault must be found within (seed 1). */
const BUDGET = 60;
const quiet = { out: () => undefined, err: () => undefined };

async function campaign(t: { teardown(fn: () => unknown): void }, fault?: string, arbitraries?: string): Promise<{ code: number; rules: string[]; labels: number }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'garou-fuzz-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const code = await main(['fuzz', '--in-process', '--protocol', 'garou', '--fast', '--runs', String(BUDGET), '--seed', '1', '-q', '-o', dir, ...(fault ? ['--fault', fault] : []), ...(arbitraries ? ['--arbitraries', arbitraries] : [])], quiet);
  const report = JSON.parse(await readFile(path.join(dir, 'garou.fuzz.json'), 'utf8')) as { findings: { rule: string }[]; coverage: { reached?: string[] } | string[] };
  const reached = Array.isArray(report.coverage) ? report.coverage : (report.coverage.reached ?? []);
  return { code, rules: report.findings.map((f) => f.rule), labels: reached.length };
}

t.test('no finding against the conforming core', async (t) => {
  const r = await campaign(t);
  t.equal(r.code, 0, 'exit 0');
  t.same(r.rules, []);
});

for (const [fault, rule, arbitraries] of [['ignore-stream-type', 'GAROU-3.3', 'stream-types'], ['ignore-frame-limit', 'GAROU-2.3', 'malformed-frames'], ['wrong-close-code', 'GAROU-13.2', 'malformed-frames']] as const) {
  t.test(`fault ${fault} is found within ${BUDGET} ${arbitraries} programs under ${rule}`, async (t) => {
    const r = await campaign(t, fault, arbitraries);
    t.equal(r.code, 1, 'exit 1: findings');
    t.ok(r.rules.includes(rule), `found under ${rule} (${r.rules.join(', ')})`);
  });
}
