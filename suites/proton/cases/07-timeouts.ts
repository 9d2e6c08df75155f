/** SPEC §7 Send/receive timeouts. */
import { CloseCode, closeCodeName, Discriminator } from '../codec.js';
import { defineCase, openTyped, received, slack } from './_helpers.js';

export const timeoutCases = [
  defineCase({
    id: 'proton/timeouts/partial-event-id',
    section: '7',
    rules: ['PROTON-7.1', 'PROTON-8.1'],
    description: 'Sends event 1, then two bytes of the next id, and waits.',
    requirement: 'A request item that has begun MUST be completed within ioTimeoutMs; otherwise the server closes with 0x4 IO_TIMEOUT.',
    expected: (p) => [`ack 00000001; connection closed with 0x4 IO_TIMEOUT ${p.ioTimeoutMs} ± ${p.toleranceMs} ms after the partial id`],
    deadlineMs: (p) => p.ioTimeoutMs + slack(p),
    async run(ctx) {
      const c = await ctx.connect();
      const s = await openTyped(c, Discriminator.Event, [1]);
      if (!(await received(ctx, s, 4, slack(ctx.profile)))) return;
      await s.write(new Uint8Array([0, 0]));
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'proton/timeouts/partial-commit-id',
    section: '7',
    rules: ['PROTON-7.1', 'PROTON-8.1'],
    description: 'Sends one byte of a commit id and waits.',
    requirement: 'A request item that has begun MUST be completed within ioTimeoutMs; otherwise the server closes with 0x4 IO_TIMEOUT.',
    expected: (p) => [`connection closed with ${closeCodeName(CloseCode.IO_TIMEOUT)} ${p.ioTimeoutMs} ± ${p.toleranceMs} ms after the byte`],
    deadlineMs: (p) => p.ioTimeoutMs + slack(p),
    async run(ctx) {
      const c = await ctx.connect();
      const s = c.openStream();
      await s.write(new Uint8Array([Discriminator.StateCommit, 0]));
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'proton/timeouts/idle-request-stream',
    section: '7',
    rules: ['PROTON-7.1', 'PROTON-2.7'],
    description: 'Identifies an Event stream, sends event 1, then stays silent for longer than the send/receive timeout.',
    requirement: 'Profile ioTimeoutScope: partial-item (default) times out only a begun item; idle-request-stream also times out a silent request stream.',
    expected: (p) => [p.ioTimeoutScope === 'partial-item' ? `no close during ${p.ioTimeoutMs + 2 * p.toleranceMs} ms` : `connection closed with 0x4 IO_TIMEOUT ${p.ioTimeoutMs} ± ${p.toleranceMs} ms after event 1`],
    deadlineMs: (p) => p.ioTimeoutMs + slack(p) * 2,
    async run(ctx) {
      const c = await ctx.connect();
      const s = await openTyped(c, Discriminator.Event, [1]);
      if (!(await received(ctx, s, 4, slack(ctx.profile)))) return;
      await ctx.until(() => c.isClosed, ctx.profile.ioTimeoutMs + 2 * ctx.profile.toleranceMs);
      await ctx.settle();
    },
  }),
];
