/**
 * SPEC §8 (and §7.3) Connection loss and reconnection: the harness loses a
 * connection on purpose through a chaos proxy (reset, data limit) and
 * reconnects — with the reference client's backoff — and the server must
 * serve the reconnecting client at once (MOONPOOL-8.5).
 */
import { MoonpoolClient } from '../client.js';
import { defineCase, harnessConnector, impair, openServed, pingFrame, pingFrames, slack, Wire, withProxy } from './_helpers.js';

const SERVED = 'A reconnecting client MUST be served at once: nothing of a lost connection (half-read envelope, unanswered request) may keep the server from serving the client\u2019s next connection.';

/** The cases of SPEC §8 Reconnection, in order. */
export const reconnectionCases = [
  defineCase({
    id: 'moonpool/reconnect/reset-then-reconnect',
    section: '8',
    rules: ['MOONPOOL-8.5', 'MOONPOOL-7.3', 'MOONPOOL-8.3', 'MOONPOOL-8.4'],
    description: 'The reference client (policy resend, the profile\u2019s backoff) through a chaos proxy: 20 PINGs; then the proxy resets every connection for a while (reset_peer) while 20 more PINGs are made; then the resets stop.',
    requirement: SERVED,
    expected: (p) => ['the first 20 PINGs answered', `after the resets stop, the client reconnects (backoff ${p.reconnectInitialMs} ms ×${p.reconnectGrowth} up to ${p.reconnectMaxMs} ms) and all 20 later PINGs are answered within their ${p.requestTimeoutMs} ms timeout`, '10 more PINGs on the new connection'],
    deadlineMs: (p) => p.requestTimeoutMs + slack(p) * 2 + 1_000,
    async run(ctx) {
      const p = ctx.profile;
      await withProxy(ctx, [], async (proxy) => {
        const opened: number[] = [];
        let cutting = false;
        const client = new MoonpoolClient({
          connector: harnessConnector(ctx, proxy, (conn) => {
            opened.push(conn);
            if (cutting) impair(ctx, 'cut', conn);
          }),
          profile: p,
          onConnectionLoss: 'resend',
        });
        try {
          const ping = async (label: string) => {
            try {
              await client.ping();
              return undefined;
            } catch (err) {
              return `${label}: ${(err as { kind?: string }).kind ?? (err as Error).name}: ${(err as Error).message}`;
            }
          };
          const first = (await Promise.all(Array.from({ length: 20 }, (_, i) => ping(`PING ${i + 1}`)))).filter(Boolean);
          if (first.length) {
            ctx.report({ rule: 'MOONPOOL-4.1', severity: 'must', expected: '20 PONGs before any impairment', seen: first[0]! });
            return;
          }
          cutting = true;
          for (const conn of opened) impair(ctx, 'cut', conn);
          proxy.addToxic({ type: 'reset_peer', name: 'reset', stream: 'both', delayMs: 0 });
          const later = Array.from({ length: 20 }, (_, i) => ping(`PING ${i + 21}`));
          await ctx.sleep(4 * p.reconnectInitialMs);
          proxy.removeToxic('reset');
          cutting = false;
          ctx.note(`resets stopped; the client made ${client.stats.connects} connection(s) so far`);
          const failed = (await Promise.all(later)).filter(Boolean);
          if (failed.length) {
            ctx.report({ rule: 'MOONPOOL-8.5', severity: 'must', expected: 'every PING made during the resets answered after the reconnection', seen: `${failed.length} of 20 failed; first: ${failed[0]!}` });
            return;
          }
          const more = (await Promise.all(Array.from({ length: 10 }, (_, i) => ping(`PING ${i + 41}`)))).filter(Boolean);
          if (more.length) ctx.report({ rule: 'MOONPOOL-8.5', severity: 'must', expected: '10 more PONGs on the new connection', seen: more[0]! });
          await ctx.settle();
        } finally {
          await client.close();
        }
      });
    },
  }),
  defineCase({
    id: 'moonpool/reconnect/lost-mid-frame',
    section: '8',
    rules: ['MOONPOOL-8.5', 'MOONPOOL-7.3', 'MOONPOOL-5.3'],
    description: 'Through a chaos proxy that lets only 55 bytes reach the server (limit_data), sends 5 PINGs in one write: the server gets 3 PINGs and 7 bytes of the 4th, then the connection ends. Then PING #10 on a new connection.',
    requirement: SERVED,
    expected: (p) => [`PONG #10 on the new connection within ${p.replyDeadlineMs} ms`],
    deadlineMs: (p) => slack(p) * 2,
    async run(ctx) {
      await withProxy(ctx, [{ type: 'limit_data', name: 'limit', stream: 'upstream', bytes: 3 * 16 + 7 }], async (proxy) => {
        const a = await Wire.open(ctx, proxy);
        impair(ctx, 'cut', a.id);
        await a.send(pingFrames([1, 2, 3, 4, 5]));
        await a.awaitEnd(slack(ctx.profile));
        proxy.removeToxic('limit');
        await ctx.sleep(20);
        const b = await openServed(ctx, 'MOONPOOL-8.5', 'after a lost connection', proxy);
        if (!b) return;
        await b.send(pingFrame(10));
        await b.awaitReplies(1, slack(ctx.profile));
        await ctx.settle();
      });
    },
  }),
];
