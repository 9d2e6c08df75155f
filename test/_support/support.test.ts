/**
 * The test helpers can fail: the in-process/over-sockets comparison reports a
 * differing verdict or rule, the fault check reports a missed target, a
 * failure under another rule and a case that should have passed, and the
 * test deadline rejects work that hangs.
 */
import t from 'tap';
import type { CaseResult, RunResult, Verdict } from '../../harness/engine/types.js';
import { within, TestDeadlineError } from './deadline.js';
import { checkFaultRun } from './faults.js';
import { outcomeDifferences, outcomes } from './in-process.js';

const kase = (id: string, verdict: Verdict, rule?: string): CaseResult => ({ id, section: '1', rules: [], description: '', requirement: '', expected: [], verdict, ...(rule ? { rule } : {}), durationMs: 0, trace: [] });
const run = (cases: CaseResult[]): RunResult => ({
  tool: { name: 'wirecheck', version: '0' },
  protocol: 'x',
  specVersion: '1',
  target: 'memory:x',
  profile: {},
  startedAt: '',
  durationMs: 0,
  probes: [{ when: 'before the run', ok: true }],
  cases,
  summary: { pass: 0, fail: 0, 'non-strict': 0, timeout: 0, error: 0, skipped: 0, total: cases.length },
});

t.test('outcomeDifferences: verdict and rule must agree; non-strict over sockets reads as pass', async (t) => {
  const mem = run([kase('a', 'pass'), kase('b', 'fail', 'R-1'), kase('c', 'pass')]);
  t.same(outcomes(mem), { a: 'pass', b: 'fail R-1', c: 'pass' });
  t.same(outcomeDifferences(run([kase('a', 'non-strict', 'R-9'), kase('b', 'fail', 'R-1'), kase('c', 'pass')]), mem), [], 'equal');
  t.same(outcomeDifferences(run([kase('a', 'pass'), kase('b', 'fail', 'R-2'), kase('c', 'timeout', 'R-3')]), mem), [
    'b: over sockets fail R-2 / in process fail R-1',
    'c: over sockets timeout R-3 / in process pass',
  ]);
  t.same(outcomeDifferences(run([kase('a', 'pass'), kase('b', 'fail', 'R-1')]), mem), ['c: over sockets not run / in process pass'], 'a missing case differs');
  t.same(outcomeDifferences(mem, run([kase('a', 'non-strict'), kase('b', 'fail', 'R-1'), kase('c', 'pass')])), ['a: over sockets pass / in process non-strict'], 'in process, non-strict is not pass');
});

t.test('checkFaultRun: passes a run that shows the fault, fails one that does not', async (t) => {
  const failures: string[] = [];
  const rec = {
    ok: (v: unknown, m: string) => void (v ? undefined : failures.push(m)),
    same: (a: unknown, b: unknown, m: string) => void (JSON.stringify(a) === JSON.stringify(b) ? undefined : failures.push(m)),
  };
  const exp = { targets: ['a', 'b'], rules: ['R-1'] };
  checkFaultRun(rec, run([kase('a', 'fail', 'R-1'), kase('b', 'timeout', 'R-1'), kase('c', 'fail', 'R-1'), kase('d', 'pass')]), exp);
  t.same(failures, [], 'targets caught under the rule; another case may fail under it too');
  checkFaultRun(rec, run([kase('a', 'pass'), kase('b', 'fail', 'R-2'), kase('c', 'non-strict', 'R-3')]), exp);
  t.same(failures, ['a catches it (pass)', 'every failure names R-1', 'every other case passes'], 'a missed target, a failure under another rule, a non-strict case');
  failures.length = 0;
  checkFaultRun(rec, run([kase('a', 'fail', 'R-1'), kase('b', 'fail', 'R-1'), kase('c', 'non-strict', 'R-3')]), exp, { nonStrictAllowed: true });
  t.same(failures, [], 'non-strict allowed over sockets');
});

t.test('within: rejects work that hangs, passes through work that settles', async (t) => {
  await t.rejects(within(new Promise<never>(() => undefined), 20, 'the thing'), TestDeadlineError);
  await t.rejects(within(new Promise<never>(() => undefined), 20, 'the thing'), { message: /the thing did not settle within 20 ms/ });
  t.equal(await within(Promise.resolve(7), 60_000, 'x'), 7);
  await t.rejects(within(Promise.reject(new RangeError('no')), 60_000, 'x'), RangeError);
});
