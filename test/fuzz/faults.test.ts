/**
 * A bounded fuzz campaign finds each deliberate fault of the reference
 * server and names the right rule; the same budget against the conforming
 * server finds nothing. In-process (the reference core over the memory
 * driver, virtual time): deterministic and fast, so three seeds each.
 */
import t from 'tap';
import { faultNames, LONG_WATCH_FAULTS } from '../../reference-server/proton/faults.js';
import { coverageOf } from '../../harness/fuzz/report.js';
import { faultExpectations } from '../suite/_faults.js';
import { campaign, memoryTarget } from './_helpers.js';

/** Programs per campaign: the budget every fault must be found within. */
const BUDGET = 300;
const SEEDS = [1, 2, 3];

t.test('every fault is found within the budget, under its rule', async (t) => {
  const budgets: string[] = [];
  // A fault only a long watch shows is the suite's to catch (test/suite/_faults.ts), not a bounded program's.
  for (const fault of faultNames.filter((f) => !LONG_WATCH_FAULTS.includes(f))) {
    const rules = faultExpectations[fault]!.rules;
    const found: number[] = [];
    for (const seed of SEEDS) {
      const r = await campaign(memoryTarget(fault), { seed, runs: BUDGET });
      t.ok(r.findings.length > 0, `${fault} (seed ${seed}) is found`);
      t.same(r.findings.filter((f) => !rules.includes(f.rule)).map((f) => `${f.rule}: ${f.message}`), [], `${fault} (seed ${seed}): every finding names ${rules.join(' or ')}`);
      t.same(r.findings.filter((f) => f.targetDied), [], 'the target stays alive');
      for (const f of r.findings) {
        t.ok(f.listing.split('\n').length >= 2 && f.fixture.steps.length > 0, `${f.id}: a readable counterexample and a fixture`);
        t.match(f.result.message ?? '', /\[replay: --arbitraries [a-z-]+ --replay -?\d+:\d+(:\d+)*\]/, 'the replay token is in the report');
      }
      found.push(Math.min(...r.findings.map((f) => f.foundAfter.generated)));
    }
    budgets.push(`${fault}: found after ${found.join(', ')} programs (seeds ${SEEDS.join(', ')})`);
  }
  t.comment(`budgets:\n${budgets.join('\n')}`);
});

t.test('the same budget against the reference server finds nothing, and covers the model', async (t) => {
  const missing = new Map<string, number>();
  for (const seed of SEEDS) {
    const r = await campaign(memoryTarget(), { seed, runs: BUDGET });
    t.same(r.findings.map((f) => `${f.rule}: ${f.message}\n${f.listing}`), [], `seed ${seed}: no finding`);
    t.equal(r.stats.generated, BUDGET, 'the whole budget ran');
    t.equal(r.stats.errors, 0, 'no harness error');
    t.equal(r.stats.probeFailures, 0, 'every liveness probe passed');
    for (const l of coverageOf(r).missing) missing.set(l, (missing.get(l) ?? 0) + 1);
  }
  const never = [...missing].filter(([, n]) => n === SEEDS.length).map(([l]) => l);
  t.same(never, ['transition:reopen-stream-type'], 'every label is reached by some seed, but the reopen one (profile reopenStreamType is false)');
});
