/**
 * SPEC §8 Errors and connection close: client stream aborts. What a client
 * RESET_STREAM (PROTON-8.3, profile `resetStream`) and STOP_SENDING
 * (PROTON-8.6, profile `stopSending`) are is a profile reading; each case
 * states what the profile in force owes, waits for it (a close, or the
 * server's end of the stream), then checks the connection still serves.
 */
import type { ClientConnection, ClientStream } from '../../../harness/drivers/types.js';
import { CloseCode, commitAnswer, Discriminator, encodeItems, ITEM_SIZE, itemHex } from '../codec.js';
import type { ProtonProfile } from '../profile.js';
import { closeWithin, defineCase, openTyped, received, slack, type Ctx } from './_helpers.js';

const RESET =
  'Profile resetStream: violation: a client RESET_STREAM on an identified stream is a violation (0x1); ends-stream: it ends the client side there: a partial item is dropped, whole items are still answered, then the server sends FIN (on the Action stream at once), and the connection lives on.';
const STOP =
  'Profile stopSending: violation: a client STOP_SENDING on an identified stream is a violation (0x1); ends-stream: the server sends nothing more on that stream and ends its side (RESET_STREAM or FIN), and the connection lives on.';

/** What a RESET_STREAM owes under the profile, in words. */
const onReset = (p: ProtonProfile, endsWith: string): string =>
  p.resetStream === 'violation' ? closeWithin(CloseCode.PROTOCOL_VIOLATION, p, 'the RESET_STREAM') : `${endsWith}; the connection lives on (event 1 acknowledged on a new Event stream)`;

/** What a STOP_SENDING owes under the profile, in words. */
const onStop = (p: ProtonProfile, what: string): string =>
  p.stopSending === 'violation'
    ? closeWithin(CloseCode.PROTOCOL_VIOLATION, p, 'the STOP_SENDING')
    : `${what}; the server's side ended (RESET_STREAM or FIN) within ${p.toleranceMs} ms; the connection lives on (event 1 acknowledged on a new Event stream)`;

/**
 * After an abort: waits for the connection's close or the server's end of
 * `s`, then, when the connection lives on, `extraMs` more (the monitor
 * judges whatever comes meanwhile) and shows it still serves: event 1 on
 * a new Event stream is acknowledged (unless the case used the Event type).
 */
async function afterAbort(ctx: Ctx, c: ClientConnection, s: ClientStream, waitMs: number, extraMs: number, probe: boolean): Promise<void> {
  await ctx.until(() => c.isClosed || s.readEnded, waitMs);
  if (c.isClosed || ctx.violated()) return;
  await ctx.sleep(extraMs);
  if (c.isClosed || ctx.violated()) return;
  if (probe) {
    const e = await openTyped(c, Discriminator.Event, [1]);
    await received(ctx, e, ITEM_SIZE, slack(ctx.profile));
  }
  await ctx.settle(slack(ctx.profile));
}

export const errorCases = [
  defineCase({
    id: 'proton/errors/reset-event-stream',
    section: '8',
    rules: ['PROTON-8.3', 'PROTON-8.1', 'PROTON-4.5', 'PROTON-2.7'],
    description: 'Sends event 1, then RESET_STREAM (code 7) on the Event stream.',
    requirement: RESET,
    expected: (p) => ['ack 00000001', onReset(p, `FIN on the Event stream within ${p.toleranceMs} ms`)],
    deadlineMs: (p) => slack(p) * 3,
    async run(ctx) {
      const c = await ctx.connect();
      const s = await openTyped(c, Discriminator.Event, [1]);
      if (!(await received(ctx, s, 4, slack(ctx.profile)))) return;
      s.reset(7);
      // The Event type is taken (PROTON-3.3): the liveness check uses a StateCommit stream instead.
      await ctx.until(() => c.isClosed || s.readEnded, slack(ctx.profile));
      if (c.isClosed || ctx.violated()) return;
      const k = await openTyped(c, Discriminator.StateCommit, [2]);
      await received(ctx, k, ITEM_SIZE, ctx.profile.ioTimeoutMs + ctx.profile.toleranceMs);
      await ctx.settle(slack(ctx.profile));
    },
  }),
  defineCase({
    id: 'proton/errors/reset-event-stream-mid-item',
    section: '8',
    rules: ['PROTON-8.3', 'PROTON-8.1', 'PROTON-4.5'],
    description: 'Sends event 1 and two bytes of the next id, then RESET_STREAM (code 7) on the Event stream.',
    requirement: RESET,
    expected: (p) => ['ack 00000001', onReset(p, `the partial id dropped (no PROTON-4.6 close); FIN on the Event stream within ${p.toleranceMs} ms`)],
    deadlineMs: (p) => slack(p) * 2,
    async run(ctx) {
      const c = await ctx.connect();
      const s = await openTyped(c, Discriminator.Event, [1]);
      if (!(await received(ctx, s, 4, slack(ctx.profile)))) return;
      await s.write(new Uint8Array([0, 0]));
      s.reset(7);
      await afterAbort(ctx, c, s, slack(ctx.profile), 2 * ctx.profile.toleranceMs, false);
    },
  }),
  defineCase({
    id: 'proton/errors/reset-commit-stream-outstanding',
    section: '8',
    rules: ['PROTON-8.3', 'PROTON-8.1', 'PROTON-5.3', 'PROTON-5.4'],
    description: 'Sends commit 5, then RESET_STREAM (code 7) on the StateCommit stream before the answer.',
    requirement: RESET,
    expected: (p) => [onReset(p, `answer ${itemHex(commitAnswer(5))} after ${p.commitDelayMs} ms, then FIN`)],
    deadlineMs: (p) => p.ioTimeoutMs + slack(p) * 2,
    async run(ctx) {
      const c = await ctx.connect();
      const s = await openTyped(c, Discriminator.StateCommit, [5]);
      await ctx.sleep(20);
      s.reset(7);
      await afterAbort(ctx, c, s, ctx.profile.ioTimeoutMs + ctx.profile.toleranceMs, ctx.profile.toleranceMs, true);
    },
  }),
  defineCase({
    id: 'proton/errors/reset-action-stream',
    section: '8',
    rules: ['PROTON-8.3', 'PROTON-8.1', 'PROTON-8.7', 'PROTON-6.2'],
    description: 'Identifies an Action stream, waits for item 1, then sends RESET_STREAM (code 7) on it.',
    requirement: RESET,
    expected: (p) => [onReset(p, `FIN on the Action stream within ${p.toleranceMs} ms, no item after it`)],
    deadlineMs: (p) => p.actionIntervalMs + slack(p) * 2,
    async run(ctx) {
      const c = await ctx.connect();
      const s = await openTyped(c, Discriminator.Action);
      if (!(await received(ctx, s, ITEM_SIZE, ctx.profile.actionIntervalMs + slack(ctx.profile)))) return;
      s.reset(7);
      await afterAbort(ctx, c, s, slack(ctx.profile), 2 * ctx.profile.actionIntervalMs, true);
    },
  }),
  defineCase({
    id: 'proton/errors/stop-sending-action-stream',
    section: '8',
    rules: ['PROTON-8.6', 'PROTON-8.1', 'PROTON-8.7'],
    description: 'Identifies an Action stream, waits for item 1, then sends STOP_SENDING (code 9).',
    requirement: STOP,
    expected: (p) => [onStop(p, 'no action item after it')],
    deadlineMs: (p) => 3 * p.actionIntervalMs + slack(p) * 2,
    async run(ctx) {
      const c = await ctx.connect();
      const s = await openTyped(c, Discriminator.Action);
      if (!(await received(ctx, s, ITEM_SIZE, ctx.profile.actionIntervalMs + slack(ctx.profile)))) return;
      s.stopSending(9);
      // Two intervals more: a server that keeps pushing on the stopped stream is seen (PROTON-8.6).
      await afterAbort(ctx, c, s, slack(ctx.profile), 2 * ctx.profile.actionIntervalMs, true);
    },
  }),
  defineCase({
    id: 'proton/errors/stop-sending-event-stream',
    section: '8',
    rules: ['PROTON-8.6', 'PROTON-8.1', 'PROTON-8.7', 'PROTON-4.2'],
    description: 'Sends event 1, waits for its ack, sends STOP_SENDING (code 9) on the Event stream, then event 2.',
    requirement: STOP,
    expected: (p) => ['ack 00000001', onStop(p, 'no ack of event 2')],
    deadlineMs: (p) => slack(p) * 3,
    async run(ctx) {
      const c = await ctx.connect();
      const s = await openTyped(c, Discriminator.Event, [1]);
      if (!(await received(ctx, s, 4, slack(ctx.profile)))) return;
      s.stopSending(9);
      await ctx.sleep(20);
      if (c.isClosed) return;
      await s.write(encodeItems([2])).catch(() => undefined); // The server may have ended the stream both ways meanwhile.
      await ctx.until(() => c.isClosed || s.readEnded, slack(ctx.profile));
      if (c.isClosed || ctx.violated()) return;
      await ctx.sleep(2 * ctx.profile.toleranceMs);
      // A close may come while we wait (late on a loaded machine): the monitor judges it; the write it fails is no harness error.
      const k = await openTyped(c, Discriminator.StateCommit, [2]).catch((err: unknown) => {
        if (c.isClosed) return undefined;
        throw err;
      });
      if (!k) return;
      await received(ctx, k, ITEM_SIZE, ctx.profile.ioTimeoutMs + ctx.profile.toleranceMs);
      await ctx.settle(slack(ctx.profile));
    },
  }),
];
