/** SPEC §6 Action stream: counter continuity, rate, client silence. */
import { CloseCode, Discriminator, ITEM_SIZE } from '../codec.js';
import type { ProtonProfile } from '../profile.js';
import { closeWithin, defineCase, openTyped, received, slack } from './_helpers.js';

/**
 * How many items the continuity case watches: at least 30 and at least 2 s
 * worth (PROTON-6.2 "for as long as the connection lives": a server that
 * stops after a few items must not pass).
 */
export function watchedItems(p: ProtonProfile): number {
  return Math.max(30, Math.ceil(2_000 / p.actionIntervalMs));
}

export const actionCases = [
  defineCase({
    id: 'proton/action/continuity-and-rate',
    section: '6',
    rules: ['PROTON-6.2', 'PROTON-6.3'],
    description: 'Identifies an Action stream and reads max(30, 2 s worth of) items.',
    requirement:
      'The server sends a counter starting at 1 and increasing by one per item, for as long as the connection lives; each item SHOULD come within toleranceMs of one interval after the previous one, and MUST come within two intervals plus toleranceMs.',
    expected: (p) => [`items 1..${watchedItems(p)}, one every ${p.actionIntervalMs} ± ${p.toleranceMs} ms`],
    deadlineMs: (p) => watchedItems(p) * p.actionIntervalMs + slack(p),
    async run(ctx) {
      const c = await ctx.connect();
      const s = await openTyped(c, Discriminator.Action);
      const n = watchedItems(ctx.profile);
      await received(ctx, s, n * ITEM_SIZE, n * ctx.profile.actionIntervalMs + slack(ctx.profile));
    },
  }),
  defineCase({
    id: 'proton/action/fin-after-discriminator',
    section: '6',
    rules: ['PROTON-6.1', 'PROTON-6.2'],
    description: 'Identifies an Action stream with the discriminator and FIN together, then reads max(30, 2 s worth of) items.',
    requirement: 'A client FIN right after the discriminator is allowed and does not stop the push (watched as long as the continuity case: a push that stops soon after the FIN must not pass).',
    expected: (p) => [`items 1..${watchedItems(p)}, one every ${p.actionIntervalMs} ms; no close`],
    deadlineMs: (p) => watchedItems(p) * p.actionIntervalMs + slack(p),
    async run(ctx) {
      const c = await ctx.connect();
      const s = await openTyped(c, Discriminator.Action);
      await s.end();
      const n = watchedItems(ctx.profile);
      await received(ctx, s, n * ITEM_SIZE, n * ctx.profile.actionIntervalMs + slack(ctx.profile));
    },
  }),
  defineCase({
    id: 'proton/action/client-bytes',
    section: '6',
    rules: ['PROTON-6.1', 'PROTON-8.1'],
    description: 'Identifies an Action stream, waits for item 1, then writes 4 bytes on it.',
    requirement: 'After the discriminator the client sends nothing: any further byte is a violation (0x1).',
    expected: (p) => [closeWithin(CloseCode.PROTOCOL_VIOLATION, p, 'the client bytes')],
    deadlineMs: (p) => p.actionIntervalMs + slack(p),
    async run(ctx) {
      const c = await ctx.connect();
      const s = await openTyped(c, Discriminator.Action);
      if (!(await received(ctx, s, ITEM_SIZE, ctx.profile.actionIntervalMs + slack(ctx.profile)))) return;
      await s.write(new Uint8Array([0, 0, 0, 1]));
      await ctx.until(() => c.isClosed, slack(ctx.profile));
    },
  }),
  defineCase({
    id: 'proton/action/all-streams-together',
    section: '6',
    rules: ['PROTON-3.1', 'PROTON-4.3', 'PROTON-5.1', 'PROTON-6.2'],
    description: 'Opens Event, StateCommit and Action streams at once; sends events 1–3 and commit 4 while reading actions.',
    requirement: 'The three streams run independently on one connection.',
    expected: (p) => ['acks 1..3', 'answer 00000008 after the processing delay', `action items every ${p.actionIntervalMs} ms meanwhile`],
    deadlineMs: (p) => p.ioTimeoutMs + slack(p),
    async run(ctx) {
      const c = await ctx.connect();
      const a = await openTyped(c, Discriminator.Action);
      const e = await openTyped(c, Discriminator.Event, [1, 2, 3]);
      const k = await openTyped(c, Discriminator.StateCommit, [4]);
      await ctx.until(() => e.receivedLength >= 12 && k.receivedLength >= 4 && a.receivedLength >= 2 * ITEM_SIZE, ctx.profile.ioTimeoutMs + ctx.profile.toleranceMs);
    },
  }),
];
