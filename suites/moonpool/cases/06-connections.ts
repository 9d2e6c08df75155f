/** SPEC §6 Connections: many, one after another and at once; client FIN; client disconnects at any point. */
import { defineCase, openServed, pingFrame, pingFrames, slack, Wire } from './_helpers.js';

/** The cases of SPEC §6 Connections, in order. */
export const connectionCases = [
  defineCase({
    id: 'moonpool/connections/many-sequential',
    section: '6',
    rules: ['MOONPOOL-6.1', 'MOONPOOL-4.4'],
    description: 'Opens 30 connections one after another; on each sends PING #1, waits for the PONG and closes.',
    requirement: 'The server accepts connections one after another without limit; each connection has its own framing state and its own outstanding requests.',
    expected: (p) => [`PONG #1 on each of the 30 connections within ${p.replyDeadlineMs} ms`],
    deadlineMs: (p) => slack(p) + 5_000,
    async run(ctx) {
      for (let i = 0; i < 30; i++) {
        const w = await Wire.open(ctx);
        await w.send(pingFrame(1));
        if (!(await w.awaitReplies(1, slack(ctx.profile)))) return;
        await w.close();
      }
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'moonpool/connections/concurrent',
    section: '6',
    rules: ['MOONPOOL-6.1', 'MOONPOOL-3.5', 'MOONPOOL-6.4'],
    description: 'Opens 8 connections at once and sends PINGs #1–#10 on each, interleaving the writes (concurrentConnections; else the case only checks one connection).',
    requirement: 'The server accepts several connections at once (profile concurrentConnections); each has its own framing state and outstanding requests.',
    expected: (p) => [`10 PONGs on each connection within ${p.replyDeadlineMs} ms`],
    deadlineMs: (p) => slack(p) + 1_000,
    async run(ctx) {
      const n = ctx.profile.concurrentConnections ? 8 : 1;
      const wires: Wire[] = [];
      for (let i = 0; i < n; i++) wires.push(await Wire.open(ctx));
      for (let id = 1; id <= 10; id++) for (const w of wires) await w.send(pingFrame(id));
      await ctx.until(() => wires.every((w) => w.replies().length >= 10), slack(ctx.profile));
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'moonpool/connections/fin-after-requests',
    section: '6',
    rules: ['MOONPOOL-6.2'],
    description: 'Sends PINGs #1–#5 and FIN in a row.',
    requirement: 'A client FIN after whole envelopes means "no more requests". The server MUST still reply to every request received before it and SHOULD then close its side within replyDeadlineMs.',
    expected: (p) => ['PONG #1–#5', `then the server's FIN within ${p.replyDeadlineMs} ms`],
    deadlineMs: slack,
    async run(ctx) {
      const w = await Wire.open(ctx);
      await w.send(pingFrames([1, 2, 3, 4, 5]));
      await w.stream.end();
      await w.awaitEnd(slack(ctx.profile));
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'moonpool/connections/disconnect-mid-frame',
    section: '6',
    rules: ['MOONPOOL-6.3'],
    description: 'Sends 7 bytes of a header and closes the connection; then PING #1 on a new connection.',
    requirement: 'A client may disconnect at any point, in the middle of an envelope included. The server drops that connection\u2019s state and MUST keep serving new connections.',
    expected: (p) => [`PONG #1 on the new connection within ${p.replyDeadlineMs} ms`],
    deadlineMs: (p) => slack(p) + 500,
    async run(ctx) {
      const a = await Wire.open(ctx);
      await a.send(pingFrame(9).subarray(0, 7));
      await ctx.sleep(20);
      await a.close();
      const b = await openServed(ctx, 'MOONPOOL-6.3', 'after a client disconnected');
      if (!b) return;
      await b.send(pingFrame(1));
      await b.awaitReplies(1, slack(ctx.profile));
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'moonpool/connections/reset-mid-frame',
    section: '6',
    rules: ['MOONPOOL-6.3'],
    description: 'Sends a header and 2 of 4 payload bytes, then resets the connection (RST); then PING #1 on a new connection.',
    requirement: 'A client may disconnect at any point (close or reset). The server MUST keep serving new connections.',
    expected: (p) => [`PONG #1 on the new connection within ${p.replyDeadlineMs} ms`],
    deadlineMs: (p) => slack(p) + 500,
    async run(ctx) {
      const a = await Wire.open(ctx);
      await a.send(pingFrame(9).subarray(0, 14));
      await ctx.sleep(20);
      a.stream.reset(0);
      await ctx.sleep(20);
      const b = await openServed(ctx, 'MOONPOOL-6.3', 'after a client disconnected');
      if (!b) return;
      await b.send(pingFrame(1));
      await b.awaitReplies(1, slack(ctx.profile));
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'moonpool/connections/disconnect-with-requests-outstanding',
    section: '6',
    rules: ['MOONPOOL-6.3', 'MOONPOOL-3.5'],
    description: 'Sends 200 PINGs and closes the connection at once; then PING #1 on a new connection.',
    requirement: 'A client may disconnect at any point. The server drops that connection\u2019s state (its replies go nowhere) and MUST keep serving new connections.',
    expected: (p) => [`PONG #1 on the new connection within ${p.replyDeadlineMs} ms, and no reply of the old connection there`],
    deadlineMs: (p) => slack(p) + 500,
    async run(ctx) {
      const a = await Wire.open(ctx);
      await a.send(pingFrames(Array.from({ length: 200 }, (_, i) => 1000 + i)));
      await a.close();
      const b = await openServed(ctx, 'MOONPOOL-6.3', 'after a client disconnected');
      if (!b) return;
      await b.send(pingFrame(1));
      await b.awaitReplies(1, slack(ctx.profile));
      await ctx.sleep(50);
      await ctx.settle();
    },
  }),
];
