/** Baselines: file format and schema errors, comparison semantics, and the CLI's --baseline / --write-baseline. */
import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import {
  BASELINE_SCHEMA_ID,
  baselineFromRun,
  baselineSchemaPath,
  compareBaseline,
  loadBaseline,
  parseBaseline,
  verdictClass,
  writeBaseline,
  type Baseline,
} from '../../harness/engine/baseline.js';
import { UsageError } from '../../harness/engine/errors.js';
import type { CaseResult, Verdict } from '../../harness/engine/types.js';
import { formatBaselineComparison } from '../../harness/cli/baseline.js';
import { cli } from '../_support/cli.js';
import { startProtonServer } from '../../reference-server/proton/index.js';
import { fastProfile } from '../../suites/proton/profile.js';
import { allCases, makeRun, passCase } from '../reports/fixtures.js';

/** A case with the given id and verdict (details from a fixture). */
function kase(id: string, verdict: Verdict): CaseResult {
  return { ...passCase, id: `proton/x/${id}`, verdict, ...(verdict === 'fail' ? { rule: 'PROTON-4.3', message: 'saw ack 2' } : {}) };
}

function baseline(cases: Record<string, Verdict>): Baseline {
  return {
    format: 'wirecheck-baseline',
    version: 1,
    protocol: 'proton',
    cases: Object.fromEntries(Object.entries(cases).map(([k, v]) => [`proton/x/${k}`, v])),
  };
}

const ids = (list: readonly { id: string }[]): string[] => list.map((c) => c.id.replace('proton/x/', ''));

t.test('verdict classes', async (t) => {
  t.same(
    (['pass', 'non-strict', 'fail', 'timeout', 'error', 'skipped'] as const).map(verdictClass),
    ['passing', 'passing', 'failing', 'failing', 'error', 'skipped'],
  );
});

t.test('baselineFromRun and writeBaseline: every case, ids sorted, schema-valid', async (t) => {
  const run = makeRun();
  const b = baselineFromRun(run);
  t.same(Object.keys(b), ['format', 'version', 'protocol', 'cases']);
  t.equal(b.format, 'wirecheck-baseline');
  t.equal(b.version, 1);
  t.equal(b.protocol, 'proton');
  t.same(Object.keys(b.cases), allCases.map((c) => c.id).sort());
  for (const c of allCases) t.equal(b.cases[c.id], c.verdict, c.id);

  const file = path.join(t.testdir({}), 'deep', 'baseline.json');
  t.equal(await writeBaseline(run, file), file);
  const text = await readFile(file, 'utf8');
  t.match(text, /^\{\n {2}"format": "wirecheck-baseline",\n/);
  t.ok(text.endsWith('}\n'));
  t.same(await loadBaseline(file), b, 'round-trips');

  // The published schema validates it on its own.
  const schema = JSON.parse(await readFile(baselineSchemaPath, 'utf8')) as { $id: string };
  t.equal(schema.$id, BASELINE_SCHEMA_ID);
  const validate = new Ajv2020({ strict: true }).compile(schema);
  t.ok(validate(JSON.parse(text)), 'schema accepts the written file');
});

t.test('compare: the table of the module doc', async (t) => {
  const was = baseline({
    p2p: 'pass', p2ns: 'pass', p2f: 'pass', p2t: 'non-strict', p2e: 'pass', p2s: 'pass',
    f2f: 'fail', f2t: 'fail', f2p: 'fail', t2ns: 'timeout', f2e: 'fail', f2s: 'fail',
    e2f: 'error', e2p: 'error', e2e: 'error', s2f: 'skipped', s2p: 'skipped',
    gone: 'fail',
  });
  const run = makeRun([
    kase('p2p', 'pass'), kase('p2ns', 'non-strict'), kase('p2f', 'fail'), kase('p2t', 'timeout'), kase('p2e', 'error'), kase('p2s', 'skipped'),
    kase('f2f', 'fail'), kase('f2t', 'timeout'), kase('f2p', 'pass'), kase('t2ns', 'non-strict'), kase('f2e', 'error'), kase('f2s', 'skipped'),
    kase('e2f', 'fail'), kase('e2p', 'pass'), kase('e2e', 'error'), kase('s2f', 'timeout'), kase('s2p', 'pass'),
    kase('newpass', 'pass'), kase('newfail', 'fail'), kase('newerror', 'error'),
  ]);
  const cmp = compareBaseline(run, was);
  t.equal(cmp.ok, false);
  t.same(ids(cmp.newFailures), ['p2f', 'p2t', 'p2e', 'e2f', 's2f', 'newfail'], 'failing where not known failing; error where passing');
  t.same(ids(cmp.unexpectedPasses), ['f2p', 't2ns'], 'known failures that pass (non-strict counts as passing)');
  t.same(ids(cmp.knownFailures), ['f2f', 'f2t'], 'fail <-> timeout is still a known failure');
  t.same(ids(cmp.newCases), ['newpass', 'newfail', 'newerror']);
  t.same(ids(cmp.missingCases), ['gone'], 'not run: listed, not a regression');
  t.same(ids(cmp.otherChanges), ['p2ns', 'p2s', 'f2e', 'f2s', 'e2p', 's2p'], 'neutral changes');
  const p2f = cmp.newFailures[0];
  t.same(p2f, { id: 'proton/x/p2f', baseline: 'pass', now: 'fail', rule: 'PROTON-4.3', message: 'saw ack 2' }, 'entries carry both verdicts and why');
  t.same(cmp.newCases[0], { id: 'proton/x/newpass', now: 'pass' }, 'a new case has no baseline verdict');
  t.same(cmp.missingCases[0], { id: 'proton/x/gone', baseline: 'fail' }, 'a missing case has no verdict now');
});

t.test('compare: ok when only known failures and neutral changes remain', async (t) => {
  const was = baseline({ a: 'pass', b: 'fail', c: 'timeout', d: 'pass', e: 'fail', f: 'pass' });
  const run = makeRun([kase('a', 'non-strict'), kase('b', 'timeout'), kase('c', 'fail'), kase('d', 'skipped'), kase('e', 'error')]);
  const cmp = compareBaseline(run, was);
  t.equal(cmp.ok, true);
  t.same(ids(cmp.knownFailures), ['b', 'c']);
  t.same(ids(cmp.missingCases), ['f']);
  t.same(compareBaseline(makeRun(allCases), baselineFromRun(makeRun(allCases))).ok, true, 'a run matches its own baseline');
  t.throws(() => compareBaseline(run, { ...was, protocol: 'other' }), UsageError, 'another protocol is a usage error');
});

t.test('the comparison as text', async (t) => {
  const was = baseline({ a: 'pass', b: 'fail', c: 'fail', gone: 'pass' });
  const cmp = compareBaseline(makeRun([kase('a', 'fail'), kase('b', 'pass'), kase('c', 'fail'), kase('n', 'pass')]), was);
  const text = formatBaselineComparison(cmp, 'base.json', false);
  t.match(text, /^Baseline base\.json: 1 new failure, 1 unexpected pass, 1 known failure, 1 new case, 1 not run$/m);
  t.match(text, /^ {2}NEW FAILURE {6}proton\/x\/a {2}pass -> fail {2}PROTON-4\.3: saw ack 2$/m);
  t.match(text, /^ {2}UNEXPECTED PASS {2}proton\/x\/b {2}fail -> pass$/m);
  t.match(text, /^ {2}new case {9}proton\/x\/n {2}\(none\) -> pass$/m);
  t.match(text, /^ {2}not run {10}proton\/x\/gone {2}\(baseline: pass; no longer in the suite\?\)$/m);
  t.match(text, /^Baseline: REGRESSED \(1 new failure, 1 unexpected pass; known failures now pass: record them with --write-baseline\)$/m);
  const filtered = formatBaselineComparison(cmp, 'base.json', true);
  t.match(filtered, /^ {2}\(1 baseline case not selected by --cases: not compared\)$/m);
  t.notMatch(filtered, /proton\/x\/gone/);
  const ok = formatBaselineComparison(compareBaseline(makeRun([kase('c', 'fail')]), baseline({ c: 'fail' })), 'b.json', false);
  t.match(ok, /^Baseline: MATCHED \(1 known failure allowed\)$/m);
});

t.test('bad baselines: UsageError naming the file, the JSON pointer and the problem', async (t) => {
  const dir = t.testdir({
    'missing-fields.json': JSON.stringify({ format: 'wirecheck-baseline' }),
    'wrong.json': JSON.stringify({
      format: 'wirecheck-report',
      version: 2,
      protocol: 'Proton!',
      cases: { 'proton/event/single': 'passed', '': 'pass', 'proton/x': 3 },
      extra: true,
    }),
    'broken.json': '{ "format": ',
    'array.json': '[]',
    'schema-ok.json': JSON.stringify({ $schema: 'https://wirecheck.dev/schemas/baseline-1.json', format: 'wirecheck-baseline', version: 1, protocol: 'proton', cases: {} }),
  });
  const f = (name: string): string => path.join(dir, name);
  const problem = async (name: string): Promise<string> => {
    try {
      await loadBaseline(f(name));
    } catch (err) {
      t.type(err, UsageError, `${name}: UsageError`);
      return (err as Error).message;
    }
    t.fail(`${name} was accepted`);
    return '';
  };
  const missing = await problem('missing-fields.json');
  t.match(missing, `baseline ${f('missing-fields.json')} is not a valid wirecheck baseline:`);
  for (const field of ['version', 'protocol', 'cases']) t.match(missing, `\n  /${field}: required property is missing`);

  const wrong = await problem('wrong.json');
  t.match(wrong, '\n  /format: must be "wirecheck-baseline"; got "wirecheck-report"');
  t.match(wrong, '\n  /version: must be 1; got 2');
  t.match(wrong, /\n {2}\/protocol: must match pattern/);
  t.match(wrong, '\n  /cases/proton~1event~1single: must be one of "pass", "fail", "non-strict", "timeout", "error", "skipped"; got "passed"');
  t.match(wrong, '\n  /cases/proton~1x: must be one of');
  t.match(wrong, '\n  /cases/: property name is not allowed');
  t.match(wrong, '\n  /extra: property is not allowed here');

  t.match(await problem('broken.json'), `baseline ${f('broken.json')}: not valid JSON (`);
  t.match(await problem('array.json'), /\n {2}\(root\): must be object/);
  t.equal(await problem('nope.json'), `baseline ${f('nope.json')}: cannot read (ENOENT)`);

  const ok = await loadBaseline(f('schema-ok.json'));
  t.same(ok, { format: 'wirecheck-baseline', version: 1, protocol: 'proton', cases: {} }, '$schema allowed and dropped');
  t.throws(() => parseBaseline(null, 'inline'), /baseline inline is not a valid wirecheck baseline:\n {2}\(root\): must be object/);
});

// --- CLI: a faulty target's baseline, rerun (exit 0), then a conforming target (exit 1) ---

t.test('CLI: --write-baseline, then --baseline against the same faulty and a conforming target', async (t) => {
  const dir = t.testdir({});
  const profile = { ...fastProfile, toleranceMs: 300 };
  const profileFile = path.join(dir, 'profile.json');
  await writeFile(profileFile, JSON.stringify(profile));
  const file = path.join(dir, 'wirecheck-baseline.json');
  const faulty = await startProtonServer({ profile, fault: 'wrong-ack-id' });
  const good = await startProtonServer({ profile });
  t.teardown(async () => {
    await faulty.stop();
    await good.stop();
  });
  const args = (port: number, ...more: string[]): string[] => [
    'run', '--target', `quic://127.0.0.1:${port}`, '--protocol', 'proton', '--insecure', '--profile', profileFile,
    '--cases', 'proton/event/*', '--out', path.join(dir, 'reports'), '--quiet', '--no-color', ...more,
  ];

  const first = await cli(...args(faulty.port, '--write-baseline', file, '--reporter', 'all'));
  t.equal(first.code, 1, 'the faulty run fails as usual');
  t.match(first.out, `Baseline written: ${file}`);
  const written = await loadBaseline(file);
  const failing = Object.entries(written.cases).filter(([, v]) => v === 'fail' || v === 'timeout').map(([id]) => id);
  t.ok(failing.includes('proton/event/single'), 'known failures recorded');
  // The fault also breaks the probe's exchange: the failing proton/sanity-probe case is reported with the cases (engine/runner.ts).
  t.ok(Object.keys(written.cases).every((id) => id.startsWith('proton/event/') || id === 'proton/sanity-probe'), 'only the cases run');
  const xml = await readFile(path.join(dir, 'reports', 'proton.xml'), 'utf8');
  t.match(xml, /<testcase classname="proton\.4" name="proton\/event\/single"/, '--reporter all writes the JUnit report');

  const again = await cli(...args(faulty.port, '--baseline', file));
  t.equal(again.code, 0, `known failures only → exit 0\n${again.out}`);
  t.match(again.out, /Result: FAILED/, 'the summary still tells the truth');
  t.match(again.out, new RegExp(`^Baseline ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: 0 new failures, 0 unexpected passes, ${failing.length} known failures`, 'm'));
  t.match(again.out, /^Baseline: MATCHED/m);
  t.ok(again.out.indexOf('Result: ') < again.out.indexOf('Baseline: MATCHED'), 'differences come after the summary');

  const fixed = await cli(...args(good.port, '--baseline', file));
  t.equal(fixed.code, 1, 'known failures that pass → exit 1');
  t.match(fixed.out, /^ {2}UNEXPECTED PASS {2}proton\/event\/single {2}fail -> pass$/m);
  t.match(fixed.out, /^Baseline: REGRESSED \(\d+ unexpected passes?; known failures now pass/m);

  const bad = await cli(...args(good.port, '--baseline', path.join(dir, 'nope.json')));
  t.equal(bad.code, 2, 'an unreadable baseline is a usage error');
  t.match(bad.err, /cannot read \(ENOENT\)/);
  t.notMatch(bad.err, /\[ ?\d+\/\d+\]/, 'rejected before the run');
});

t.test('CLI: selftest takes the baseline flags with one protocol only', async (t) => {
  const { listProtocols } = await import('../../harness/engine/registry.js');
  if (listProtocols().length < 2) {
    t.pass('only one protocol: nothing to refuse');
    return;
  }
  const r = await cli('selftest', '--write-baseline', path.join(t.testdir({}), 'b.json'), '--quiet');
  t.equal(r.code, 2);
  t.match(r.err, /--baseline and --write-baseline hold one protocol: add --protocol/);
});
