/**
 * The whole Proton suite passes against the reference server, and the
 * reports it writes are valid (JSON Schema) and parse (TAP 14).
 */
import t from 'tap';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Parser } from 'tap-parser';
import { validateJsonReport, writeJsonReport, writeTapReport } from '../../harness/reports/index.js';
import { suite } from '../../suites/proton/index.js';
import { byVerdict, runAgainstReference } from './_run.js';

t.test('every case passes against the reference server', async (t) => {
  const run = await runAgainstReference();
  const verdicts = byVerdict(run);
  t.equal(run.cases.length, suite.cases.length, 'all cases ran');
  t.same(run.cases.filter((c) => c.verdict !== 'pass' && c.verdict !== 'non-strict').map((c) => `${c.id}: ${c.verdict} ${c.message ?? ''}`), [], 'no fail, timeout, error or skip');
  t.ok((verdicts['pass']?.length ?? 0) >= suite.cases.length - 2, 'at most two timing-related non-strict results on a loaded machine');
  t.ok(run.probes.every((p) => p.ok), 'every probe passed');
  t.ok(run.probes.length >= 2, 'probed before and after');
  for (const c of run.cases) t.ok(c.trace.length > 0, `${c.id} recorded a trace`);

  const dir = await mkdtemp(path.join(tmpdir(), 'wirecheck-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const json = JSON.parse(await readFile(await writeJsonReport(run, path.join(dir, 'r.json')), 'utf8')) as unknown;
  const v = validateJsonReport(json);
  t.same(v.ok ? [] : v.errors, [], 'JSON report matches its schema');
  const tap = await readFile(await writeTapReport(run, path.join(dir, 'r.tap')), 'utf8');
  const parsed = await new Promise<{ ok: boolean; count: number; fail: number }>((resolve) => {
    const p = new Parser((results) => resolve(results));
    p.end(tap);
  });
  t.equal(parsed.count, suite.cases.length, 'one TAP test point per case');
  t.equal(parsed.fail, 0);
  t.ok(parsed.ok);
});

t.test('cases have stable ids, rules from the SPEC and a requirement', async (t) => {
  const spec = await readFile(new URL('../../suites/proton/SPEC.md', import.meta.url), 'utf8');
  const ids = new Set<string>();
  for (const c of suite.cases) {
    t.notOk(ids.has(c.id), `unique id ${c.id}`);
    ids.add(c.id);
    t.match(c.id, /^proton\/[a-z]+\/[a-z0-9x-]+$/, 'id shape');
    t.ok(c.rules.length > 0, `${c.id} names rules`);
    for (const r of c.rules) t.ok(spec.includes(`**${r}**`), `${c.id}: ${r} is defined in SPEC.md`);
    t.ok(c.description.length > 10 && c.requirement.length > 10, `${c.id} has a description and a requirement`);
  }
  // Every normative rule of the SPEC has at least one case, except those the SPEC says are not checked black-box.
  const rules = [...spec.matchAll(/\*\*(PROTON-\d+\.\d+)\*\*/g)].map((m) => m[1]!);
  const covered = new Set(suite.cases.flatMap((c) => c.rules));
  const uncheckable = ['PROTON-1.2', 'PROTON-2.5', 'PROTON-2.8', 'PROTON-7.2', 'PROTON-7.3', 'PROTON-8.2', 'PROTON-8.4'];
  t.same(rules.filter((r) => !covered.has(r) && !uncheckable.includes(r)), [], 'every checkable rule has a case');
});
