/**
 * The Proton sanity probe: one valid exchange (an event and its ack), run
 * before the suite, after any case that did not pass, and at the end.
 */
import { Discriminator } from './codec.js';
import { openTyped, received, type Ctx } from './cases/_helpers.js';

/**
 * Connects, sends event id 1 and waits for its ack.
 * @throws Error naming the step that failed (connect errors propagate as ConnectError).
 */
export async function protonProbe(ctx: Ctx): Promise<void> {
  const conn = await ctx.connect();
  const s = await openTyped(conn, Discriminator.Event, [1]);
  if (!(await received(ctx, s, 4, 2_000 + 2 * ctx.profile.toleranceMs))) {
    throw new Error(conn.isClosed ? 'the target closed the probe connection before acknowledging event 1' : 'no ack for event 1');
  }
  await conn.close(0, 'wirecheck: probe done');
}
