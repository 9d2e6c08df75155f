/**
 * The one check of a fault matrix row: a suite run against a reference server
 * (or core) with one deliberate fault catches it in the intended cases, under
 * the intended rules, and nowhere else. Used by test/suite (Proton) and
 * test/moonpool, in process and over sockets alike.
 */
import type { RunResult } from '../../harness/engine/types.js';
import { byVerdict } from './in-process.js';

/** What a fault must do to a suite run. */
export interface FaultExpectation {
  /** Cases that must fail (or time out) because of it. */
  readonly targets: readonly string[];
  /** Rules its failures may name (every failing case must name one). */
  readonly rules: readonly string[];
  /** For a fault that kills the server: the case after which the target is reported dead (once); later cases are `skipped`. */
  readonly diesAfter?: string;
}

/** The part of tap's `Test` the check uses. */
interface Asserts {
  ok(value: unknown, message: string): unknown;
  same(found: unknown, wanted: unknown, message: string): unknown;
}

/**
 * Asserts that `run` shows the fault as `exp` says: every target that ran
 * failed or timed out; every failure names one of `exp.rules`; every other
 * case passed (`pass`, or `non-strict` when `nonStrictAllowed`, for runs
 * over real sockets, where SHOULD windows are wall time); no harness error;
 * and either the target stayed usable (no skipped case, every probe passed)
 * or it died exactly after `exp.diesAfter`.
 * `targets` defaults to `exp.targets`; pass a subset when the run selected only some cases.
 */
export function checkFaultRun(t: Asserts, run: RunResult, exp: FaultExpectation, opts: { readonly targets?: readonly string[]; readonly nonStrictAllowed?: boolean } = {}): void {
  const targets = opts.targets ?? exp.targets;
  const failed = run.cases.filter((c) => c.verdict === 'fail' || c.verdict === 'timeout');
  for (const id of targets) {
    const c = run.cases.find((x) => x.id === id);
    t.ok(c && (c.verdict === 'fail' || c.verdict === 'timeout'), `${id} catches it (${c?.verdict ?? 'missing'})`);
  }
  t.same(failed.filter((c) => !exp.rules.includes(c.rule ?? '')).map((c) => `${c.id}: ${c.rule ?? ''} ${c.message ?? ''}`), [], `every failure names ${exp.rules.join(' or ')}`);
  const v = byVerdict(run);
  t.same(v['error'] ?? [], [], 'no harness error');
  const fine = (verdict: string) => verdict === 'pass' || (opts.nonStrictAllowed === true && verdict === 'non-strict');
  const expectedFailures = new Set(failed.map((c) => c.id));
  if (exp.diesAfter !== undefined) {
    const died = run.cases.filter((c) => c.targetDiedAfter).map((c) => c.id);
    t.same(died, [exp.diesAfter], `the target is reported dead after ${exp.diesAfter}, once`);
    const at = run.cases.findIndex((c) => c.id === exp.diesAfter);
    t.ok(at >= 0 && run.cases.slice(at + 1).every((c) => c.verdict === 'skipped'), 'the rest is skipped, not a cascade of timeouts');
    t.same(run.cases.slice(0, at).filter((c) => !fine(c.verdict)).map((c) => `${c.id}: ${c.verdict}`), [], 'everything before it passed');
  } else {
    t.same(v['skipped'] ?? [], [], 'no skipped case: the target stays usable');
    t.ok(run.probes.every((p) => p.ok || p.verdict === 'wrong'), 'the sanity probe keeps getting answers (a wrong one is judged by the model: engine/probe.ts)');
    t.same(run.cases.filter((c) => !expectedFailures.has(c.id) && !fine(c.verdict)).map((c) => `${c.id}: ${c.verdict} ${c.message ?? ''}`), [], `every other case passes${opts.nonStrictAllowed ? ' (or is non-strict)' : ''}`);
  }
}
