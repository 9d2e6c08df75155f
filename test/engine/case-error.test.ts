/**
 * A case body's error (verdict `error`, exit 3) names the close of the
 * target that came before it, when there is one: the case met a close it
 * did not expect, which the model did not fault (harness/engine/case-run.ts).
 */
import t from 'tap';
import { createMemoryTarget } from '../../harness/drivers/memory.js';
import { VirtualClock } from '../../harness/engine/clock.js';
import { runCase } from '../../harness/engine/case-run.js';
import type { CaseContext } from '../../harness/engine/types.js';
import { toyCore, toySuite, type ToyProfile } from '../fixtures/_toy.js';

/** Runs `body` against the toy echo server in memory. */
async function run(body: (ctx: CaseContext<ToyProfile>) => Promise<void>) {
  const clock = new VirtualClock();
  const mem = createMemoryTarget({ core: toyCore(), clock });
  return clock.run(runCase({ driver: mem.driver, connect: mem.connect, profile: toySuite.defaultProfile, monitor: toySuite.createMonitor(toySuite.defaultProfile), deadlineMs: 1000, clock, body }));
}

t.test('an error after the target closed a connection names that close (its reason JSON-quoted)', async (t) => {
  const out = await run(async (ctx) => {
    const c = await ctx.connect();
    ctx.trace.record({ type: 'conn_close', conn: c.conn, by: 'server', isApp: true, code: 0x2a, reason: 'bye\u001b[2J' });
    throw new Error('write on stream 0: connection closed');
  });
  t.equal(out.verdict, 'error');
  t.equal(out.message, "write on stream 0: connection closed (after the target's close of connection 0 at +0.0 ms: application code 0x2a \"bye\\u001b[2J\", which the model did not fault and the case did not expect)");
});

t.test('an error with no close of the target before it: the error alone', async (t) => {
  const out = await run(async (ctx) => {
    const c = await ctx.connect();
    ctx.trace.record({ type: 'conn_close', conn: c.conn, by: 'client', isApp: true, code: 0, reason: '' });
    throw new Error('boom');
  });
  t.equal(out.verdict, 'error');
  t.equal(out.message, 'boom');
});
