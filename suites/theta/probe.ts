/**
 * The Theta sanity probe: one valid exchange (a SessionHello and its
 * acknowledgement), run before the suite, after any case that did not
 * pass, and at the end. The monitor judges the acknowledgement (a wrong
 * one is a `wrong` probe with its rule: harness/engine/probe.ts); the
 * probe's own wait has its own deadline.
 */
import { CloseCode } from './codec.js';
import { Session, slack, validHello, type Ctx } from './cases/_helpers.js';

/**
 * Connects, sends a valid SessionHello and waits for the acknowledgement.
 * @throws Error naming the step that failed (connect errors propagate as ConnectError).
 */
export async function thetaProbe(ctx: Ctx): Promise<void> {
  const s = await Session.open(ctx, 'probe');
  await s.send(validHello(ctx.profile));
  if (!(await s.until((x) => x.ack !== undefined, slack(ctx.profile)))) {
    throw new Error(s.conn.isClosed ? 'the target closed the probe connection before acknowledging the SessionHello' : 'no SessionAcknowledge for a valid SessionHello');
  }
  await s.conn.close(CloseCode.NO_ERROR, 'wirecheck: probe done');
}
