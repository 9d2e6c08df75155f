/**
 * SPEC §7 Send/receive timeouts. Which streams the receive timeout covers
 * (`ioTimeoutStreams`) and what it measures (`ioTimeoutScope`) are profile
 * readings: each case says what the profile in force makes of it, and waits
 * long enough to see a close that reading owes, or its absence.
 */
import { CloseCode, closeCodeName, Discriminator, ITEM_SIZE } from '../codec.js';
import type { ProtonProfile } from '../profile.js';
import { closed, defineCase, ioCovers, ioWatchMs, openTyped, received, slack } from './_helpers.js';

const IO = `${closeCodeName(CloseCode.IO_TIMEOUT)}`;
const READINGS =
  'Profile ioTimeoutStreams lists the request streams the receive timeout covers; ioTimeoutScope partial-item times out a begun item ioTimeoutMs after its first byte, idle-request-stream a stream idle for ioTimeoutMs since its last byte or the server\'s last answer, while nothing is owed on it; the server then closes with 0x4 IO_TIMEOUT.';

/** The close a stream left with a partial item owes under the profile (both scopes time it from the same byte here: one write). */
const partialExpected = (p: ProtonProfile, kind: 'event' | 'commit', what: string): string =>
  ioCovers(p, kind) ? `connection closed with ${IO} ${p.ioTimeoutMs} ± ${p.toleranceMs} ms after ${what}` : `no close during ${ioWatchMs(p)} ms (${kind} streams not in ioTimeoutStreams)`;

/** The close an idle stream owes under the profile. */
const idleExpected = (p: ProtonProfile, kind: 'event' | 'commit', after: string): string =>
  p.ioTimeoutScope === 'idle-request-stream' && ioCovers(p, kind)
    ? `connection closed with ${IO} ${p.ioTimeoutMs} ± ${p.toleranceMs} ms after ${after}`
    : `no close during ${ioWatchMs(p)} ms (${p.ioTimeoutScope === 'partial-item' ? 'ioTimeoutScope partial-item' : `${kind} streams not in ioTimeoutStreams`})`;

export const timeoutCases = [
  defineCase({
    id: 'proton/timeouts/partial-event-id',
    section: '7',
    rules: ['PROTON-7.1', 'PROTON-8.1', 'PROTON-2.7'],
    description: 'Sends event 1, then two bytes of the next id, and waits.',
    requirement: READINGS,
    expected: (p) => ['ack 00000001', partialExpected(p, 'event', 'the partial id')],
    deadlineMs: (p) => ioWatchMs(p) + slack(p),
    async run(ctx) {
      const c = await ctx.connect();
      const s = await openTyped(c, Discriminator.Event, [1]);
      if (!(await received(ctx, s, 4, slack(ctx.profile)))) return;
      await s.write(new Uint8Array([0, 0]));
      await closed(ctx, c, ioWatchMs(ctx.profile));
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'proton/timeouts/partial-commit-id',
    section: '7',
    rules: ['PROTON-7.1', 'PROTON-8.1', 'PROTON-2.7'],
    description: 'Sends one byte of a commit id and waits.',
    requirement: READINGS,
    expected: (p) => [partialExpected(p, 'commit', 'the byte')],
    deadlineMs: (p) => ioWatchMs(p) + slack(p),
    async run(ctx) {
      const c = await ctx.connect();
      const s = c.openStream();
      await s.write(new Uint8Array([Discriminator.StateCommit, 0]));
      await closed(ctx, c, ioWatchMs(ctx.profile));
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'proton/timeouts/idle-request-stream',
    section: '7',
    rules: ['PROTON-7.1', 'PROTON-2.7'],
    description: 'Identifies an Event stream, sends event 1, then stays silent for longer than the send/receive timeout.',
    requirement: READINGS,
    expected: (p) => ['ack 00000001', idleExpected(p, 'event', 'event 1')],
    deadlineMs: (p) => ioWatchMs(p) + slack(p) * 2,
    async run(ctx) {
      const c = await ctx.connect();
      const s = await openTyped(c, Discriminator.Event, [1]);
      if (!(await received(ctx, s, 4, slack(ctx.profile)))) return;
      await closed(ctx, c, ioWatchMs(ctx.profile));
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'proton/timeouts/idle-commit-stream-after-answer',
    section: '7',
    rules: ['PROTON-7.1', 'PROTON-5.3', 'PROTON-2.7'],
    description: 'Sends commit 3, reads the answer, then stays silent for longer than the send/receive timeout.',
    requirement: `${READINGS} Nothing is owed by the client while its request is processed; idleness counts from the answer.`,
    expected: (p) => [`answer 00000006 after ${p.commitDelayMs} ms`, idleExpected(p, 'commit', 'the answer')],
    deadlineMs: (p) => p.ioTimeoutMs + ioWatchMs(p) + slack(p) * 2,
    async run(ctx) {
      const c = await ctx.connect();
      const s = await openTyped(c, Discriminator.StateCommit, [3]);
      if (!(await received(ctx, s, ITEM_SIZE, ctx.profile.ioTimeoutMs + ctx.profile.toleranceMs))) return;
      await closed(ctx, c, ioWatchMs(ctx.profile));
      await ctx.settle();
    },
  }),
];
