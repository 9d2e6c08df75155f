/** SPEC §8 Errors and connection close: stream aborts are connection errors. */
import { CloseCode, Discriminator } from '../codec.js';
import { closeWithin, defineCase, openTyped, received, slack } from './_helpers.js';

export const errorCases = [
  defineCase({
    id: 'proton/errors/reset-event-stream',
    section: '8',
    rules: ['PROTON-8.3', 'PROTON-8.1'],
    description: 'Sends event 1, then RESET_STREAM (code 7) on the Event stream.',
    requirement: 'A client RESET_STREAM or STOP_SENDING on an identified stream is a violation (0x1).',
    expected: (p) => ['ack 00000001', closeWithin(CloseCode.PROTOCOL_VIOLATION, p, 'the RESET_STREAM')],
    deadlineMs: slack,
    async run(ctx) {
      const c = await ctx.connect();
      const s = await openTyped(c, Discriminator.Event, [1]);
      if (!(await received(ctx, s, 4, slack(ctx.profile)))) return;
      s.reset(7);
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'proton/errors/stop-sending-action-stream',
    section: '8',
    rules: ['PROTON-8.3', 'PROTON-8.1'],
    description: 'Identifies an Action stream, waits for item 1, then sends STOP_SENDING (code 9).',
    requirement: 'A client RESET_STREAM or STOP_SENDING on an identified stream is a violation (0x1).',
    expected: (p) => [closeWithin(CloseCode.PROTOCOL_VIOLATION, p, 'the STOP_SENDING')],
    deadlineMs: (p) => p.actionIntervalMs + slack(p),
    async run(ctx) {
      const c = await ctx.connect();
      const s = await openTyped(c, Discriminator.Action);
      if (!(await received(ctx, s, 4, ctx.profile.actionIntervalMs + slack(ctx.profile)))) return;
      s.stopSending(9);
      await ctx.until(() => c.isClosed, slack(ctx.profile));
    },
  }),
];
