/** SPEC §3 Stream identification: discriminators, one stream per type, identification timeout. */
import { CloseCode, Discriminator, ITEM_SIZE } from '../codec.js';
import { closed, closeWithin, defineCase, identWatchMs, openTyped, received, slack, type ProtonCase } from './_helpers.js';

const unknown = (byte: number): ProtonCase => {
  const hex = `0x${byte.toString(16).padStart(2, '0')}`;
  return defineCase({
    id: `proton/identification/unknown-discriminator-${hex}`,
    section: '3',
    rules: ['PROTON-3.2', 'PROTON-8.1'],
    description: `Opens a stream whose first byte is ${hex}.`,
    requirement: 'Any other discriminator is a violation: the server MUST close the connection with 0x1 PROTOCOL_VIOLATION.',
    expected: (p) => [closeWithin(CloseCode.PROTOCOL_VIOLATION, p)],
    deadlineMs: slack,
    async run(ctx) {
      const c = await ctx.connect();
      await openTyped(c, byte);
      await ctx.settle();
    },
  });
};

const duplicate = (name: string, disc: number): ProtonCase =>
  defineCase({
    id: `proton/identification/duplicate-${name}-stream`,
    section: '3',
    rules: ['PROTON-3.3', 'PROTON-8.1'],
    description: `Opens two ${name} streams on one connection.`,
    requirement: 'A connection has at most one stream of each type. A second stream of a type already open is a violation (0x1).',
    expected: (p) => [closeWithin(CloseCode.PROTOCOL_VIOLATION, p, 'the second discriminator')],
    deadlineMs: slack,
    async run(ctx) {
      const c = await ctx.connect();
      await openTyped(c, disc);
      await ctx.sleep(20);
      await openTyped(c, disc);
      await ctx.settle();
    },
  });

export const identificationCases = [
  unknown(0x00),
  unknown(0x04),
  unknown(0x7f),
  unknown(0xfe),
  duplicate('event', Discriminator.Event),
  duplicate('commit', Discriminator.StateCommit),
  duplicate('action', Discriminator.Action),
  defineCase({
    id: 'proton/identification/reopen-after-end',
    section: '3',
    rules: ['PROTON-3.3', 'PROTON-4.5'],
    description: 'Sends event 1 and FIN on an Event stream, waits for the ack and the server FIN, then opens a new Event stream with event 2.',
    requirement: 'Whether a type may be opened again once its stream has ended both ways is profile reopenStreamType (default false: never).',
    expected: (p) => [p.reopenStreamType ? 'event 2 acknowledged on the new stream' : closeWithin(CloseCode.PROTOCOL_VIOLATION, p, 'the second Event discriminator')],
    deadlineMs: (p) => slack(p) * 2,
    async run(ctx) {
      const c = await ctx.connect();
      const s = await openTyped(c, Discriminator.Event, [1]);
      await s.end();
      if (!(await ctx.until(() => s.readEnded, slack(ctx.profile)))) return;
      const s2 = await openTyped(c, Discriminator.Event, [2]);
      await ctx.until(() => c.isClosed || s2.receivedLength >= 4, slack(ctx.profile));
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'proton/identification/timeout',
    section: '3',
    rules: ['PROTON-3.4', 'PROTON-8.1', 'PROTON-2.7'],
    description: 'Connects and opens no stream.',
    requirement: 'identTimeoutScope connection: if no stream has been identified identTimeoutMs after the handshake completed, the server MUST close the connection with 0x3 IDENT_TIMEOUT. identTimeoutScope stream: a connection that opened no stream is never closed for it.',
    expected: (p) =>
      p.identTimeoutScope === 'connection'
        ? [`connection closed with 0x3 IDENT_TIMEOUT ${p.identTimeoutMs} ± ${p.toleranceMs} ms after the handshake`]
        : [`no close during ${identWatchMs(p)} ms (no stream, so no identification timer)`],
    deadlineMs: (p) => identWatchMs(p) + slack(p),
    async run(ctx) {
      const c = await ctx.connect();
      await closed(ctx, c, identWatchMs(ctx.profile));
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'proton/identification/silent-stream-beside-identified',
    section: '3',
    rules: ['PROTON-3.4', 'PROTON-8.1', 'PROTON-2.7'],
    description: 'Opens stream 0 and writes nothing on it, then identifies an Event stream (stream 4, which makes stream 0 visible to the server) and sends event 1.',
    requirement:
      'identTimeoutScope connection: once a stream is identified no identification timeout applies. identTimeoutScope stream: a visible stream left without its discriminator for identTimeoutMs MUST make the server close with 0x3, even when another stream is identified.',
    expected: (p) =>
      p.identTimeoutScope === 'connection'
        ? ['ack 00000001', `no close during ${identWatchMs(p)} ms`]
        : ['ack 00000001', `connection closed with 0x3 IDENT_TIMEOUT ${p.identTimeoutMs} ± ${p.toleranceMs} ms after the Event discriminator`],
    deadlineMs: (p) => identWatchMs(p) + slack(p),
    async run(ctx) {
      const c = await ctx.connect();
      c.openStream(); // Stream 0: never written.
      const s = await openTyped(c, Discriminator.Event, [1]);
      if (!(await received(ctx, s, 4, slack(ctx.profile)))) return;
      await closed(ctx, c, identWatchMs(ctx.profile));
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'proton/identification/silent-stream-made-visible-late',
    section: '3',
    rules: ['PROTON-3.4', 'PROTON-8.1', 'PROTON-2.7'],
    description: 'Opens stream 0 and writes nothing on it; after three quarters of the identification timeout, writes the Event discriminator on stream 4, which makes stream 0 visible to the server.',
    requirement:
      'identTimeoutScope connection: the timer runs from the handshake until the first stream is identified. identTimeoutScope stream: the timer of a stream runs from the moment the server first sees it (a frame of a higher-numbered stream of its kind makes it visible), not from the handshake.',
    expected: (p) =>
      p.identTimeoutScope === 'connection'
        ? [`no close during ${identWatchMs(p)} ms after the Event discriminator (written in time)`]
        : [`connection closed with 0x3 IDENT_TIMEOUT ${p.identTimeoutMs} ± ${p.toleranceMs} ms after the Event discriminator on stream 4 (not after the handshake)`],
    deadlineMs: (p) => Math.round(p.identTimeoutMs * 0.75) + identWatchMs(p) + slack(p),
    async run(ctx) {
      const c = await ctx.connect();
      c.openStream(); // Stream 0: never written.
      await ctx.sleep(Math.round(ctx.profile.identTimeoutMs * 0.75));
      if (c.isClosed) return;
      await openTyped(c, Discriminator.Event);
      await closed(ctx, c, identWatchMs(ctx.profile));
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'proton/identification/identified-in-time',
    section: '3',
    rules: ['PROTON-3.4', 'PROTON-2.7', 'PROTON-6.2'],
    description: 'Connects, waits half the identification timeout, identifies an Action stream, then stays past the timeout reading action items.',
    requirement: 'The identification timeout applies only while no stream has been identified (identTimeoutScope connection) or to a visible stream not identified (stream); the server MUST NOT close a connection without a reason of this SPEC.',
    // An Action stream: no receive timeout applies to it under any reading (PROTON-7.1), so only identification is at stake.
    expected: (p) => [`no close during ${identWatchMs(p)} ms after the handshake; action items meanwhile`],
    deadlineMs: (p) => p.identTimeoutMs + slack(p) * 2,
    async run(ctx) {
      const c = await ctx.connect();
      await ctx.sleep(ctx.profile.identTimeoutMs / 2);
      const s = await openTyped(c, Discriminator.Action);
      await ctx.sleep(ctx.profile.identTimeoutMs / 2 + 2 * ctx.profile.toleranceMs);
      if (c.isClosed) return;
      await received(ctx, s, ITEM_SIZE, ctx.profile.actionIntervalMs + slack(ctx.profile));
    },
  }),
  defineCase({
    id: 'proton/identification/fin-before-discriminator',
    section: '3',
    rules: ['PROTON-3.5'],
    description: 'Identifies an Event stream, then opens a second stream and sends only FIN on it.',
    requirement: 'A stream that ends (FIN) or is aborted by the client before its discriminator is a violation (0x1).',
    expected: (p) => [closeWithin(CloseCode.PROTOCOL_VIOLATION, p, 'the FIN')],
    deadlineMs: slack,
    async run(ctx) {
      const c = await ctx.connect();
      await openTyped(c, Discriminator.Event);
      const empty = c.openStream();
      await empty.end();
      await ctx.settle();
    },
  }),
];
