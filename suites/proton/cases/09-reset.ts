/** SPEC §9 Reset: the 0xFF discriminator. */
import { CloseCode, Discriminator } from '../codec.js';
import { defineCase, openTyped, received, slack } from './_helpers.js';

const RESET = 'On a stream whose discriminator is 0xFF, the server MUST close every other live connection with 0x0, then close the requesting connection with 0x0 and reason RESET_OK.';

export const resetCases = [
  defineCase({
    id: 'proton/reset/alone',
    section: '9',
    rules: ['PROTON-9.1'],
    description: 'Connects and opens a stream whose only byte is 0xFF.',
    requirement: RESET,
    expected: (p) => [`connection closed with 0x0 and reason "RESET_OK" within ${p.toleranceMs} ms`],
    deadlineMs: slack,
    async run(ctx) {
      const c = await ctx.connect();
      await openTyped(c, Discriminator.Reset);
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'proton/reset/with-streams-open',
    section: '9',
    rules: ['PROTON-9.1', 'PROTON-9.2'],
    description: 'Opens Event and Action streams, then a Reset stream followed by 7 trailing bytes.',
    requirement: RESET + ' Bytes after the 0xFF discriminator are ignored.',
    expected: (p) => [`connection closed with 0x${CloseCode.RESET_OK} and reason "RESET_OK" within ${p.toleranceMs} ms`],
    deadlineMs: slack,
    async run(ctx) {
      const c = await ctx.connect();
      const e = await openTyped(c, Discriminator.Event, [1]);
      await openTyped(c, Discriminator.Action);
      await received(ctx, e, 4, slack(ctx.profile));
      const r = c.openStream();
      await r.write(new Uint8Array([Discriminator.Reset, 1, 2, 3, 4, 5, 6, 7]));
      await ctx.until(() => c.isClosed, slack(ctx.profile));
    },
  }),
  defineCase({
    id: 'proton/reset/reconnect-at-once',
    section: '9',
    rules: ['PROTON-9.1', 'PROTON-9.3'],
    description: 'Resets, then connects again at once and sends event 1.',
    requirement: 'After a reset the client may connect again at once, without the startup delay.',
    expected: (p) => ['reset closes with 0x0 RESET_OK', `event 1 on the new connection acknowledged within ${p.toleranceMs} ms`],
    deadlineMs: (p) => slack(p) * 2,
    async run(ctx) {
      const c = await ctx.connect();
      await openTyped(c, Discriminator.Reset);
      if ((await ctx.settle()) !== 'settled') return;
      const d = await ctx.connect();
      const s = await openTyped(d, Discriminator.Event, [1]);
      await received(ctx, s, 4, slack(ctx.profile));
      await ctx.settle();
    },
  }),
];
