/** The Moonpool suite catches each deliberate fault of the reference server (first half). */
import { testFault } from './_faults.js';

for (const f of ['wrong-correlation-id', 'drop-replies-after-stall', 'accept-oversized']) testFault(f);
