/** SPEC §5 StateCommit stream: the answer, one outstanding request, the processing delay. */
import { CloseCode, Discriminator, encodeItems } from '../codec.js';
import type { ProtonProfile } from '../profile.js';
import { closeWithin, defineCase, openTyped, received, slack } from './_helpers.js';

const ANSWER = 'After the discriminator the client sends a 4-byte id; the server MUST answer (id × 2) mod 2^32 on the same stream.';
const commitDeadline = (p: ProtonProfile): number => p.ioTimeoutMs + slack(p);

export const commitCases = [
  defineCase({
    id: 'proton/commit/answer',
    section: '5',
    rules: ['PROTON-5.1', 'PROTON-5.3'],
    description: 'Sends commit id 21.',
    requirement: ANSWER,
    expected: (p) => [`answer 0000002a after ${p.commitDelayMs} ± ${p.toleranceMs} ms`],
    deadlineMs: commitDeadline,
    async run(ctx) {
      const c = await ctx.connect();
      const s = await openTyped(c, Discriminator.StateCommit, [21]);
      await received(ctx, s, 4, ctx.profile.ioTimeoutMs + ctx.profile.toleranceMs);
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'proton/commit/wrap-around',
    section: '5',
    rules: ['PROTON-5.1'],
    description: 'Sends commit id 0x80000001, whose double overflows 32 bits.',
    requirement: ANSWER,
    expected: () => ['answer 00000002'],
    deadlineMs: commitDeadline,
    async run(ctx) {
      const c = await ctx.connect();
      const s = await openTyped(c, Discriminator.StateCommit, [0x8000_0001]);
      await received(ctx, s, 4, ctx.profile.ioTimeoutMs + ctx.profile.toleranceMs);
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'proton/commit/sequential',
    section: '5',
    rules: ['PROTON-5.1', 'PROTON-5.2', 'PROTON-5.3'],
    description: 'Sends commit 7, waits for the answer, then sends commit 8.',
    requirement: 'At most one request is outstanding; the next may follow the answer.',
    expected: () => ['answers 0000000e then 00000010, each after the processing delay'],
    deadlineMs: (p) => 2 * commitDeadline(p),
    async run(ctx) {
      const c = await ctx.connect();
      const s = await openTyped(c, Discriminator.StateCommit, [7]);
      if (!(await received(ctx, s, 4, ctx.profile.ioTimeoutMs + ctx.profile.toleranceMs))) return;
      await s.write(encodeItems([8]));
      await received(ctx, s, 8, ctx.profile.ioTimeoutMs + ctx.profile.toleranceMs);
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'proton/commit/second-outstanding',
    section: '5',
    rules: ['PROTON-5.2', 'PROTON-8.1'],
    description: 'Sends commits 1 and 2 in one write, without waiting for the first answer.',
    requirement: 'At most one request is outstanding. A second id before the answer to the first is a violation (0x1).',
    expected: (p) => [closeWithin(CloseCode.PROTOCOL_VIOLATION, p, 'the second id')],
    deadlineMs: slack,
    async run(ctx) {
      const c = await ctx.connect();
      await openTyped(c, Discriminator.StateCommit, [1, 2]);
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'proton/commit/fin-after-request',
    section: '5',
    rules: ['PROTON-5.4'],
    description: 'Sends commit 5 and FIN together.',
    requirement: 'A client FIN after a whole request: the server MUST still answer the outstanding request and MUST NOT end its side before; it SHOULD then send its FIN within toleranceMs.',
    expected: () => ['answer 0000000a after the processing delay, then the server FIN'],
    deadlineMs: commitDeadline,
    async run(ctx) {
      const c = await ctx.connect();
      const s = await openTyped(c, Discriminator.StateCommit, [5]);
      await s.end();
      await ctx.until(() => s.readEnded, ctx.profile.ioTimeoutMs + ctx.profile.toleranceMs);
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'proton/commit/truncated-then-fin',
    section: '5',
    rules: ['PROTON-5.5', 'PROTON-8.1'],
    description: 'Sends three bytes of a commit id, then FIN.',
    requirement: 'A client FIN inside a request (1–3 bytes) is a violation (0x1).',
    expected: (p) => [closeWithin(CloseCode.PROTOCOL_VIOLATION, p, 'the FIN')],
    deadlineMs: slack,
    async run(ctx) {
      const c = await ctx.connect();
      const s = c.openStream();
      await s.write(new Uint8Array([Discriminator.StateCommit, 0, 0, 1]));
      await s.end();
      await ctx.settle();
    },
  }),
];
