/** SPEC §6 Replication: every frame echoed unchanged, in order. */
import { encodeFrame } from '../codec.js';
import { defineCase, pattern, Session, slack, type ThetaCase } from './_helpers.js';

const ECHO = 'Every frame the client sends on the replication stream (after the handshake) MUST be echoed back unchanged, in order, on the same stream.';

/** Frames of sizes 0, 1, 2, … (pattern bytes). */
const frames = (n: number): Uint8Array[] => Array.from({ length: n }, (_, i) => pattern((i * 13) % 97, i));
const concat = (parts: readonly Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

export const replicationCases: ThetaCase[] = [
  defineCase({
    id: 'theta/replication/one-at-a-time',
    section: '6',
    rules: ['THETA-6.1'],
    description: 'Handshakes, then sends 5 replication frames, each after the previous echo.',
    requirement: ECHO,
    expected: (p) => [`each frame echoed within ${p.answerDeadlineMs} ms`],
    deadlineMs: (p) => 4 * slack(p),
    async run(ctx) {
      const s = await Session.open(ctx);
      if (!(await s.handshake())) return;
      let want = 0;
      for (const f of frames(5)) {
        const wire = encodeFrame(f);
        want += wire.length;
        await s.replication.write(wire);
        if (!(await ctx.until(() => s.replication.receivedLength >= want || s.conn.isClosed, slack(ctx.profile)))) return;
      }
      await ctx.settle(slack(ctx.profile));
    },
  }),
  defineCase({
    id: 'theta/replication/pipelined',
    section: '6',
    rules: ['THETA-6.1'],
    description: 'Handshakes, then sends 50 replication frames (0 to 96 bytes) in one write, without waiting.',
    requirement: ECHO,
    expected: (p) => [`50 echoes, in order, each within ${p.answerDeadlineMs} ms`],
    deadlineMs: (p) => 3 * slack(p),
    async run(ctx) {
      const s = await Session.open(ctx);
      if (!(await s.handshake())) return;
      const wire = concat(frames(50).map(encodeFrame));
      await s.replication.write(wire);
      await ctx.until(() => s.replication.receivedLength >= wire.length || s.conn.isClosed, slack(ctx.profile));
      await ctx.settle(slack(ctx.profile));
    },
  }),
  defineCase({
    id: 'theta/replication/split-bytes',
    section: '6',
    rules: ['THETA-6.1', 'THETA-2.1'],
    description: 'Handshakes, then sends 3 replication frames 3 bytes per write.',
    requirement: ECHO,
    expected: (p) => [`3 echoes, in order, each within ${p.answerDeadlineMs} ms of its last byte`],
    deadlineMs: (p) => 3 * slack(p),
    async run(ctx) {
      const s = await Session.open(ctx);
      if (!(await s.handshake())) return;
      const wire = concat(frames(4).slice(1).map(encodeFrame));
      for (let i = 0; i < wire.length; i += 3) {
        await s.replication.write(wire.subarray(i, i + 3));
        await ctx.sleep(1);
      }
      await ctx.until(() => s.replication.receivedLength >= wire.length || s.conn.isClosed, slack(ctx.profile));
      await ctx.settle(slack(ctx.profile));
    },
  }),
];
