/** SPEC §4 Event stream: acks in order, strictly increasing ids, FIN and truncation. */
import { CloseCode, Discriminator, encodeItems, MAX_ITEM } from '../codec.js';
import { closeWithin, defineCase, openTyped, received, slack } from './_helpers.js';

const ACK = 'The server MUST acknowledge each id with the same 4 bytes, in order, within toleranceMs of receiving it, and MUST NOT send anything else on the stream.';

export const eventCases = [
  defineCase({
    id: 'proton/event/single',
    section: '4',
    rules: ['PROTON-4.1', 'PROTON-4.3', 'PROTON-2.1', 'PROTON-3.1'],
    description: 'Sends event id 1 on an Event stream.',
    requirement: ACK,
    expected: (p) => [`ack 00000001 within ${p.toleranceMs} ms`],
    deadlineMs: slack,
    async run(ctx) {
      const c = await ctx.connect();
      const s = await openTyped(c, Discriminator.Event, [1]);
      await received(ctx, s, 4, slack(ctx.profile));
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'proton/event/one-at-a-time',
    section: '4',
    rules: ['PROTON-4.1', 'PROTON-4.3'],
    description: 'Sends ids 1 to 5, each after the previous ack.',
    requirement: ACK,
    expected: (p) => [`each ack within ${p.toleranceMs} ms, in order`],
    deadlineMs: (p) => slack(p) * 2,
    async run(ctx) {
      const c = await ctx.connect();
      const s = await openTyped(c, Discriminator.Event);
      for (let id = 1; id <= 5; id++) {
        await s.write(encodeItems([id]));
        if (!(await received(ctx, s, id * 4, slack(ctx.profile)))) return;
      }
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'proton/event/pipelined',
    section: '4',
    rules: ['PROTON-4.1', 'PROTON-4.3', 'PROTON-4.4'],
    description: 'Sends the discriminator and 20 increasing ids in a single write, without waiting.',
    requirement: 'The client may pipeline ids without waiting for acks. ' + ACK,
    expected: (p) => [`20 acks, in order, each within ${p.toleranceMs} ms`],
    deadlineMs: slack,
    async run(ctx) {
      const c = await ctx.connect();
      const ids = Array.from({ length: 20 }, (_, i) => 3 * i + 1);
      const s = await openTyped(c, Discriminator.Event, ids);
      await received(ctx, s, ids.length * 4, slack(ctx.profile));
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'proton/event/long-session',
    section: '4',
    rules: ['PROTON-4.3', 'PROTON-4.1'],
    description: 'Sends 100 increasing ids in 5 writes of 20, each after the previous 20 acks.',
    requirement: 'The server MUST acknowledge each id (a server that stops acknowledging after a few dozen ids must not pass). ' + ACK,
    expected: (p) => [`100 acks, in order, each within ${p.toleranceMs} ms`],
    deadlineMs: (p) => slack(p) * 3,
    async run(ctx) {
      const c = await ctx.connect();
      const s = await openTyped(c, Discriminator.Event);
      for (let batch = 0; batch < 5; batch++) {
        await s.write(encodeItems(Array.from({ length: 20 }, (_, i) => batch * 20 + i + 1)));
        if (!(await received(ctx, s, (batch + 1) * 20 * 4, slack(ctx.profile)))) return;
      }
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'proton/event/split-bytes',
    section: '4',
    rules: ['PROTON-1.3', 'PROTON-4.4'],
    description: 'Sends the discriminator and ids 1, 2, 3 one byte per write.',
    requirement: 'Ids may arrive split across STREAM frames and several in one frame; the server acknowledges each complete id.',
    expected: (p) => [`acks 1, 2, 3 each within ${p.toleranceMs} ms of its last byte`],
    deadlineMs: slack,
    async run(ctx) {
      const c = await ctx.connect();
      const s = c.openStream();
      for (const b of [Discriminator.Event, ...encodeItems([1, 2, 3])]) {
        await s.write(new Uint8Array([b]));
        await ctx.sleep(2);
      }
      await received(ctx, s, 12, slack(ctx.profile));
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'proton/event/sparse-ids',
    section: '4',
    rules: ['PROTON-4.1', 'PROTON-4.3'],
    description: 'Sends ids 1, 1000 and 2^32 − 1 (gaps are allowed, only increase matters).',
    requirement: 'The first id is ≥ 1 and each id is greater than the previous.',
    expected: (p) => [`acks 00000001, 000003e8, ffffffff within ${p.toleranceMs} ms`],
    deadlineMs: slack,
    async run(ctx) {
      const c = await ctx.connect();
      const s = await openTyped(c, Discriminator.Event, [1, 1000, MAX_ITEM]);
      await received(ctx, s, 12, slack(ctx.profile));
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'proton/event/first-id-zero',
    section: '4',
    rules: ['PROTON-4.2', 'PROTON-8.1'],
    description: 'Sends event id 0 as the first id.',
    requirement: 'An id that is not greater than the previous one (or a first id of 0) is a violation: the server MUST close with 0x1.',
    expected: (p) => [closeWithin(CloseCode.PROTOCOL_VIOLATION, p, 'id 0')],
    deadlineMs: slack,
    async run(ctx) {
      const c = await ctx.connect();
      await openTyped(c, Discriminator.Event, [0]);
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'proton/event/repeated-id',
    section: '4',
    rules: ['PROTON-4.2', 'PROTON-8.1'],
    description: 'Sends ids 1, 2, then 2 again.',
    requirement: 'An id that is not greater than the previous one is a violation: the server MUST close with 0x1.',
    expected: (p) => ['acks 1 and 2', closeWithin(CloseCode.PROTOCOL_VIOLATION, p, 'the repeated id')],
    deadlineMs: slack,
    async run(ctx) {
      const c = await ctx.connect();
      const s = await openTyped(c, Discriminator.Event, [1, 2]);
      if (!(await received(ctx, s, 8, slack(ctx.profile)))) return;
      await s.write(encodeItems([2]));
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'proton/event/decreasing-id',
    section: '4',
    rules: ['PROTON-4.2', 'PROTON-8.1'],
    description: 'Sends ids 10 then 9 in one write.',
    requirement: 'An id that is not greater than the previous one is a violation: the server MUST close with 0x1.',
    expected: (p) => ['ack 10 (optional)', closeWithin(CloseCode.PROTOCOL_VIOLATION, p, 'id 9')],
    deadlineMs: slack,
    async run(ctx) {
      const c = await ctx.connect();
      await openTyped(c, Discriminator.Event, [10, 9]);
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'proton/event/fin-after-ids',
    section: '4',
    rules: ['PROTON-4.5'],
    description: 'Sends ids 1, 2, 3 and FIN in a row.',
    requirement: 'A client FIN after a whole number of ids means "no more events": the server MUST acknowledge every id received; it SHOULD then send its FIN within toleranceMs.',
    expected: (p) => [`acks 1, 2, 3 then the server FIN within ${p.toleranceMs} ms; the connection stays up`],
    deadlineMs: slack,
    async run(ctx) {
      const c = await ctx.connect();
      const s = await openTyped(c, Discriminator.Event, [1, 2, 3]);
      await s.end();
      await ctx.until(() => s.readEnded, slack(ctx.profile));
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'proton/event/truncated-then-fin',
    section: '4',
    rules: ['PROTON-4.6', 'PROTON-8.1'],
    description: 'Sends id 1, then two bytes of id 2, then FIN.',
    requirement: 'A client FIN inside an id (1–3 bytes of it received) is a truncated frame: a violation (0x1).',
    expected: (p) => ['ack 00000001', closeWithin(CloseCode.PROTOCOL_VIOLATION, p, 'the FIN')],
    deadlineMs: slack,
    async run(ctx) {
      const c = await ctx.connect();
      const s = await openTyped(c, Discriminator.Event, [1]);
      if (!(await received(ctx, s, 4, slack(ctx.profile)))) return;
      await s.write(new Uint8Array([0, 0]));
      await s.end();
      await ctx.settle();
    },
  }),
];
