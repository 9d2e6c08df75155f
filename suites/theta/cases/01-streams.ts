/** SPEC §1 Streams: only the client's bidirectional streams 0, 4 and 8. */
import { CloseCode, encodeFrame } from '../codec.js';
import { closeWithin, defineCase, pattern, Session, slack } from './_helpers.js';

const OTHER = 'Data on any other stream (another client bidi id, a client uni stream) is a violation: the server MUST close the connection with 0x5 PROTOCOL_VIOLATION.';

export const streamCases = [
  defineCase({
    id: 'theta/streams/fourth-bidi-stream',
    section: '1',
    rules: ['THETA-1.2', 'THETA-8.3'],
    description: 'After the handshake, opens a fourth bidirectional stream (id 12) and writes a frame on it.',
    requirement: OTHER,
    expected: (p) => [closeWithin(CloseCode.PROTOCOL_VIOLATION, p, 'the bytes on stream 12')],
    deadlineMs: (p) => 3 * slack(p),
    async run(ctx) {
      const s = await Session.open(ctx);
      if (!(await s.handshake())) return;
      const extra = s.conn.openStream();
      await extra.write(encodeFrame(pattern(8)));
      await ctx.settle(slack(ctx.profile));
    },
  }),
  defineCase({
    id: 'theta/streams/uni-stream',
    section: '1',
    rules: ['THETA-1.2', 'THETA-8.3'],
    description: 'After the handshake, opens a client unidirectional stream (id 2) and writes a frame on it.',
    requirement: OTHER,
    expected: (p) => [closeWithin(CloseCode.PROTOCOL_VIOLATION, p, 'the bytes on stream 2')],
    deadlineMs: (p) => 3 * slack(p),
    async run(ctx) {
      const s = await Session.open(ctx);
      if (!(await s.handshake())) return;
      await s.conn.openStream('uni').write(encodeFrame(pattern(8)));
      await ctx.settle(slack(ctx.profile));
    },
  }),
  defineCase({
    id: 'theta/streams/other-stream-before-hello',
    section: '1',
    rules: ['THETA-1.2', 'THETA-3.8', 'THETA-8.3'],
    description: 'Before any SessionHello, writes a frame on stream 12.',
    requirement: OTHER,
    expected: (p) => [closeWithin(CloseCode.PROTOCOL_VIOLATION, p, 'the bytes on stream 12')],
    deadlineMs: (p) => 2 * slack(p),
    async run(ctx) {
      const s = await Session.open(ctx);
      await s.conn.openStream().write(encodeFrame(pattern(8)));
      await ctx.settle(slack(ctx.profile));
    },
  }),
];
