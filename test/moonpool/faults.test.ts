/**
 * The Moonpool suite catches each deliberate fault of the reference server,
 * in the intended cases, under the intended rules, and nowhere else: every
 * case but the network-only ones, in process, in virtual time (the verdicts
 * do not depend on the machine's load). test/moonpool/suite.test.ts shows
 * that in-process verdicts equal those over TCP; the network-only cases
 * are checked over TCP by test/moonpool/faults-network.test.ts.
 */
import t from 'tap';
import { faults, variants } from '../../reference-server/moonpool/faults.js';
import { suite } from '../../suites/moonpool/index.js';
import { checkFaultRun } from '../_support/faults.js';
import { faultExpectations, testFault } from './_faults.js';
import { runInProcess } from './_run.js';

t.same(Object.keys(faultExpectations).sort(), Object.keys(faults).sort(), 'every fault is tested');
const ids = new Set(suite.cases.map((c) => c.id));
t.same(Object.values(faultExpectations).flatMap((e) => [...e.targets, ...(e.diesAfter !== undefined ? [e.diesAfter] : [])]).filter((id) => !ids.has(id)), [], 'every target is a case of the suite');
for (const f of Object.keys(faultExpectations)) testFault(f);

t.test('conforming variants pass every case (a reading, not a fault)', async (t) => {
  // reorder-pipelined: replies last first; MOONPOOL-3.4 lets them come in any order.
  for (const variant of Object.keys(variants)) checkFaultRun(t, await runInProcess({ fault: variant }), { targets: [], rules: [] });
});
