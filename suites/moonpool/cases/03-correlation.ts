/** SPEC §3 Request/reply correlation: replies carry the request's id, once, in any order, per connection. */
import { defineCase, pingFrame, pingFrames, slack, Wire } from './_helpers.js';

const REPLY = 'Every envelope the server sends MUST be a reply to a request outstanding on the same connection, with that request\u2019s id; at most one reply per request.';

/** Distinct pseudo-random u64 ids (deterministic). */
function ids(n: number, seed: bigint): bigint[] {
  const out = new Set<bigint>();
  let x = seed;
  while (out.size < n) {
    x = (x * 6364136223846793005n + 1442695040888963407n) & 0xffff_ffff_ffff_ffffn;
    out.add(x);
  }
  return [...out];
}

/** The cases of SPEC §3 Request/reply correlation, in order. */
export const correlationCases = [
  defineCase({
    id: 'moonpool/correlation/single',
    section: '3',
    rules: ['MOONPOOL-3.2', 'MOONPOOL-4.1', 'MOONPOOL-4.2', 'MOONPOOL-2.5'],
    description: 'Sends PING #42.',
    requirement: REPLY,
    expected: (p) => [`PONG #42 within ${p.replyDeadlineMs} ms`],
    deadlineMs: slack,
    async run(ctx) {
      const w = await Wire.open(ctx);
      await w.send(pingFrame(42));
      await w.awaitReplies(1, slack(ctx.profile));
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'moonpool/correlation/sequential',
    section: '3',
    rules: ['MOONPOOL-3.2', 'MOONPOOL-3.3'],
    description: 'Sends PINGs #1 to #20, each after the previous PONG.',
    requirement: REPLY,
    expected: (p) => [`each PONG within ${p.replyDeadlineMs} ms, carrying its PING\u2019s id`],
    deadlineMs: (p) => slack(p) * 2,
    async run(ctx) {
      const w = await Wire.open(ctx);
      for (let i = 1; i <= 20; i++) {
        await w.send(pingFrame(i));
        if (!(await w.awaitReplies(i, slack(ctx.profile)))) return;
      }
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'moonpool/correlation/many-in-flight',
    section: '3',
    rules: ['MOONPOOL-3.3', 'MOONPOOL-3.4'],
    description: 'Sends 500 PINGs with distinct pseudo-random u64 ids in one write, without waiting.',
    requirement: 'A client may have many requests in flight on one connection without waiting for replies. The server MUST handle every one of them. ' + REPLY,
    expected: (p) => [`500 PONGs, one per id, any order, each within ${p.replyDeadlineMs} ms`],
    deadlineMs: (p) => slack(p) + 1_000,
    async run(ctx) {
      const w = await Wire.open(ctx);
      await w.send(pingFrames(ids(500, 7n)));
      await w.awaitReplies(500, slack(ctx.profile));
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'moonpool/correlation/out-of-order-ids',
    section: '3',
    rules: ['MOONPOOL-3.1', 'MOONPOOL-3.4'],
    description: 'Sends PINGs with decreasing ids (#100 down to #1), in 4 writes, 5 ms apart.',
    requirement: 'Ids need not increase; the server MUST NOT assume any order or range of ids. Replies MAY come in any order.',
    expected: (p) => [`100 PONGs #100 … #1 (any order), each within ${p.replyDeadlineMs} ms`],
    deadlineMs: slack,
    async run(ctx) {
      const w = await Wire.open(ctx);
      const down = Array.from({ length: 100 }, (_, i) => 100 - i);
      for (let q = 0; q < 4; q++) {
        await w.send(pingFrames(down.slice(q * 25, q * 25 + 25)));
        await ctx.sleep(5);
      }
      await w.awaitReplies(100, slack(ctx.profile));
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'moonpool/correlation/per-connection',
    section: '3',
    rules: ['MOONPOOL-3.5', 'MOONPOOL-6.1'],
    description: 'Opens two connections and sends PING #7 and #8 on each (concurrently, or one after the other when concurrentConnections is false).',
    requirement: 'Correlation is scoped by connection: a reply travels on the connection its request came on.',
    expected: (p) => [`PONG #7 and #8 on each connection, within ${p.replyDeadlineMs} ms`],
    deadlineMs: (p) => slack(p) * 2,
    async run(ctx) {
      if (ctx.profile.concurrentConnections) {
        const [a, b] = [await Wire.open(ctx), await Wire.open(ctx)];
        await Promise.all([a.send(pingFrames([7, 8])), b.send(pingFrames([8, 7]))]);
        await Promise.all([a.awaitReplies(2, slack(ctx.profile)), b.awaitReplies(2, slack(ctx.profile))]);
      } else {
        for (const order of [[7, 8], [8, 7]]) {
          const w = await Wire.open(ctx);
          await w.send(pingFrames(order));
          await w.awaitReplies(2, slack(ctx.profile));
          await w.close();
        }
      }
      await ctx.settle();
    },
  }),
];
