/** SPEC §4 Acknowledgement: capability negotiation, fresh nonces and distinct session ids. */
import { CloseCode } from '../codec.js';
import { negotiateCapabilities } from '../model.js';
import type { ThetaProfile } from '../profile.js';
import { closeWithin, defineCase, Session, slack, validHello, type ThetaCase } from './_helpers.js';

const CAPS = 'capabilities MUST be the intersection of the requested ids and the server\u2019s, ascending, each id once.';

/** Requests derived from the server's capabilities (ids not in it: above its largest, capped at 65535). */
const outside = (p: ThetaProfile, k: number): number[] => {
  const top = Math.max(0, ...p.serverCapabilities);
  return Array.from({ length: k }, (_, i) => Math.min(0xffff, top + 1 + i * 7)).filter((c) => !p.serverCapabilities.includes(c));
};
const requests: readonly { readonly name: string; readonly what: string; readonly ids: (p: ThetaProfile) => number[] }[] = [
  { name: 'disjoint', what: 'only ids the server lacks', ids: (p) => outside(p, 3) },
  { name: 'subset', what: 'some of the server\u2019s ids', ids: (p) => p.serverCapabilities.slice(0, Math.max(1, p.serverCapabilities.length - 1)) },
  { name: 'superset', what: 'every id of the server\u2019s and two more', ids: (p) => [...p.serverCapabilities, ...outside(p, 2)] },
  { name: 'empty', what: 'no ids', ids: () => [] },
  { name: 'unsorted', what: 'the server\u2019s ids and one more, in descending order', ids: (p) => [...p.serverCapabilities, ...outside(p, 1)].sort((a, b) => b - a) },
];

export const ackCases: ThetaCase[] = [
  ...requests.map((r) =>
    defineCase({
      id: `theta/ack/capabilities-${r.name}`,
      section: '4',
      rules: ['THETA-4.5'],
      description: `Sends a valid SessionHello requesting ${r.what}.`,
      requirement: CAPS,
      expected: (p) => [`SessionAcknowledge with capabilities [${negotiateCapabilities(r.ids(p), p.serverCapabilities).join(', ')}]`],
      deadlineMs: (p) => 2 * slack(p),
      async run(ctx) {
        const s = await Session.open(ctx);
        await s.handshake(validHello(ctx.profile, { capabilities: r.ids(ctx.profile) }));
        await ctx.settle(slack(ctx.profile));
      },
    }),
  ),
  defineCase({
    id: 'theta/ack/capabilities-duplicates',
    section: '4',
    rules: ['THETA-4.5'],
    description: 'Sends a valid SessionHello requesting each of the server\u2019s ids twice.',
    requirement: `${CAPS} Duplicates in the request: profile duplicateCapabilities: dedupe (the intersection is a set) or violation (close 0x5).`,
    expected: (p) => [p.duplicateCapabilities === 'dedupe' ? `SessionAcknowledge with capabilities [${negotiateCapabilities(p.serverCapabilities, p.serverCapabilities).join(', ')}], each once` : closeWithin(CloseCode.PROTOCOL_VIOLATION, p, 'the SessionHello')],
    deadlineMs: (p) => 2 * slack(p),
    async run(ctx) {
      const s = await Session.open(ctx);
      const caps = ctx.profile.serverCapabilities.length > 0 ? ctx.profile.serverCapabilities : [1];
      await s.handshake(validHello(ctx.profile, { capabilities: [...caps, ...caps] }));
      await ctx.settle(slack(ctx.profile));
    },
  }),
  defineCase({
    id: 'theta/ack/concurrent-sessions',
    section: '4',
    rules: ['THETA-4.2', 'THETA-4.3'],
    description: 'Opens 8 connections at once and handshakes on each.',
    requirement: 'server_nonce MUST be fresh (two sessions never get the same nonce); session_id MUST differ between concurrent sessions.',
    expected: () => ['8 acknowledgements with 8 distinct server nonces and 8 distinct session ids'],
    deadlineMs: (p) => 4 * slack(p),
    async run(ctx) {
      const sessions = await Promise.all(Array.from({ length: 8 }, (_, i) => Session.open(ctx, `client${i}`)));
      await Promise.all(sessions.map((s) => s.handshake()));
      await ctx.settle(slack(ctx.profile));
      const acks = sessions.map((s) => s.ack);
      const ids = new Set(acks.map((a) => a?.sessionId.toString()));
      if (acks.every((a) => a !== undefined) && ids.size !== acks.length) {
        ctx.report({ rule: 'THETA-4.3', severity: 'must', expected: '8 distinct session ids', seen: `${ids.size} distinct` });
      }
      for (const s of sessions) s.stopHeartbeats();
    },
  }),
];
