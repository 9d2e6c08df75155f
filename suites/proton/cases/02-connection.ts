/** SPEC §2 Connection: single connection, no state carried over, keep-alive, prompt service after a close. */
import { CloseCode, Discriminator } from '../codec.js';
import { closeWithin, defineCase, openTyped, received, slack } from './_helpers.js';

export const connectionCases = [
  defineCase({
    id: 'proton/connection/alpn-mismatch',
    section: '2',
    rules: ['PROTON-1.1'],
    description: 'Offers only the ALPN id "wirecheck-not-proton" in the handshake.',
    requirement: 'Proton runs over QUIC v1 with TLS 1.3. The ALPN id is proton (RFC 9001 §8.1: a server that supports none of the offered ids fails the handshake).',
    expected: () => ['the handshake fails with a TLS alert (no_application_protocol, 0x178 as a QUIC transport code)'],
    deadlineMs: (p) => 6_000 + slack(p),
    async run(ctx) {
      let conn;
      try {
        conn = await ctx.connect({ alpn: ['wirecheck-not-proton'], connectTimeoutMs: 5_000 });
      } catch {
        return; // The handshake failed, as it must.
      }
      ctx.report({ rule: 'PROTON-1.1', severity: 'must', expected: 'the handshake to fail (no common ALPN id)', seen: `connection ${conn.conn} opened` });
    },
  }),
  defineCase({
    id: 'proton/connection/second-connection',
    section: '2',
    rules: ['PROTON-2.2', 'PROTON-8.1'],
    description: 'Opens a connection with an Event stream, then a second connection while the first is live.',
    requirement: 'If another connection is live at that moment, the server MUST close both with 0x2 SECOND_CONNECTION and keep no state of either.',
    expected: (p) => [`both connections: ${closeWithin(CloseCode.SECOND_CONNECTION, p, 'the second handshake')}`],
    deadlineMs: (p) => slack(p) * 2,
    async run(ctx) {
      const a = await ctx.connect();
      const s = await openTyped(a, Discriminator.Event, [1]);
      await received(ctx, s, 4, slack(ctx.profile));
      await ctx.connect();
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'proton/connection/served-after-second-connection',
    section: '2',
    rules: ['PROTON-2.2', 'PROTON-8.5'],
    description: 'Provokes SECOND_CONNECTION, then connects a third time at once and sends event 1.',
    requirement: 'The server MUST close both with 0x2 SECOND_CONNECTION and keep no state, so the client’s next connection is served at once.',
    expected: (p) => [`both first connections closed with 0x2 SECOND_CONNECTION; the third acknowledges event 1 within ${p.toleranceMs} ms`],
    deadlineMs: (p) => slack(p) * 3,
    async run(ctx) {
      const a = await ctx.connect();
      await openTyped(a, Discriminator.Event, [1]);
      await ctx.connect();
      if ((await ctx.settle()) !== 'settled') return;
      const c = await ctx.connect();
      const s = await openTyped(c, Discriminator.Event, [1]);
      await received(ctx, s, 4, slack(ctx.profile));
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'proton/connection/no-state-carried-over',
    section: '2',
    rules: ['PROTON-2.3', 'PROTON-2.6'],
    description: 'Sends events 5 and 6, closes the connection, reconnects and sends event 1.',
    requirement: 'No state survives a connection: a new connection starts event ids, the commit queue and the action counter afresh.',
    expected: (p) => [`event 1 on the second connection acknowledged within ${p.toleranceMs} ms, no close`],
    deadlineMs: (p) => slack(p) * 2,
    async run(ctx) {
      const a = await ctx.connect();
      const s1 = await openTyped(a, Discriminator.Event, [5, 6]);
      await received(ctx, s1, 8, slack(ctx.profile));
      await a.close(0, 'done');
      const b = await ctx.connect();
      const s2 = await openTyped(b, Discriminator.Event, [1]);
      await received(ctx, s2, 4, slack(ctx.profile));
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'proton/connection/keep-alive',
    section: '2',
    rules: ['PROTON-2.4', 'PROTON-2.7'],
    description: 'Identifies an Event stream, stays silent (QUIC keep-alive only) for longer than the idle timeout, then sends event 1.',
    requirement: 'A server MUST NOT let a connection that the client keeps alive die of the idle timeout.',
    expected: (p) => [`no close during ${p.idleTimeoutMs + p.toleranceMs} ms of silence; event 1 then acknowledged`],
    deadlineMs: (p) => p.idleTimeoutMs + slack(p) * 2,
    async run(ctx) {
      const a = await ctx.connect();
      const s = await openTyped(a, Discriminator.Event);
      await ctx.sleep(ctx.profile.idleTimeoutMs + ctx.profile.toleranceMs);
      if (a.isClosed) return;
      await s.write(new Uint8Array([0, 0, 0, 1]));
      await received(ctx, s, 4, slack(ctx.profile));
      await ctx.settle();
    },
  }),
];
