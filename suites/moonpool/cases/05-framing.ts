/** SPEC §5 Framing errors: oversized lengths and truncated frames close their connection, and only it. */
import { encodeHeader, MAX_LENGTH_FIELD } from '../codec.js';
import { defineCase, openServed, pingFrame, slack, Wire, type Ctx } from './_helpers.js';

const OVERSIZED = 'A header whose len exceeds maxPayloadBytes is a ParseError. The server MUST close the connection within replyDeadlineMs of receiving that header, without waiting for the payload; it MUST NOT reply to that envelope or to any byte after it, and MUST first reply to every complete request before it.';
const TRUNCATED = 'A client that ends its sending side (FIN) inside an envelope sent a truncated frame. The server MUST NOT reply to the partial envelope, MUST reply to the complete requests before it, and MUST then close the connection within replyDeadlineMs.';
const closeWithin = (p: { replyDeadlineMs: number }, after: string) => `the server closes the connection (FIN or RST) within ${p.replyDeadlineMs} ms of ${after}`;

/** After a framing error: a new connection must be served (MOONPOOL-5.3). */
async function servedAfter(ctx: Ctx): Promise<void> {
  const w = await openServed(ctx, 'MOONPOOL-5.3', 'after a framing error on another connection');
  if (!w) return;
  await w.send(pingFrame(77));
  await w.awaitReplies(1, slack(ctx.profile));
}

/** The cases of SPEC §5 Framing errors, in order. */
export const framingCases = [
  defineCase({
    id: 'moonpool/framing/oversized-length',
    section: '5',
    rules: ['MOONPOOL-5.1', 'MOONPOOL-5.3'],
    description: 'Sends a header #1 with len = maxPayloadBytes + 1 and no payload; then PING #77 on a new connection.',
    requirement: OVERSIZED,
    expected: (p) => [closeWithin(p, 'the header'), 'no reply', 'PONG #77 on the new connection'],
    deadlineMs: (p) => slack(p) * 2,
    async run(ctx) {
      const w = await Wire.open(ctx);
      await w.send(encodeHeader(1n, ctx.profile.maxPayloadBytes + 1));
      await w.awaitEnd(slack(ctx.profile));
      await ctx.settle();
      await servedAfter(ctx);
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'moonpool/framing/oversized-length-u32-max',
    section: '5',
    rules: ['MOONPOOL-5.1'],
    description: 'Sends a header #1 with len = 2^32 − 1, then 100 bytes of payload.',
    requirement: OVERSIZED,
    expected: (p) => [closeWithin(p, 'the header'), 'no reply'],
    deadlineMs: slack,
    async run(ctx) {
      const w = await Wire.open(ctx);
      await w.send(encodeHeader(1n, MAX_LENGTH_FIELD));
      await w.send(new Uint8Array(100)).catch(() => undefined); // the server may already be gone
      await w.awaitEnd(slack(ctx.profile));
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'moonpool/framing/oversized-after-ping',
    section: '5',
    rules: ['MOONPOOL-5.1', 'MOONPOOL-7.2'],
    description: 'Sends PING #1, an oversized header #2 and PING #3 in one write.',
    requirement: OVERSIZED,
    expected: (p) => ['PONG #1', closeWithin(p, 'the header'), 'no reply to #2 or #3'],
    deadlineMs: slack,
    async run(ctx) {
      const w = await Wire.open(ctx);
      await w.send(new Uint8Array([...pingFrame(1), ...encodeHeader(2n, ctx.profile.maxPayloadBytes + 1), ...pingFrame(3)]));
      await w.awaitEnd(slack(ctx.profile));
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'moonpool/framing/oversized-header-split',
    section: '5',
    rules: ['MOONPOOL-5.1', 'MOONPOOL-2.2'],
    description: 'Sends an oversized header (len = maxPayloadBytes + 1) in two writes of 6 bytes, 20 ms apart.',
    requirement: OVERSIZED,
    expected: (p) => [closeWithin(p, 'the header\u2019s last byte')],
    deadlineMs: slack,
    async run(ctx) {
      const w = await Wire.open(ctx);
      await w.sendInPieces(encodeHeader(9n, ctx.profile.maxPayloadBytes + 1), 6, 20);
      await w.awaitEnd(slack(ctx.profile));
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'moonpool/framing/truncated-header-then-fin',
    section: '5',
    rules: ['MOONPOOL-5.2', 'MOONPOOL-5.3'],
    description: 'Sends PING #1 and 5 bytes of a header in one write, then FIN; then PING #77 on a new connection.',
    requirement: TRUNCATED,
    expected: (p) => ['PONG #1', closeWithin(p, 'the FIN'), 'PONG #77 on the new connection'],
    deadlineMs: (p) => slack(p) * 2,
    async run(ctx) {
      const w = await Wire.open(ctx);
      await w.send(new Uint8Array([...pingFrame(1), ...pingFrame(2).subarray(0, 5)]));
      await w.stream.end();
      await w.awaitEnd(slack(ctx.profile));
      await ctx.settle();
      await servedAfter(ctx);
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'moonpool/framing/truncated-payload-then-fin',
    section: '5',
    rules: ['MOONPOOL-5.2', 'MOONPOOL-5.3'],
    description: 'Sends a header #1 announcing 4 bytes and 2 of them, then FIN; then PING #77 on a new connection.',
    requirement: TRUNCATED,
    expected: (p) => [closeWithin(p, 'the FIN'), 'no reply to #1', 'PONG #77 on the new connection'],
    deadlineMs: (p) => slack(p) * 2,
    async run(ctx) {
      const w = await Wire.open(ctx);
      await w.send(pingFrame(1).subarray(0, 14));
      await w.stream.end();
      await w.awaitEnd(slack(ctx.profile));
      await ctx.settle();
      await servedAfter(ctx);
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'moonpool/framing/other-connections-unaffected',
    section: '5',
    rules: ['MOONPOOL-5.3', 'MOONPOOL-6.1'],
    description: 'Opens connections A and B; sends an oversized header on A; then PING #5 on B (concurrentConnections only; else on a new connection).',
    requirement: 'A framing error ends only its own connection. The server MUST keep serving its other connections and MUST accept and serve new ones.',
    expected: (p) => [closeWithin(p, 'the header on A'), 'B stays open', 'PONG #5 on B'],
    deadlineMs: (p) => slack(p) * 2,
    async run(ctx) {
      const b = ctx.profile.concurrentConnections ? await Wire.open(ctx) : undefined;
      const a = await Wire.open(ctx);
      await a.send(encodeHeader(1n, ctx.profile.maxPayloadBytes + 1));
      await a.awaitEnd(slack(ctx.profile));
      const w = b ?? (await openServed(ctx, 'MOONPOOL-5.3', 'after a framing error on another connection'));
      if (!w) return;
      await w.send(pingFrame(5));
      await w.awaitReplies(1, slack(ctx.profile));
      await ctx.settle();
    },
  }),
];
