/**
 * The Moonpool sanity probe: one exchange (PING and a reply), run before
 * the suite, after any case that did not pass, and at the end. It asks "is
 * the target alive and serving?", not "does it conform?": any well-formed
 * reply will do (a wrong id or payload is for the cases to report).
 */
import { pingFrame, slack, Wire, type Ctx } from './cases/_helpers.js';

/**
 * Connects, sends PING #1 and waits for a reply envelope.
 * @throws Error naming the step that failed (connect errors propagate as ConnectError).
 */
export async function moonpoolProbe(ctx: Ctx): Promise<void> {
  const w = await Wire.open(ctx);
  await w.send(pingFrame(1));
  if (!(await w.awaitReplies(1, slack(ctx.profile)))) {
    throw new Error(w.conn.isClosed ? 'the target closed the probe connection before answering PING #1' : `no reply to PING #1 within ${slack(ctx.profile)} ms`);
  }
  await w.close();
}
