/** SPEC §8 Closing: a FIN on the control stream, a client close. */
import { CloseCode } from '../codec.js';
import { closeWithin, defineCase, Session, slack, type ThetaCase } from './_helpers.js';

export const closingCases: ThetaCase[] = [
  defineCase({
    id: 'theta/closing/control-fin',
    section: '8',
    rules: ['THETA-8.2'],
    description: 'Handshakes, heartbeats, then ends the control stream (FIN).',
    requirement: 'A FIN on the control stream after the handshake: profile controlFin: ends-session (the server closes with 0x0) or ignored.',
    expected: (p) => [p.controlFin === 'ends-session' ? closeWithin(CloseCode.NO_ERROR, p, 'the FIN') : 'no close; heartbeats go on'],
    deadlineMs: (p) => 3 * slack(p) + 3 * p.heartbeatIntervalMs,
    async run(ctx) {
      const s = await Session.open(ctx);
      if (!(await s.handshake(undefined, false))) return;
      await s.send(s.heartbeat());
      await s.control.end();
      await s.closed(slack(ctx.profile));
      if (!s.conn.isClosed) await ctx.sleep(3 * ctx.profile.heartbeatIntervalMs);
      await ctx.settle(slack(ctx.profile));
    },
  }),
  defineCase({
    id: 'theta/closing/client-close',
    section: '8',
    rules: ['THETA-8.1'],
    description: 'Handshakes, heartbeats for 2 intervals, then closes the connection with 0x0.',
    requirement: 'A server MUST NOT close a conforming session (no violation, heartbeats flowing) on its own.',
    expected: () => ['no close by the server before ours'],
    deadlineMs: (p) => 3 * slack(p) + 2 * p.heartbeatIntervalMs,
    async run(ctx) {
      const s = await Session.open(ctx);
      if (!(await s.handshake())) return;
      await ctx.sleep(2 * ctx.profile.heartbeatIntervalMs);
      s.stopHeartbeats();
      await s.conn.close(CloseCode.NO_ERROR, 'wirecheck: done');
      await ctx.settle(slack(ctx.profile));
    },
  }),
];
