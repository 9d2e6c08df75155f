/**
 * Correlation ids (SPEC §3): several requests in flight whose ids are drawn
 * from a small pool, so that an id is often **duplicated in flight** (the
 * client breaking MOONPOOL-3.1: a conforming server, which keeps no table of
 * ids, answers each request), **reused** after its reply (valid), shared
 * between a PING and a payload that is not a ping, taken at the edges of the
 * u64 range (0, 2^53 ± 1, 2^63, 2^64 − 1), and the same ids used at once
 * on a second connection (correlation is per connection: 3.5). Written in
 * one write, one write each, or cut anywhere; then the connection ends with
 * FIN (every reply before the server's close: 6.2), a close, or nothing.
 */
import fc from 'fast-check';
import type { FuzzProgram } from '../../../harness/fuzz/types.js';
import { encodeEnvelopes, PING, type Envelope } from '../codec.js';
import type { MoonpoolProfile } from '../profile.js';
import { chunking, chunkingText, correlationId, cut, otherPayload, type Chunking } from './_arbs.js';
import { MoonpoolProgramBuilder, type ProgramConn } from './program.js';

interface Req {
  /** Index into the id pool. */
  readonly slot: number;
  readonly ping: boolean;
  readonly other: Uint8Array;
}

interface Spec {
  /** Distinct ids the requests draw from (1–4). */
  readonly pool: readonly bigint[];
  /** First batch, in flight together. */
  readonly first: readonly Req[];
  /** How the first batch is written. */
  readonly writes: 'one' | 'each' | Chunking;
  /** Second batch, after the replies to the first (reused ids), or none. */
  readonly second: readonly Req[];
  /** The same ids on a second connection, interleaved with the first. */
  readonly twin: boolean;
  readonly ending: 'none' | 'fin' | 'close';
}

const req = (pool: number): fc.Arbitrary<Req> =>
  fc.record({ slot: fc.nat(pool - 1), ping: fc.oneof({ arbitrary: fc.constant(true), weight: 3 }, { arbitrary: fc.constant(false), weight: 1 }), other: otherPayload() });

const spec: fc.Arbitrary<Spec> = fc.uniqueArray(correlationId, { minLength: 1, maxLength: 4, comparator: (a, b) => a === b }).chain((pool) =>
  fc.record({
    pool: fc.constant(pool),
    first: fc.array(req(pool.length), { minLength: 1, maxLength: 6 }),
    writes: fc.oneof(fc.constant('one' as const), fc.constant('each' as const), chunking),
    second: fc.array(req(pool.length), { maxLength: 3 }),
    twin: fc.boolean(),
    ending: fc.constantFrom('none' as const, 'fin' as const, 'close' as const),
  }),
);

function envelopes(s: Spec, reqs: readonly Req[]): Envelope[] {
  return reqs.map((r) => ({ correlationId: s.pool[r.slot]!, payload: r.ping ? PING : r.other }));
}

function build(profile: MoonpoolProfile, s: Spec): FuzzProgram {
  const b = new MoonpoolProgramBuilder(profile, 'correlation-ids');
  const conns: ProgramConn[] = [b.connect()];
  if (s.twin && profile.concurrentConnections) conns.push(b.connect());
  const first = envelopes(s, s.first);
  const ids = first.map((e) => e.correlationId);
  const dup = ids.filter((id, i) => ids.indexOf(id) !== i).length;
  b.exercises('MOONPOOL-3.1', 'MOONPOOL-3.4');
  if (conns.length > 1) b.exercises('MOONPOOL-3.5');
  let pieces = 0;
  for (const c of conns) {
    const name = conns.length > 1 ? `on ${c.name}` : undefined;
    if (s.writes === 'each') {
      for (const e of first) b.write(c, encodeEnvelopes([e]), name);
      pieces = first.length;
    } else {
      const parts = cut(encodeEnvelopes(first), s.writes === 'one' ? { type: 'whole' } : s.writes);
      for (const p of parts) b.write(c, p, name);
      pieces = parts.length;
    }
  }
  let then = '';
  if (s.second.length > 0) {
    b.awaitReplies();
    const second = envelopes(s, s.second);
    for (const c of conns) if (b.isLive(c)) b.write(c, encodeEnvelopes(second), 'ids from the same pool after the replies (reused: MOONPOOL-3.1)');
    then = `, then, after the replies, ${second.length} more with id${second.length > 1 ? 's' : ''} ${second.map((e) => `#${e.correlationId}`).join(', ')} from the same pool`;
  }
  for (const c of conns) {
    if (!b.isLive(c)) continue;
    if (s.ending === 'fin') b.fin(c);
    else if (s.ending === 'close') b.close(c);
  }
  const how = s.writes === 'one' ? 'in one write' : s.writes === 'each' ? 'one write each' : chunkingText(s.writes, pieces, encodeEnvelopes(first).length);
  return b.build(
    `Sends ${first.length} request${first.length > 1 ? 's' : ''} with id${ids.length > 1 ? 's' : ''} ${ids.map((id) => `#${id}`).join(', ')}${dup ? ` (${dup} duplicate${dup > 1 ? 's' : ''} in flight)` : ''} ${how}${conns.length > 1 ? ', the same on a second connection' : ''}${then}${s.ending === 'none' ? '' : s.ending === 'fin' ? ', then FIN' : ', then closes'}.`,
  );
}

/** Correlation-id programs for a profile (name `correlation-ids`). */
export function correlationIds(profile: MoonpoolProfile): fc.Arbitrary<FuzzProgram> {
  return spec.map((s) => build(profile, s));
}
