/**
 * The suite catches each deliberate fault of the Proton reference server,
 * in the intended cases, under the intended rules, and nowhere else. In
 * process, in virtual time (the reference core over the memory driver): the
 * verdicts do not depend on the machine's load. test/suite/reference.test.ts
 * shows that in-process verdicts equal those over QUIC.
 */
import t from 'tap';
import { faults } from '../../reference-server/proton/faults.js';
import { suite } from '../../suites/proton/index.js';
import { faultExpectations, testFault } from './_faults.js';

t.same(Object.keys(faultExpectations).sort(), Object.keys(faults).sort(), 'every fault is tested');
const ids = new Set(suite.cases.map((c) => c.id));
t.same(Object.values(faultExpectations).flatMap((e) => e.targets).filter((id) => !ids.has(id)), [], 'every target is a case of the suite');
for (const f of Object.keys(faultExpectations)) testFault(f);
