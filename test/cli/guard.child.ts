// Child of guard.test.ts: installs the process guard, registers a flusher
// that writes $GUARD_OUT, then fails the way argv[2] says.
import { writeFile } from 'node:fs/promises';
import { installProcessGuard, onEmergency } from '../../harness/engine/process-guard.js';

installProcessGuard();
onEmergency(async (why) => writeFile(process.env['GUARD_OUT']!, why));
const how = process.argv[2];
setInterval(() => undefined, 1000); // keeps the process alive until the guard ends it
if (how === 'reject') void Promise.reject(new Error('boom: a rejection nobody handled'));
else if (how === 'throw') setTimeout(() => {
  throw new Error('boom: thrown from a timer');
}, 10);
else if (how === 'term') setTimeout(() => process.kill(process.pid, 'SIGTERM'), 10);
