/** SPEC §6 Action stream: counter continuity, rate, client silence. */
import { CloseCode, Discriminator, ITEM_SIZE } from '../codec.js';
import { closeWithin, defineCase, openTyped, received, slack } from './_helpers.js';

const ITEMS = 6;

export const actionCases = [
  defineCase({
    id: 'proton/action/continuity-and-rate',
    section: '6',
    rules: ['PROTON-6.2', 'PROTON-6.3'],
    description: `Identifies an Action stream and reads ${ITEMS} items.`,
    requirement: 'The server sends a counter starting at 1 and increasing by one per item; each item SHOULD come within toleranceMs of one interval after the previous one.',
    expected: (p) => [`items 1..${ITEMS}, one every ${p.actionIntervalMs} ± ${p.toleranceMs} ms`],
    deadlineMs: (p) => ITEMS * p.actionIntervalMs + slack(p),
    async run(ctx) {
      const c = await ctx.connect();
      const s = await openTyped(c, Discriminator.Action);
      await received(ctx, s, ITEMS * ITEM_SIZE, ITEMS * ctx.profile.actionIntervalMs + slack(ctx.profile));
    },
  }),
  defineCase({
    id: 'proton/action/fin-after-discriminator',
    section: '6',
    rules: ['PROTON-6.1', 'PROTON-6.2'],
    description: 'Identifies an Action stream with the discriminator and FIN together, then reads 3 items.',
    requirement: 'A client FIN right after the discriminator is allowed and does not stop the push.',
    expected: (p) => [`items 1..3, one every ${p.actionIntervalMs} ms; no close`],
    deadlineMs: (p) => 3 * p.actionIntervalMs + slack(p),
    async run(ctx) {
      const c = await ctx.connect();
      const s = await openTyped(c, Discriminator.Action);
      await s.end();
      await received(ctx, s, 3 * ITEM_SIZE, 3 * ctx.profile.actionIntervalMs + slack(ctx.profile));
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
