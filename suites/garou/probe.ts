/**
 * The Garou sanity probe: one valid exchange, run before the suite, after
 * any case that did not pass, and at the end: authenticate, create a group
 * room, send a message, receive it back on the room's shard stream.
 */
import { GClient, type Ctx } from './cases/_helpers.js';

/**
 * @throws Error naming the step that failed (connect errors propagate as ConnectError).
 */
export async function garouProbe(ctx: Ctx): Promise<void> {
  const c = await GClient.login(ctx, 'probe', `probe-${Math.floor(Math.random() * 1e9)}`);
  const room = await c.createRoom('probe', 'group');
  const ack = await c.cmd('SendMessage', { room_id: room, body: 'probe' });
  if (ack?.name !== 'MessageAck') throw new Error(`SendMessage was not acknowledged (${ack ? JSON.stringify(ack.payload) : 'no answer'})`);
  if (!(await c.waitSeq(room, 1))) throw new Error(`the probe's own RoomMessage in room ${room} did not come back`);
  await c.close();
}
