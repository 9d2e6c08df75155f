/** The suite catches each deliberate fault of the reference server (first half). */
import { testFault } from './_faults.js';

for (const f of ['accept-second-connection', 'ignore-unknown-discriminator', 'allow-duplicate-stream', 'never-time-out', 'wrong-ack-id']) testFault(f);
