/**
 * The Garou model against the reference core, in both modes: a scripted
 * session of five connections (three users in a room, a handshake that
 * times out, a violation, uploads, datagrams, a hot room promoted and
 * demoted) is served by the reference core (server mode); the monitor
 * (monitor mode) accepts the whole trace, and reports each obligation
 * (obligations.ts records, one per rule) as soon as the server's part of
 * it is taken out of the trace.
 */
import t from 'tap';
import { simulate } from '../../harness/engine/sim.js';
import { modelCore } from '../../harness/engine/server-core.js';
import type { DistributiveOmit, TraceEvent } from '../../harness/engine/trace.js';
import type { Violation } from '../../harness/engine/types.js';
import { createReferenceCore } from '../../reference-server/garou/index.js';
import { encodeDatagram, encodeFrame, encodeStreamHeader } from '../../suites/garou/codec.js';
import { CLOSE_CODES, FRAME_CODES, type FrameName, type Payloads } from '../../suites/garou/frames.js';
import { garouObligations, GarouModel } from '../../suites/garou/model.js';
import { fastProfile as profile } from '../../suites/garou/profile.js';
import { feedTracking, judgeTrace } from '../_support/monitor.js';

const MS = 1000;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const f = <K extends FrameName>(name: K, payload: Payloads[K]): string => hex(encodeFrame(name, payload));

/** Client input of the scenario: [time ms, event without t]. */
type Step = [number, DistributiveOmit<TraceEvent, 't'>];
const open = (conn: number): DistributiveOmit<TraceEvent, 't'> => ({ type: 'conn_open', conn, remote: 'sim' });
const c2s = (conn: number, stream: number, h: string): DistributiveOmit<TraceEvent, 't'> => ({ type: 'data', conn, stream, dir: 'c2s', hex: h });
const hs = (user: string): string => f('Hello', { version: 1, client: 'sim' }) + f('Auth', { username: user });

const burst = (from: number, n: number): string => Array.from({ length: n }, (_, i) => f('SendMessage', { cmd_id: from + i, room_id: 1, body: `b${i}` })).join('');
const script: Step[] = [
  [0, open(0)], [1, c2s(0, 0, hs('alice'))],
  [2, open(1)], [3, c2s(1, 0, hs('bob'))],
  [4, open(2)], [5, c2s(2, 0, hs('carol'))],
  [10, c2s(0, 2, hex(encodeStreamHeader({ kind: 'commands' })) + f('CreateRoom', { cmd_id: 1, name: 'r', room_type: 'group', members: ['bob', 'carol'] }))],
  [20, c2s(0, 2, f('SendMessage', { cmd_id: 2, room_id: 1, body: 'hi' }))],
  [30, c2s(1, 0, f('Ping', { nonce: 5 }))],
  [40, c2s(0, 6, hex(encodeStreamHeader({ kind: 'upload' })) + f('UploadStart', { upload_id: 'u', room_id: 1, name: 'n', size: 2 }))],
  [50, { type: 'dgram', conn: 0, dir: 'c2s', hex: hex(encodeDatagram('Typing', { room_id: 1, user_id: 'alice' })) }],
  [60, open(3)], [61, c2s(3, 0, f('Hello', { version: 1, client: 'sim' }))],
  [70, open(4)], [71, c2s(4, 0, hs('dave'))], [80, c2s(4, 2, '07')],
  [100, c2s(0, 2, burst(10, 12))],
  [110, c2s(0, 2, f('SendMessage', { cmd_id: 30, room_id: 1, body: 'hot' }))],
  [2500, c2s(0, 2, f('SendMessage', { cmd_id: 31, room_id: 1, body: 'cold again' }))],
  [2600, c2s(2, 0, f('Goodbye', { reason: 'bye' }))],
  [3000, { type: 'conn_close', conn: 0, by: 'client', isApp: true, code: 0, reason: '' }],
  [3001, { type: 'conn_close', conn: 1, by: 'client', isApp: true, code: 0, reason: '' }],
];

/** Serves the script with the reference core (harness/engine/sim.ts): the whole trace, client input and server output, in time order, to 3.5 s. */
function serve(): TraceEvent[] {
  return simulate(createReferenceCore({ profile }), script.map(([ms, ev]) => ({ ...ev, t: ms * MS }) as TraceEvent), 3500 * MS);
}

/** Runs a fresh monitor over `trace` and to its end + 2 s. */
function judge(trace: readonly TraceEvent[]): Violation[] {
  return judgeTrace(new GarouModel(profile, 'monitor'), trace, (trace.at(-1)?.t ?? 0) + 2_000 * MS);
}

const frameOf = (ev: TraceEvent): string | undefined => {
  if (ev.type !== 'data' || ev.dir !== 's2c') return undefined;
  const code = parseInt(ev.hex.slice(0, 2), 16);
  return Object.entries(FRAME_CODES).find(([, c]) => c === code)?.[0];
};

const trace = serve();

t.test('the reference core serves the scenario, and the monitor accepts every event of it', async (t) => {
  const names = trace.map(frameOf);
  for (const n of ['HelloAck', 'AuthOk', 'ShardAssignment', 'MessageAck', 'RoomInit', 'RoomMessage', 'Pong', 'UploadAck', 'RoomPromoted', 'RoomDemoted']) t.ok(names.includes(n), `the server sent ${n}`);
  t.ok(trace.some((e) => e.type === 'dgram' && e.dir === 's2c' && e.conn === 1), 'typing relayed to bob');
  t.ok(trace.some((e) => e.type === 'conn_close' && e.by === 'server' && e.conn === 3 && e.code === 3), 'conn 3 closed for the handshake timeout');
  t.ok(trace.some((e) => e.type === 'conn_close' && e.by === 'server' && e.conn === 4 && e.code === 1), 'conn 4 closed for its violation');
  t.same(judge(trace), []);
});

/** The first server output event matching `pred` removed (or all of them with `all`). */
function without(pred: (ev: TraceEvent) => boolean, all = false): TraceEvent[] {
  let done = false;
  return trace.filter((ev) => {
    if ((done && !all) || !pred(ev)) return true;
    done = true;
    return false;
  });
}
const isFrame = (name: string, conn?: number) => (ev: TraceEvent): boolean => frameOf(ev) === name && (conn === undefined || ('conn' in ev && ev.conn === conn)) && (ev.type === 'data' && ev.stream === 0 ? true : name.startsWith('Room') && name !== 'RoomPromoted' && name !== 'RoomDemoted');
const isClose = (code: number) => (ev: TraceEvent): boolean => ev.type === 'conn_close' && ev.by === 'server' && ev.code === code;

/** For each obligation record: the server output taken out, and the rule and severity the monitor must then report. */
const removals: Record<string, { readonly drop: (ev: TraceEvent) => boolean; readonly all?: boolean; readonly severity?: 'must' | 'should'; /** The rule reported, when the record's subject names a more precise one (the rule the client broke). */ readonly reported?: string }> = {
  'GAROU-4.5': { drop: isClose(3) },
  'GAROU-13.3': { drop: isClose(1), reported: 'GAROU-3.3' },
  'GAROU-4.1': { drop: isFrame('HelloAck', 0) },
  'GAROU-3.5': { drop: (ev) => ev.type === 'data' && ev.dir === 's2c' && ev.conn === 1 && ev.stream === 3, all: true },
  'GAROU-5.2': { drop: isFrame('MessageAck', 0) },
  'GAROU-10.1': { drop: isFrame('UploadAck', 0) },
  'GAROU-7.2': { drop: (ev) => ev.type === 'data' && frameOf(ev) === 'RoomMessage' && ev.conn === 1 && ev.hex.includes(Buffer.from('"body":"hi"').toString('hex')) },
  'GAROU-7.4': { drop: (ev) => ev.type === 'data' && frameOf(ev) === 'RoomInit' && ev.conn === 2 },
  'GAROU-12.1': { drop: isFrame('Pong', 1) },
  'GAROU-11.3': { drop: (ev) => ev.type === 'dgram' && ev.dir === 's2c', all: true, severity: 'should' },
  'GAROU-13.4': { drop: isClose(0) },
  'GAROU-8.2': { drop: isFrame('RoomPromoted'), all: true },
  'GAROU-8.3': { drop: isFrame('RoomDemoted'), all: true },
};

t.test('every obligation record is reported when the server does not meet it', async (t) => {
  t.same(Object.keys(removals).sort(), garouObligations(profile).records.map((r) => r.rule).sort(), 'one removal per record');
  for (const [rule, r] of Object.entries(removals)) {
    const cut = without(r.drop, r.all === true);
    t.ok(cut.length < trace.length, `${rule}: something was taken out`);
    const vs = judge(cut);
    t.ok(vs.length > 0 && vs[0]!.rule === (r.reported ?? rule) && vs[0]!.severity === (r.severity ?? 'must'), `${rule}: reported first (${vs[0] ? `${vs[0].rule} ${vs[0].severity}: ${vs[0].expected}` : 'nothing'})`);
  }
});

t.test('answers out of order and a reordered room event are violations', async (t) => {
  const acks = trace.map((ev, i) => (isFrame('MessageAck', 0)(ev) ? i : -1)).filter((i) => i >= 0);
  const swapped = [...trace];
  const [a, b] = [acks[1]!, acks[2]!];
  [swapped[a], swapped[b]] = [{ ...trace[b]!, t: trace[a]!.t }, { ...trace[a]!, t: trace[b]!.t }];
  t.equal(judge(swapped)[0]?.rule, 'GAROU-5.2');
  const evs = trace.map((ev, i) => (ev.type === 'data' && frameOf(ev) === 'RoomMessage' && ev.conn === 2 ? i : -1)).filter((i) => i >= 0);
  const re = [...trace];
  const [x, y] = [evs[1]!, evs[2]!];
  [re[x], re[y]] = [{ ...trace[y]!, t: trace[x]!.t }, { ...trace[x]!, t: trace[y]!.t }];
  t.equal(judge(re)[0]?.rule, 'GAROU-7.3', 'seq n+1 before n on one stream');
});

t.test('the room id the server chose is learned from a RoomInit that overtakes the CreateRoom answer (two streams)', async (t) => {
  const ack = trace.findIndex((ev) => ev.type === 'data' && ev.conn === 0 && frameOf(ev) === 'MessageAck');
  const init = trace.findIndex((ev) => ev.type === 'data' && ev.conn === 0 && frameOf(ev) === 'RoomInit');
  t.ok(ack >= 0 && init > ack, 'the core answers first');
  const moved = [...trace];
  const [ev] = moved.splice(init, 1);
  moved.splice(ack, 0, { ...ev!, t: trace[ack]!.t });
  t.same(judge(moved), []);
  const wrong = moved.map((e, i) => (i === ack + 1 && e.type === 'data' ? { ...e, hex: e.hex.replace(Buffer.from('"room_id":1}').toString('hex'), Buffer.from('"room_id":7}').toString('hex')) } : e));
  t.equal(judge(wrong)[0]?.rule, 'GAROU-6.2', 'an answer naming another room than its RoomInit');
});

t.test('a demotion before the cooldown is a violation (GAROU-8.3, with the slack of 8.7)', async (t) => {
  const demoted = trace.map((ev, i) => (isFrame('RoomDemoted')(ev) ? i : -1)).filter((i) => i >= 0);
  const promoted = trace.findIndex(isFrame('RoomPromoted'));
  t.ok(demoted.length > 0 && promoted >= 0, 'the core promoted and demoted the room');
  // Each RoomDemoted moved to 100 ms after the promotion: the rate is still high, the cooldown has not run.
  const at = trace[promoted]!.t + 100 * MS;
  const cut = trace.filter((_, i) => !demoted.includes(i));
  const k = cut.findIndex((ev) => ev.t > at);
  const early = [...cut.slice(0, k), ...demoted.map((i) => ({ ...trace[i]!, t: at })), ...cut.slice(k)];
  const vs = judge(early);
  t.equal(vs[0]?.rule, 'GAROU-8.3', `reported first: ${vs[0] ? `${vs[0].expected} / ${vs[0].seen}` : 'nothing'}`);
  t.match(vs[0]?.expected ?? '', /not before/, 'as early');
  // Within toleranceMs of the due time it is accepted: the conforming trace's demotions are (test 1).
});

t.test('the model forgets a connection once its conn_close is fed: state stays bounded over many connections (issue 13 soak)', async (t) => {
  // 60 connections, one after another: even ones authenticate and are closed by the client; odd ones break a rule (an unknown stream header) and are closed by the server.
  const input: TraceEvent[] = [];
  for (let i = 0; i < 60; i++) {
    const at = i * 20 * MS;
    input.push({ ...open(i), t: at } as TraceEvent, { ...c2s(i, 0, hs(`u${i}`)), t: at + MS } as TraceEvent);
    if (i % 2 === 1) input.push({ ...c2s(i, 2, '07'), t: at + 2 * MS } as TraceEvent);
    else input.push({ type: 'conn_close', t: at + 10 * MS, conn: i, by: 'client', isApp: true, code: 0, reason: '' });
  }
  const server = new GarouModel(profile, 'server');
  const served = simulate(modelCore(server), input, (60 * 20 + 500) * MS);
  t.equal(served.filter((e) => e.type === 'conn_close' && e.by === 'server').length, 30, 'the server closed the 30 rule breakers');
  t.equal(server.trackedConnections(), 0, 'server mode: no connection kept after 60 closed ones');
  const { most, end } = feedTracking(new GarouModel(profile, 'monitor'), served);
  t.equal(end, 0, 'monitor mode: none either');
  t.ok(most >= 1 && most <= 2, `monitor mode: at most the connections in flight at once (${most})`);
  // The scenario above (connections closed by the client, for a handshake timeout, a violation and after Goodbye) leaves none either.
  t.equal(feedTracking(new GarouModel(profile, 'monitor'), trace).end, trace.filter((e) => e.type === 'conn_open').length - trace.filter((e) => e.type === 'conn_close').length, 'scenario: only the connections not closed are kept');
});

// ---------------------------------------------------------------------------
// GAROU-3.4's race: what the client sends after its Auth and before AuthOk reaches it.

/** `x` ms in µs, and a trace event at `at` ms. */
const ms = (x: number): number => Math.round(x * MS);
const ev = (at: number, e: DistributiveOmit<TraceEvent, 't'>): TraceEvent => ({ ...e, t: ms(at) }) as TraceEvent;
const clientClose = (at: number, conn: number): TraceEvent => ev(at, { type: 'conn_close', conn, by: 'client', isApp: true, code: 0, reason: '' });
const serverClose = (at: number, conn: number, code: number, reason = 'GAROU-3.4 commands stream opened before AuthOk'): TraceEvent => ev(at, { type: 'conn_close', conn, by: 'server', isApp: true, code, reason });
const helloF = f('Hello', { version: 1, client: 'sim' });
const authF = (user: string): string => f('Auth', { username: user });
const header = (kind: 'commands' | 'acks' | 'upload'): string => hex(encodeStreamHeader({ kind }));
const typing = (user: string): string => hex(encodeDatagram('Typing', { room_id: 1, user_id: user }));
const fromServer = (e: TraceEvent): boolean => (e.type === 'conn_close' || e.type === 'stream_open' ? e.by === 'server' : 'dir' in e && e.dir === 's2c');

/**
 * The client's view of a connection whose server read the client's bytes in
 * the order of `read` (served by the reference core): the client sent
 * `sent`, and each server event reaches it `latencyMs` later. At equal
 * times the client's event comes first.
 */
function clientView(read: readonly TraceEvent[], sent: readonly TraceEvent[], latencyMs: number, endMs = 3000): TraceEvent[] {
  const served = simulate(createReferenceCore({ profile }), read, endMs * MS).filter(fromServer);
  const all = [...sent, ...served.map((e) => ({ ...e, t: e.t + latencyMs * MS }))];
  return all.map((e, i) => ({ e, i })).sort((a, b) => a.e.t - b.e.t || a.i - b.i).map(({ e }) => e);
}
const rulesOf = (vs: readonly Violation[]): string[] => vs.map((v) => `${v.rule} ${v.severity}`);
const isAuthOk = (conn: number) => (e: TraceEvent): boolean => e.type === 'data' && e.conn === conn && e.dir === 's2c' && frameOf(e) === 'AuthOk';

t.test('a client stream opened after Auth and before AuthOk arrives races the handshake (GAROU-3.4): either reading conforms', async (t) => {
  // alice sends Hello and Auth, then, before AuthOk reaches her (5 ms of latency), opens her three streams with a frame on each.
  const sent = [
    ev(0, open(0)),
    ev(1, c2s(0, 0, helloF + authF('alice'))),
    ev(2, c2s(0, 2, header('commands') + f('CreateRoom', { cmd_id: 1, name: 'r', room_type: 'group' }))),
    ev(3, c2s(0, 6, header('acks') + f('MessageRead', { room_id: 1, seq: 1 }))),
    ev(4, c2s(0, 10, header('upload') + f('UploadStart', { upload_id: 'u', room_id: 99, name: 'n', size: 1 }))),
  ];
  const after = clientView([...sent, clientClose(1500, 0)], [...sent, clientClose(1500, 0)], 5);
  const authOk = after.findIndex(isAuthOk(0));
  t.ok(authOk > after.findIndex((e) => e.type === 'data' && e.stream === 10), 'AuthOk reaches the client after it opened its streams');

  // Reading 1: the server read Auth first (its control stream is ordered), sent AuthOk, then read the streams: answered as usual.
  t.ok(after.some((e) => frameOf(e) === 'MessageAck') && after.some((e) => frameOf(e) === 'Error'), 'the core answered the CreateRoom and refused the UploadStart');
  t.same(rulesOf(judge(after)), [], 'read after AuthOk: the commands and the upload are answered');
  const noAck = after.filter((e) => frameOf(e) !== 'MessageAck');
  t.same(rulesOf(judge(noAck)).slice(0, 1), ['GAROU-5.2 must'], 'the check can fail: the command is owed its answer once AuthOk came');
  const noUploadAnswer = after.filter((e) => frameOf(e) !== 'Error');
  t.same(rulesOf(judge(noUploadAnswer)).slice(0, 1), ['GAROU-10.1 must'], 'the check can fail: the upload frame is owed its answer too');

  // Reading 2: the commands stream arrived before the Auth (QUIC orders no two streams): a stream before AuthOk, close 0x1.
  const read = [ev(0, open(0)), ev(1, c2s(0, 0, helloF)), ev(2, c2s(0, 2, header('commands'))), ev(2.5, c2s(0, 0, authF('alice')))];
  const before = clientView(read, sent.slice(0, 3), 5);
  const close = before.find((e) => e.type === 'conn_close');
  t.match(close, { by: 'server', code: CLOSE_CODES.PROTOCOL_VIOLATION }, 'the core closed 0x1 before any AuthOk');
  t.notOk(before.some(isAuthOk(0)), 'no AuthOk');
  t.same(rulesOf(judge(before)), [], 'read before AuthOk: the close 0x1 conforms');
  const late = before.map((e) => (e.type === 'conn_close' ? { ...e, t: ms(2) + ms(profile.replyDeadlineMs + profile.toleranceMs) + 1 } : e));
  t.not(judge(late).length, 0, 'the check can fail: a close 0x1 later than the reply deadline after the stream does not');
  const wrongCode = before.map((e) => (e.type === 'conn_close' ? { ...e, code: CLOSE_CODES.FRAME_TOO_LARGE } : e));
  t.not(judge(wrongCode).length, 0, 'nor a close with another code');

  // An Auth that fails (empty username): the server reads the stream first (0x1), or the Auth first (AuthFailed, 0x2).
  const sentF = [ev(0, open(0)), ev(1, c2s(0, 0, helloF + authF(''))), ev(2, c2s(0, 2, header('commands')))];
  const readF = [ev(0, open(0)), ev(1, c2s(0, 0, helloF)), ev(2, c2s(0, 2, header('commands'))), ev(2.5, c2s(0, 0, authF('')))];
  const failedBefore = clientView(readF, sentF, 5);
  t.match(failedBefore.find((e) => e.type === 'conn_close'), { code: CLOSE_CODES.PROTOCOL_VIOLATION });
  t.same(rulesOf(judge(failedBefore)), [], 'refused Auth, stream read first: 0x1 conforms');
  const failedAfter = clientView(sentF, sentF, 5);
  t.match(failedAfter.find((e) => e.type === 'conn_close'), { code: CLOSE_CODES.AUTH_FAILED });
  t.same(rulesOf(judge(failedAfter)), [], 'refused Auth read first: AuthFailed and 0x2 conform');
});

t.test('a datagram sent after Auth and before AuthOk arrives may be relayed or dropped (GAROU-11.2)', async (t) => {
  // alice and bob share room 1; alice's second connection sends Typing before its AuthOk reaches it.
  const setup = [
    ev(0, open(0)), ev(1, c2s(0, 0, helloF + authF('alice'))),
    ev(2, open(1)), ev(3, c2s(1, 0, helloF + authF('bob'))),
    ev(10, c2s(0, 2, header('commands') + f('CreateRoom', { cmd_id: 1, name: 'r', room_type: 'group', members: ['bob'] }))),
    ev(100, open(2)),
  ];
  const end = [clientClose(1500, 0), clientClose(1500, 1), clientClose(1500, 2)];
  const sent = [...setup, ev(101, c2s(2, 0, helloF + authF('alice'))), ev(102, { type: 'dgram', conn: 2, dir: 'c2s', hex: typing('alice') }), ...end];
  const relayed = clientView(sent, sent, 5);
  t.ok(relayed.findIndex((e) => e.type === 'dgram' && e.dir === 'c2s') < relayed.findIndex(isAuthOk(2)), 'the datagram was sent before AuthOk arrived');
  t.ok(relayed.some((e) => e.type === 'dgram' && e.dir === 's2c' && e.conn === 1), 'read after AuthOk: relayed to bob');
  t.same(rulesOf(judge(relayed)), [], 'the relay conforms');
  // The server read the datagram before the Auth: dropped (GAROU-11.2).
  const read = [...setup, ev(101, c2s(2, 0, helloF)), ev(102, { type: 'dgram', conn: 2, dir: 'c2s', hex: typing('alice') }), ev(102.5, c2s(2, 0, authF('alice'))), ...end];
  const dropped = clientView(read, sent, 5);
  t.notOk(dropped.some((e) => e.type === 'dgram' && e.dir === 's2c'), 'read before AuthOk: not relayed');
  t.same(rulesOf(judge(dropped)), [], 'dropping it conforms (not even a SHOULD missed)');
  // A relay to someone outside the room is still wrong.
  const stray = relayed.map((e) => (e.type === 'dgram' && e.dir === 's2c' ? { ...e, hex: typing('carol') } : e));
  t.same(rulesOf(judge(stray)).slice(0, 1), ['GAROU-11.3 must'], 'the check can fail: a relay of a datagram nobody sent');
});

t.test('a client stream opened before its Auth was sent, or after AuthOk arrived, races nothing (GAROU-3.4)', async (t) => {
  // Before Auth: a violation whatever the server read.
  const sent = [ev(0, open(0)), ev(1, c2s(0, 0, helloF)), ev(2, c2s(0, 2, header('commands'))), ev(3, c2s(0, 0, authF('alice'))), clientClose(1500, 0)];
  t.same(rulesOf(judge(clientView(sent.slice(0, 4), sent.slice(0, 4), 5))), [], 'the server closes 0x1: conforms');
  const accepted = clientView([sent[0]!, sent[1]!, sent[3]!, ev(4, c2s(0, 2, header('commands'))), sent[4]!], sent, 5);
  t.ok(accepted.some(isAuthOk(0)) && !accepted.some((e) => e.type === 'conn_close' && e.by === 'server'), 'a server that read the stream after the Auth accepts it');
  t.same(rulesOf(judge(accepted)).slice(0, 1), ['GAROU-3.4 must'], 'a stream opened before Auth was sent: the close 0x1 is owed');
  // Before Hello too.
  const first = [ev(0, open(0)), ev(1, c2s(0, 2, header('commands'))), ev(2, c2s(0, 0, helloF + authF('alice'))), clientClose(1500, 0)];
  const firstAccepted = clientView([first[0]!, first[2]!, ev(3, c2s(0, 2, header('commands'))), first[3]!], first, 5);
  t.same(rulesOf(judge(firstAccepted)).slice(0, 1), ['GAROU-3.4 must'], 'a stream opened before Hello: the close 0x1 is owed');
  // After AuthOk arrived: the server read the Auth first; a close 0x1 is not owed.
  const afterOk = [ev(0, open(0)), ev(1, c2s(0, 0, helloF + authF('alice'))), ev(20, c2s(0, 2, header('commands'))), serverClose(21, 0, CLOSE_CODES.PROTOCOL_VIOLATION)];
  const v = clientView(afterOk.slice(0, 2), afterOk.slice(0, 3), 5);
  t.ok(v.findIndex(isAuthOk(0)) < v.findIndex((e) => e.type === 'data' && e.stream === 2), 'AuthOk came before the stream');
  t.same(rulesOf(judge([...v, afterOk[3]!])).slice(0, 1), ['GAROU-13.3 must'], 'a close 0x1 for a stream opened after AuthOk arrived is not owed');
});
