/** The Moonpool suite catches each deliberate fault of the reference server (second half). */
import t from 'tap';
import { faults } from '../../reference-server/moonpool/faults.js';
import { faultExpectations, testFault } from './_faults.js';

t.same(Object.keys(faultExpectations).sort(), Object.keys(faults).sort(), 'every fault is tested');
for (const f of ['wrong-pong-payload', 'close-stalled-connection', 'crash-on-truncated']) testFault(f);
