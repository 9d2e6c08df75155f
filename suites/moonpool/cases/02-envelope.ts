/** SPEC §2 Envelope: the wire format, frames split and coalesced, zero-length and maximum payloads, extreme ids. */
import { encodeEnvelope, encodeEnvelopes, HEADER_SIZE, MAX_CORRELATION_ID } from '../codec.js';
import { defineCase, envelope, pingFrame, pingFrames, slack, Wire } from './_helpers.js';

const REASSEMBLE = 'A receiver MUST reassemble an envelope split across reads at any byte boundary, and MUST separate envelopes coalesced into one read.';

/** The cases of SPEC §2 Envelope, in order. */
export const envelopeCases = [
  defineCase({
    id: 'moonpool/envelope/split-every-byte',
    section: '2',
    rules: ['MOONPOOL-2.1', 'MOONPOOL-2.2', 'MOONPOOL-4.1'],
    description: 'Sends PING #1 one byte per write, 2 ms apart (16 writes).',
    requirement: REASSEMBLE,
    expected: (p) => [`PONG #1 within ${p.replyDeadlineMs} ms of the last byte`],
    deadlineMs: (p) => slack(p) + 200,
    async run(ctx) {
      const w = await Wire.open(ctx);
      await w.sendInPieces(pingFrame(1), 1, 2);
      await w.awaitReplies(1, slack(ctx.profile));
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'moonpool/envelope/split-at-each-boundary',
    section: '2',
    rules: ['MOONPOOL-2.2'],
    description: 'Sends 15 PINGs (#1–#15), PING #k in two writes split after byte k, 3 ms apart.',
    requirement: REASSEMBLE,
    expected: (p) => [`PONG #1 … #15, each within ${p.replyDeadlineMs} ms of its last byte`],
    deadlineMs: (p) => slack(p) + 500,
    async run(ctx) {
      const w = await Wire.open(ctx);
      for (let k = 1; k < HEADER_SIZE + 4; k++) {
        const f = pingFrame(k);
        await w.send(f.subarray(0, k));
        await ctx.sleep(3);
        await w.send(f.subarray(k));
      }
      await w.awaitReplies(15, slack(ctx.profile));
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'moonpool/envelope/coalesced',
    section: '2',
    rules: ['MOONPOOL-2.2', 'MOONPOOL-3.4'],
    description: 'Sends 64 PINGs (#1–#64) in a single write.',
    requirement: REASSEMBLE,
    expected: (p) => [`64 PONGs with ids #1–#64 (any order), each within ${p.replyDeadlineMs} ms`],
    deadlineMs: slack,
    async run(ctx) {
      const w = await Wire.open(ctx);
      await w.send(pingFrames(Array.from({ length: 64 }, (_, i) => i + 1)));
      await w.awaitReplies(64, slack(ctx.profile));
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'moonpool/envelope/coalesced-and-split',
    section: '2',
    rules: ['MOONPOOL-2.2'],
    description: 'Sends 10 PINGs as one byte stream cut into writes of 7 bytes (writes straddle envelope boundaries).',
    requirement: REASSEMBLE,
    expected: (p) => [`10 PONGs, each within ${p.replyDeadlineMs} ms of its last byte`],
    deadlineMs: (p) => slack(p) + 200,
    async run(ctx) {
      const w = await Wire.open(ctx);
      await w.sendInPieces(pingFrames(Array.from({ length: 10 }, (_, i) => 100 + i)), 7, 2);
      await w.awaitReplies(10, slack(ctx.profile));
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'moonpool/envelope/zero-length-payload',
    section: '2',
    rules: ['MOONPOOL-2.3', 'MOONPOOL-4.3'],
    description: 'Sends a request with an empty payload (#1), then PING #2.',
    requirement: 'A zero-length payload (len = 0) is a valid envelope. Any other payload than PING: ignore — the server MUST NOT reply; either way it MUST go on serving.',
    expected: (p) => [p.otherPayloads === 'ignore' ? 'no reply to #1' : 'at most one reply to #1', `PONG #2 within ${p.replyDeadlineMs} ms`, 'the connection stays open'],
    deadlineMs: slack,
    async run(ctx) {
      const w = await Wire.open(ctx);
      await w.send(encodeEnvelopes([envelope(1, new Uint8Array(0)), envelope(2, 'PING')]));
      await ctx.until(() => w.replies().some((r) => r.correlationId === 2n), slack(ctx.profile));
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'moonpool/envelope/max-payload',
    section: '2',
    rules: ['MOONPOOL-2.4', 'MOONPOOL-4.3'],
    description: 'Sends a request whose payload is exactly maxPayloadBytes (#1, bytes 0x41), then PING #2.',
    requirement: 'A server MUST accept every envelope whose len ≤ maxPayloadBytes and handle it by §4.',
    expected: (p) => [`#1 (${p.maxPayloadBytes} bytes) accepted: ${p.otherPayloads === 'ignore' ? 'no reply' : 'at most one reply'}`, `PONG #2 within ${p.replyDeadlineMs} ms`, 'the connection stays open'],
    deadlineMs: (p) => slack(p) + 2_000 + Math.ceil(p.maxPayloadBytes / 10_000),
    async run(ctx) {
      const w = await Wire.open(ctx);
      await w.send(encodeEnvelope(envelope(1, new Uint8Array(ctx.profile.maxPayloadBytes).fill(0x41))));
      await w.send(pingFrame(2));
      await ctx.until(() => w.replies().some((r) => r.correlationId === 2n), slack(ctx.profile) + 1_000);
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'moonpool/envelope/extreme-ids',
    section: '2',
    rules: ['MOONPOOL-1.3', 'MOONPOOL-2.1', 'MOONPOOL-3.1'],
    description: 'Sends PINGs with ids 0, 2^64 − 1, 2^63 and 0x0102030405060708 (little-endian on the wire).',
    requirement: 'The correlation id is an 8-byte little-endian unsigned integer; any u64 value, 0 and 2^64 − 1 included.',
    expected: (p) => [`PONGs carrying exactly these four ids, within ${p.replyDeadlineMs} ms`],
    deadlineMs: slack,
    async run(ctx) {
      const w = await Wire.open(ctx);
      await w.send(pingFrames([0n, MAX_CORRELATION_ID, 2n ** 63n, 0x0102030405060708n]));
      await w.awaitReplies(4, slack(ctx.profile));
      await ctx.settle();
    },
  }),
];
