/** SPEC §4 Ping-pong: PING → PONG, other payloads by profile, no request limit. */
import { encodeEnvelopes, PING } from '../codec.js';
import { defineCase, envelope, pingFrame, pingFrames, slack, Wire } from './_helpers.js';

const OTHER = 'Any other payload is not a ping. Profile otherPayloads: ignore — the server MUST NOT reply; reply — the server MAY reply once. Either way the server MUST NOT close the connection over it and MUST go on serving the requests that follow.';

/** Payloads that are not exactly `PING`. */
const notPings: readonly (string | Uint8Array)[] = ['ping', 'PIN', 'PINGPING', 'PONG', ' PING', new Uint8Array([0x00, 0xff]), 'PING\n'];

/** The cases of SPEC §4 Ping-pong, in order. */
export const pingPongCases = [
  defineCase({
    id: 'moonpool/ping/unknown-payloads',
    section: '4',
    rules: ['MOONPOOL-4.3'],
    description: 'Sends requests #1–#7 with payloads "ping", "PIN", "PINGPING", "PONG", " PING", 0x00ff and "PING\\n", then PING #8.',
    requirement: OTHER,
    expected: (p) => [p.otherPayloads === 'ignore' ? 'no reply to #1–#7' : 'at most one reply to each of #1–#7', `PONG #8 within ${p.replyDeadlineMs} ms`, 'the connection stays open'],
    deadlineMs: slack,
    async run(ctx) {
      const w = await Wire.open(ctx);
      await w.send(encodeEnvelopes(notPings.map((p, i) => envelope(i + 1, p))));
      await w.send(pingFrame(8));
      await ctx.until(() => w.replies().some((r) => r.correlationId === 8n), slack(ctx.profile));
      await ctx.sleep(50); // a late reply to #1–#7 would show now
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'moonpool/ping/interleaved',
    section: '4',
    rules: ['MOONPOOL-4.1', 'MOONPOOL-4.3', 'MOONPOOL-3.2'],
    description: 'Sends 20 requests in one write, alternating PING (even ids) and "hello" (odd ids).',
    requirement: 'A request whose payload is exactly PING MUST be answered with PONG. ' + OTHER,
    expected: (p) => [`PONG for each even id within ${p.replyDeadlineMs} ms`, p.otherPayloads === 'ignore' ? 'no reply to odd ids' : 'at most one reply to each odd id'],
    deadlineMs: slack,
    async run(ctx) {
      const w = await Wire.open(ctx);
      await w.send(encodeEnvelopes(Array.from({ length: 20 }, (_, i) => envelope(i, i % 2 === 0 ? PING : 'hello'))));
      await ctx.until(() => w.replies().filter((r) => r.correlationId % 2n === 0n).length >= 10, slack(ctx.profile));
      await ctx.sleep(50);
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'moonpool/ping/no-request-limit',
    section: '4',
    rules: ['MOONPOOL-4.4', 'MOONPOOL-3.4'],
    description: 'Sends 5,000 PINGs on one connection, in 10 writes of 500, each after the previous 500 PONGs.',
    requirement: 'The server keeps no count and no limit of requests: it serves any number of requests on a connection.',
    expected: (p) => [`5,000 PONGs, each within ${p.replyDeadlineMs} ms`],
    deadlineMs: (p) => slack(p) * 3 + 3_000,
    async run(ctx) {
      const w = await Wire.open(ctx);
      for (let batch = 0; batch < 10; batch++) {
        await w.send(pingFrames(Array.from({ length: 500 }, (_, i) => batch * 500 + i)));
        if (!(await w.awaitReplies((batch + 1) * 500, slack(ctx.profile)))) return;
      }
      await ctx.settle();
    },
  }),
];
