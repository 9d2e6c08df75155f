/** The suite catches each deliberate fault of the reference server (second half). */
import t from 'tap';
import { faults } from '../../reference-server/proton/faults.js';
import { faultExpectations, testFault } from './_faults.js';

t.same(Object.keys(faultExpectations).sort(), Object.keys(faults).sort(), 'every fault is tested');
for (const f of ['accept-non-increasing-ids', 'wrong-commit-answer', 'skip-action-items', 'wrong-close-code', 'ignore-reset']) testFault(f);
