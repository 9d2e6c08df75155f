/**
 * The Garou monitor judges truly concurrent writers (SPEC GAROU-7.7): three
 * clients write into one room at the same time, without waiting. The
 * reference core (server mode) is fed their commands in a chosen
 * interleaving — the order the server "received" them, which the trace
 * does not show — and its output reaches the trace in a chosen merge of its
 * streams (QUIC orders no two streams). The monitor must accept every such
 * trace, and still report a gap, a duplicate, a reorder within one
 * connection's commands, an event to a non-member or one missing for a
 * member, an event before its command was sent, and a permission broken
 * under the order the server chose.
 */
import t from 'tap';
import fc from 'fast-check';
import { actionToEvent } from '../../harness/engine/server-core.js';
import type { DistributiveOmit, TraceEvent } from '../../harness/engine/trace.js';
import type { Violation } from '../../harness/engine/types.js';
import { createReferenceCore } from '../../reference-server/garou/index.js';
import { encodeFrame, encodeStreamHeader } from '../../suites/garou/codec.js';
import { FRAME_CODES, type FrameName, type Payloads } from '../../suites/garou/frames.js';
import { GarouModel } from '../../suites/garou/model.js';
import { fastProfile as profile } from '../../suites/garou/profile.js';
import { judgeTrace } from '../_support/monitor.js';

const MS = 1000;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const f = <K extends FrameName>(name: K, payload: Payloads[K]): string => hex(encodeFrame(name, payload));
const HDR = hex(encodeStreamHeader({ kind: 'commands' }));
type Ev = DistributiveOmit<TraceEvent, 't'>;
const open = (conn: number): Ev => ({ type: 'conn_open', conn, remote: 'sim' });
const c2s = (conn: number, stream: number, h: string): Ev => ({ type: 'data', conn, stream, dir: 'c2s', hex: h });
const hs = (user: string): string => f('Hello', { version: 1, client: 'sim' }) + f('Auth', { username: user });

/** The writers: connection, user, and the commands each writes in one write (its first write on the commands stream carries the header). */
const USERS = ['alice', 'bob', 'carol'] as const;
const ROOM = 1;
const post = (cmd: number, body: string): string => f('SendMessage', { cmd_id: cmd, room_id: ROOM, body });

/** One command of a writer: its connection and its bytes (the header with the first one, except alice's, whose stream is open). */
interface Chunk {
  readonly conn: number;
  readonly hex: string;
}

/**
 * What the writers do: `guest` replaces carol by a guest (GAROU-6.4);
 * `mixed`: an edit and reactions of message m1 with the posts; `race`:
 * alice deletes m1 while bob reacts to it.
 */
interface Variant {
  readonly guest?: boolean;
  readonly mixed?: boolean;
  readonly race?: boolean;
}

/** Commands of the concurrent phase, per writer, in the order each sends them. */
function writes(opts: Variant = {}): Chunk[][] {
  const w = (conn: number, cmds: string[]): Chunk[] => cmds.map((h, i) => ({ conn, hex: (i === 0 && conn !== 0 ? HDR : '') + h }));
  if (opts.race) {
    // Alice deletes m1 while bob reacts to it: bob's reaction is refused (NOT_FOUND) when the server took alice's first.
    return [
      w(0, [f('DeleteMessage', { cmd_id: 3, room_id: ROOM, message_id: 'm1' })]),
      w(1, [f('AddReaction', { cmd_id: 1, room_id: ROOM, message_id: 'm1', emoji: '+1' })]),
      w(2, [post(1, 'c1')]),
    ];
  }
  if (opts.mixed) {
    return [
      w(0, [f('EditMessage', { cmd_id: 3, room_id: ROOM, message_id: 'm1', body: 'edited' }), post(4, 'a')]),
      w(1, [f('AddReaction', { cmd_id: 1, room_id: ROOM, message_id: 'm1', emoji: '+1' }), post(2, 'b')]),
      w(2, [f('AddReaction', { cmd_id: 1, room_id: ROOM, message_id: 'm1', emoji: 'x' }), f('RemoveReaction', { cmd_id: 2, room_id: ROOM, message_id: 'm1', emoji: 'x' })]),
    ];
  }
  return [w(0, [post(3, 'a1'), post(4, 'a2')]), w(1, [post(1, 'b1'), post(2, 'b2')]), w(2, [post(1, 'c1'), post(2, 'c2')])];
}

/** Interleaves per-writer sequences: `picks[i]` chooses among the writers with commands left (each writer's order kept). */
function interleave<T>(seqs: readonly (readonly T[])[], picks: readonly number[]): T[] {
  const rest = seqs.map((s) => [...s]);
  const out: T[] = [];
  let i = 0;
  for (;;) {
    const live = rest.map((s, k) => (s.length > 0 ? k : -1)).filter((k) => k >= 0);
    if (live.length === 0) return out;
    out.push(rest[live[(picks[i++] ?? 0) % live.length]!]!.shift()!);
  }
}

interface Served {
  /** The whole trace, client input and server output, in time order. */
  readonly trace: TraceEvent[];
  /** Index in `trace` where the server's output of the concurrent phase begins. */
  readonly phase: number;
}

/**
 * Serves the scenario with the reference core (`fault`: one of its faults):
 * three users log in, alice creates a group with bob and carol (and, with
 * `mixed` or `race`, posts message m1); dave logs in, not a member. At 100-102 ms
 * each writer sends its commands in one write (recorded so); at 103 ms the
 * core reads them in the order `order` gives (a connection's consecutive
 * commands in one read).
 */
function serve(order: readonly Chunk[], opts: Variant & { readonly fault?: string } = {}): Served {
  const core = createReferenceCore({ profile, ...(opts.fault ? { fault: opts.fault } : {}) });
  const trace: TraceEvent[] = [];
  const poll = (t: number): void => {
    for (;;) {
      const next = core.nextTimer();
      if (next === undefined || next > t) break;
      for (const a of core.poll(next)) {
        const ev = actionToEvent(a, next);
        if (ev) trace.push(ev);
      }
    }
    for (const a of core.poll(t)) {
      const ev = actionToEvent(a, t);
      if (ev) trace.push(ev);
    }
  };
  const step = (ms: number, ev: Ev, record = true, feed = true): void => {
    const t = ms * MS;
    poll(t);
    const full = { ...ev, t } as TraceEvent;
    if (record) trace.push(full);
    if (feed) core.handle(full);
    poll(t);
  };
  const names = [USERS[0], USERS[1], opts.guest ? 'guest' : USERS[2], 'dave'];
  names.forEach((u, i) => {
    step(i * 2, open(i));
    step(i * 2 + 1, c2s(i, 0, hs(u)));
  });
  step(10, c2s(0, 2, HDR + f('CreateRoom', { cmd_id: 1, name: 'r', room_type: 'group', members: [names[1]!, names[2]!] })));
  if (opts.mixed || opts.race) step(20, c2s(0, 2, post(2, 'm1 body')));
  const ws = writes(opts);
  // What the trace shows: each writer's commands in one write, 1 ms apart.
  ws.forEach((w, i) => step(100 + i, c2s(w[0]!.conn, 2, w.map((c) => c.hex).join('')), true, false));
  const phase = trace.length;
  // What the server read, in its order; one read holds a connection's consecutive commands.
  const reads: Chunk[] = [];
  for (const c of order) {
    const last = reads[reads.length - 1];
    if (last?.conn === c.conn) reads[reads.length - 1] = { conn: c.conn, hex: last.hex + c.hex };
    else reads.push(c);
  }
  for (const c of reads) step(103, c2s(c.conn, 2, c.hex), false, true);
  poll(3_000 * MS);
  return { trace, phase };
}

/**
 * The server's output of the concurrent phase (everything it sent at that
 * instant) reaching the trace in another merge: each stream's events in
 * their order (QUIC), the streams interleaved by `picks`.
 */
function remerge(s: Served, picks: readonly number[]): TraceEvent[] {
  const t0 = s.trace[s.phase]!.t;
  const end = s.trace.findIndex((ev, i) => i >= s.phase && ev.t > t0);
  const tail = s.trace.slice(s.phase, end < 0 ? undefined : end);
  const key = (ev: TraceEvent): string => (ev.type === 'data' || ev.type === 'stream_fin' ? `${ev.conn}:${ev.stream}` : `${'conn' in ev ? ev.conn : ''}:${ev.type}`);
  const groups = new Map<string, TraceEvent[]>();
  for (const ev of tail) groups.set(key(ev), [...(groups.get(key(ev)) ?? []), ev]);
  const merged = interleave([...groups.values()], picks);
  return [...s.trace.slice(0, s.phase), ...merged, ...(end < 0 ? [] : s.trace.slice(end))];
}

/** Runs a fresh monitor over `trace` and to its end + 2 s. */
function judge(trace: readonly TraceEvent[]): Violation[] {
  return judgeTrace(new GarouModel(profile, 'monitor'), trace, (trace.at(-1)?.t ?? 0) + 2_000 * MS);
}
const show = (vs: readonly Violation[]): string => vs.slice(0, 3).map((v) => `${v.rule}: ${v.expected} / ${v.seen}`).join('; ') || 'none';

const frameName = (ev: TraceEvent): string | undefined => {
  if (ev.type !== 'data' || ev.dir !== 's2c') return undefined;
  return Object.entries(FRAME_CODES).find(([, c]) => c === parseInt(ev.hex.slice(0, 2), 16))?.[0];
};
const seqsOn = (trace: readonly TraceEvent[], conn: number): number[] =>
  trace.flatMap((ev) => (ev.type === 'data' && ev.dir === 's2c' && ev.conn === conn && frameName(ev) === 'RoomMessage' ? [JSON.parse(Buffer.from(ev.hex.slice(10), 'hex').toString()).seq as number] : []));

const picksArb = fc.array(fc.nat(5), { minLength: 0, maxLength: 60 });

t.test('every interleaving the server may choose, and every merge of its streams, is accepted (GAROU-7.7)', async (t) => {
  const base = serve(interleave(writes(), []));
  t.same(seqsOn(base.trace, 2), [1, 2, 3, 4, 5, 6], 'the core sequenced six messages, carol saw them all');
  t.same(judge(base.trace), [], 'the order read, in the order sent');
  // The server read bob's, then carol's, then alice's: the trace still shows alice's sent first.
  const reversed = serve(interleave([...writes()].reverse(), []));
  t.same(judge(reversed.trace), [], 'the writers in the reverse order of sending');
  fc.assert(
    fc.property(picksArb, picksArb, fc.constantFrom<Variant>({}, { mixed: true }, { race: true }), (order, merge, variant) => {
      const s = serve(interleave(writes(variant), order), variant);
      const vs = judge(remerge(s, merge));
      if (vs.length > 0) throw new Error(show(vs));
    }),
    { numRuns: 120, seed: 7 },
  );
});

t.test('the answers of a connection before another connection shows who took the seqs below (held, then judged)', async (t) => {
  const s = serve(interleave(writes(), [1, 1, 2, 2, 0, 0])); // bob, bob, carol, carol, alice, alice
  // Alice's answers (seq 5, 6) first, then everything else.
  const t0 = s.trace[s.phase]!.t;
  const isAlice = (ev: TraceEvent): boolean => ev.t === t0 && ev.type === 'data' && ev.conn === 0 && ev.stream === 0;
  const tail = s.trace.slice(s.phase);
  const moved = [...s.trace.slice(0, s.phase), ...tail.filter(isAlice), ...tail.filter((e) => !isAlice(e))];
  const m = new GarouModel(profile, 'monitor');
  const early = moved.slice(0, s.phase + 2).flatMap((ev, i) => m.feed(ev, i));
  t.same(early, [], "alice's answers (seq 5, 6) first: nothing reported, they wait");
  t.notOk(m.settled(), 'and are owed');
  t.same(judge(moved), [], 'accepted');
});

t.test("a refusal caused by another connection's command the trace shows later waits for it (GAROU-7.7)", async (t) => {
  const s = serve(interleave(writes({ race: true }), [0, 0, 0]), { race: true }); // alice's delete, then bob's reaction: NOT_FOUND
  const t0 = s.trace[s.phase]!.t;
  const isBob = (ev: TraceEvent): boolean => ev.t === t0 && ev.type === 'data' && ev.conn === 1 && ev.stream === 0;
  const tail = s.trace.slice(s.phase);
  t.ok(tail.some((ev) => isBob(ev) && frameName(ev) === 'Error'), 'bob was refused');
  // Bob's Error first, then everything that shows alice's delete.
  t.same(judge([...s.trace.slice(0, s.phase), ...tail.filter(isBob), ...tail.filter((e) => !isBob(e))]), [], 'accepted');
  // A refusal no concurrent command explains is still reported: bob's reaction refused while nobody deletes m1.
  const alone = serve(interleave(writes({ race: true }), [1, 1, 1]), { race: true }); // bob first: accepted by the core
  const refused = alone.trace.map((ev) => (ev.type === 'data' && ev.conn === 1 && ev.stream === 0 && frameName(ev) === 'MessageAck' && ev.t === alone.trace[alone.phase]!.t ? { ...ev, hex: f('Error', { cmd_id: 1, code: 2, message: 'no' }) } : ev));
  t.equal(judge(refused)[0]?.rule, 'GAROU-5.5', 'a wrong refusal');
});

/** The first violation's rule over `trace`. */
const first = (trace: readonly TraceEvent[]): string | undefined => judge(trace)[0]?.rule;
const order = interleave(writes(), [1, 2, 0, 1, 2, 0]); // b1 c1 a1 b2 c2 a2

t.test('a gap, a duplicate, a reorder within a connection: violations under the order chosen', async (t) => {
  t.equal(first(serve(order, { fault: 'seq-gap' }).trace), 'GAROU-7.1', 'fault seq-gap');
  const s = serve(order);
  const ev = s.trace.findIndex((e, i) => i >= s.phase && e.type === 'data' && e.conn === 1 && frameName(e) === 'RoomMessage');
  const dup = [...s.trace.slice(0, ev + 1), s.trace[ev]!, ...s.trace.slice(ev + 1)];
  t.equal(first(dup), 'GAROU-7.3', 'an event twice on one stream');
  // The server read alice's second command before her first: the trace shows them sent in one write, a1 then a2.
  const swapped = order.map((c) => (c.hex === writes()[0]![0]!.hex ? writes()[0]![1]! : c.hex === writes()[0]![1]!.hex ? writes()[0]![0]! : c));
  t.ok(['GAROU-5.2', 'GAROU-7.1'].includes(first(serve(swapped).trace) ?? ''), `alice's commands applied out of order: ${show(judge(serve(swapped).trace))}`);
  // The fault swaps two answers of one read: bob's two, carol's two, alice's two.
  t.equal(first(serve(interleave(writes(), [1, 1, 2, 2, 0, 0]), { fault: 'answers-out-of-order' }).trace), 'GAROU-5.2', 'fault answers-out-of-order');
});

t.test('an event missing for a member, or to a non-member, or before its command was sent', async (t) => {
  t.equal(first(serve(order, { fault: 'no-echo' }).trace), 'GAROU-7.2', 'fault no-echo: the sender misses its own messages');
  const s = serve(order);
  const toCarol = s.trace.findIndex((e, i) => i >= s.phase && e.type === 'data' && e.conn === 2 && frameName(e) === 'RoomMessage');
  const lost = s.trace.filter((_, i) => i !== toCarol);
  t.equal(first(lost), 'GAROU-7.2', 'one event lost for carol');
  // The same event also on dave's shard stream 1 (room 1 → shard 1: stream 7), dave being no member.
  const src = s.trace[toCarol]!;
  const daveShard = s.trace.find((e) => e.type === 'data' && e.conn === 3 && e.dir === 's2c' && e.stream !== 0 && e.hex === hex(encodeStreamHeader({ kind: 'shard', shard: ROOM % profile.numShards })));
  t.ok(daveShard, "dave's shard stream 1 was opened");
  const leaked = [...s.trace.slice(0, toCarol + 1), { ...(src as Extract<TraceEvent, { type: 'data' }>), conn: 3, stream: (daveShard as Extract<TraceEvent, { type: 'data' }>).stream }, ...s.trace.slice(toCarol + 1)];
  t.ok(['GAROU-7.2', 'GAROU-7.4'].includes(first(leaked) ?? ''), `an event to a non-member: ${show(judge(leaked))}`);
  // Carol's first event before any command was sent (causality): moved before the writes.
  const early = [...s.trace.slice(0, s.phase - 3), { ...src, t: s.trace[s.phase - 4]!.t }, ...s.trace.slice(s.phase - 3).filter((e) => e !== src)];
  t.ok(['GAROU-7.1', 'GAROU-7.2'].includes(first(early) ?? ''), `an event before its command was sent: ${show(judge(early))}`);
});

t.test('a permission broken under the order the server chose (GAROU-6.4)', async (t) => {
  const g = serve(order, { guest: true });
  t.same(judge(g.trace), [], 'the conforming core refuses the guest, whatever the order');
  t.equal(first(serve(order, { guest: true, fault: 'guests-post' }).trace), 'GAROU-6.4', 'fault guests-post');
  fc.assert(
    fc.property(picksArb, picksArb, (o, merge) => {
      const s = serve(interleave(writes({ guest: true }), o), { guest: true, fault: 'guests-post' });
      const vs = judge(remerge(s, merge));
      if (!vs.some((v) => v.rule === 'GAROU-6.4')) throw new Error(`no GAROU-6.4: ${show(vs)}`);
    }),
    { numRuns: 40, seed: 11 },
  );
});
