/**
 * Theta's model: its server mode (as a core, in virtual time, with a fixed
 * clock and randomness) does what the SPEC says, and its monitor accepts
 * those traces; traces edited to break one rule are caught under that rule.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { simulate } from '../../harness/engine/sim.js';
import { modelCore } from '../../harness/engine/server-core.js';
import { toHex, fromHex, type TraceEvent } from '../../harness/engine/trace.js';
import type { Violation } from '../../harness/engine/types.js';
import { CloseCode, encodeFrame, FrameDecoder, schemaHash, Stream } from '../../suites/theta/codec.js';
import { decodeControl, encodeControl, type ControlMessage, type SessionHelloMsg } from '../../suites/theta/messages.js';
import { ThetaModel, helloFailures, negotiateCapabilities, type ThetaServerEnv } from '../../suites/theta/model.js';
import { fastProfile, type ThetaProfile } from '../../suites/theta/profile.js';
import { feedTracking, judgeTrace } from '../_support/monitor.js';

/** The short timers with a 300 ms answer deadline: the traces below are a second long. */
const P: ThetaProfile = { ...fastProfile, answerDeadlineMs: 300 };

const ms = (x: number): number => Math.round(x * 1000);
const EPOCH = 1_700_000_000_000_000n;

function env(): ThetaServerEnv {
  let n = 0;
  let sid = 100n;
  return {
    epochUs: (tt) => EPOCH + BigInt(tt),
    randomBytes: (k) => Uint8Array.from({ length: k }, () => ++n & 0xff),
    publicKey: new Uint8Array(32).fill(0x42),
    sessionId: () => ++sid,
  };
}

const hello = (over: Partial<SessionHelloMsg> = {}): SessionHelloMsg => ({
  type: 'SessionHello', protocolVersion: P.protocolVersion, schemaHash: schemaHash(P.manifest), clientNonce: new Uint8Array(24).fill(1),
  capabilities: [3, 9, 1, 1], authToken: 'tok', publicKey: new Uint8Array(32).fill(7), ...over,
});
const open = (tt: number, conn = 0): TraceEvent => ({ type: 'conn_open', t: tt, conn, remote: 'mem' });
const send = (tt: number, stream: number, payload: Uint8Array, conn = 0): TraceEvent[] => [
  { type: 'stream_open', t: tt, conn, stream, by: 'client', dir: 'bidi' },
  { type: 'data', t: tt, conn, stream, dir: 'c2s', hex: toHex(encodeFrame(payload)) },
];
const ctl = (tt: number, m: ControlMessage, conn = 0): TraceEvent[] => send(tt, Stream.control, encodeControl(m), conn);
const hb = (tt: number, seq: number, echo: [number, bigint] = [0, 0n], conn = 0): TraceEvent[] =>
  ctl(tt, { type: 'Heartbeat', seq, sentAtUs: EPOCH + BigInt(tt), echoSeq: echo[0], echoSentAtUs: echo[1], rttUs: 0, jitterUs: 0 }, conn);
const clientClose = (tt: number, conn = 0): TraceEvent => ({ type: 'conn_close', t: tt, conn, by: 'client', isApp: true, code: 0, reason: '' });

function judge(trace: readonly TraceEvent[], end: number): Violation[] {
  return judgeTrace(new ThetaModel(P), trace, end);
}
const rules = (vs: Violation[]): string[] => [...new Set(vs.map((v) => v.rule))];
const serve = (input: TraceEvent[], end: number): TraceEvent[] => simulate(modelCore(new ThetaModel(P, 'server', env())), input, end);

/** Server control messages in a trace. */
function serverControl(trace: readonly TraceEvent[]): ControlMessage[] {
  const d = new FrameDecoder();
  const out: ControlMessage[] = [];
  for (const ev of trace) {
    if (ev.type !== 'data' || ev.dir !== 's2c' || ev.stream !== Stream.control) continue;
    for (const f of d.push(fromHex(ev.hex))) {
      const r = decodeControl(f);
      if (r.ok) out.push(r.msg);
    }
  }
  return out;
}

/** A conforming session: hello, client heartbeats, replication, a 3-frame asset, client close. */
function session(): TraceEvent[] {
  const input: TraceEvent[] = [open(0), ...ctl(ms(5), hello())];
  for (let i = 1; i <= 8; i++) input.push(...hb(ms(5 + i * P.heartbeatIntervalMs * 0.9), i));
  input.push(...send(ms(50), Stream.replication, new Uint8Array([1, 2])), { type: 'data', t: ms(51), conn: 0, stream: Stream.replication, dir: 'c2s', hex: toHex(encodeFrame(new Uint8Array([3]))) });
  input.push(...send(ms(60), Stream.assets, new Uint8Array([10, 11])), { type: 'data', t: ms(61), conn: 0, stream: Stream.assets, dir: 'c2s', hex: toHex(encodeFrame(new Uint8Array([12]))) }, { type: 'stream_fin', t: ms(62), conn: 0, stream: Stream.assets, dir: 'c2s' });
  input.push(clientClose(ms(800)));
  return serve(input, ms(900));
}

t.test('pure helpers: capability intersection, hello checks', async (t) => {
  t.same(negotiateCapabilities([3, 9, 1, 1], [1, 2, 3]), [1, 3], 'intersection, ascending, once each');
  t.same(negotiateCapabilities([], [1, 2]), []);
  t.same(helloFailures(hello(), P, schemaHash(P.manifest)), []);
  t.same(helloFailures(hello({ protocolVersion: 9, publicKey: new Uint8Array(31), clientNonce: new Uint8Array(23) }), P, schemaHash(P.manifest)), [CloseCode.VERSION_MISMATCH, CloseCode.BAD_KEY, CloseCode.BAD_NONCE]);
  t.same(helloFailures(hello({ clientNonce: new Uint8Array(5) }), { ...P, nonceRule: 'non-empty' }, schemaHash(P.manifest)), [], 'nonceRule non-empty accepts 5 bytes');
});

t.test('server mode: acknowledgement, heartbeats, echo, asset hash; the monitor accepts the trace', async (t) => {
  const trace = session();
  const msgs = serverControl(trace);
  const ack = msgs[0];
  t.equal(ack?.type, 'SessionAcknowledge');
  if (ack?.type === 'SessionAcknowledge') t.same(ack.capabilities, [1, 3], 'capabilities negotiated');
  const beats = msgs.filter((m) => m.type === 'Heartbeat');
  t.ok(beats.length >= 7, `heartbeats every ${P.heartbeatIntervalMs} ms (${beats.length})`);
  t.same(beats.map((b) => b.type === 'Heartbeat' && b.seq), beats.map((_, i) => i + 1), 'seq from 1');
  const echoes = trace.filter((e) => e.type === 'data' && e.dir === 's2c' && e.stream === Stream.replication).map((e) => (e.type === 'data' ? e.hex : ''));
  t.same(echoes.join(''), toHex(encodeFrame(new Uint8Array([1, 2]))) + toHex(encodeFrame(new Uint8Array([3]))), 'replication echoed in order');
  const digest = createHash('sha256').update(Buffer.from([10, 11, 12])).digest('hex');
  t.ok(trace.some((e) => e.type === 'data' && e.dir === 's2c' && e.stream === Stream.assets && e.hex === toHex(encodeFrame(fromHex(digest)))), 'asset answered with its SHA-256');
  t.ok(trace.some((e) => e.type === 'stream_fin' && e.dir === 's2c' && e.stream === Stream.assets), 'then FIN');
  t.same(judge(trace, ms(900)), [], 'the monitor accepts it');
});

t.test('server mode: closes with the right codes, at the right times', async (t) => {
  const closeOf = (tr: TraceEvent[]) => tr.find((e) => e.type === 'conn_close' && e.by === 'server');
  const bad = serve([open(0), ...ctl(ms(5), hello({ protocolVersion: 9 }))], ms(2000));
  t.equal((closeOf(bad) as { code: number }).code, CloseCode.VERSION_MISMATCH, 'version mismatch: 0x1');
  t.equal(serverControl(bad)[0]?.type, 'SessionError', 'a SessionError first (sessionError: optional)');
  t.same(judge(bad, ms(2000)), []);
  const silent = serve([open(0)], ms(2000));
  t.equal((closeOf(silent) as { code: number; t: number }).code, CloseCode.HANDSHAKE_TIMEOUT, 'no hello: 0x7');
  t.equal(closeOf(silent)?.t, ms(P.handshakeTimeoutMs), 'at the handshake timeout');
  t.same(judge(silent, ms(2000)), []);
  const quiet = serve([open(0), ...ctl(ms(5), hello())], ms(3000));
  t.equal((closeOf(quiet) as { code: number }).code, CloseCode.HEARTBEAT_TIMEOUT, 'no client heartbeat: 0x6');
  t.same(judge(quiet, ms(3000)), []);
  const garbage = serve([open(0), ...send(ms(5), Stream.control, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))], ms(2000));
  t.equal((closeOf(garbage) as { code: number }).code, CloseCode.PROTOCOL_VIOLATION, 'not a FlatBuffer: 0x5');
  const stray = serve([open(0), ...send(ms(5), 12, new Uint8Array([1]))], ms(2000));
  t.equal((closeOf(stray) as { code: number }).code, CloseCode.PROTOCOL_VIOLATION, 'stream 12: 0x5');
  const early = serve([open(0), ...send(ms(5), Stream.replication, new Uint8Array([1]))], ms(2000));
  t.equal((closeOf(early) as { code: number }).code, CloseCode.PROTOCOL_VIOLATION, 'replication before the hello: 0x5');
});

t.test('a violation once the heartbeat timeout is due: a close with 0x6 conforms too (the server timer may fire first); before, only 0x5', async (t) => {
  const quiet = serve([open(0), ...ctl(ms(5), hello())], ms(3000));
  const close = quiet.find((e) => e.type === 'conn_close' && e.by === 'server')!;
  t.equal((close as { code: number }).code, CloseCode.HEARTBEAT_TIMEOUT, 'the server times the silent client out');
  const ackAt = quiet.find((e) => e.type === 'data' && e.dir === 's2c')!.t;
  /** The quiet session with a client violation (bytes on stream 12, THETA-1.2) at `at`, before the server's close. */
  const withViolation = (at: number): TraceEvent[] => {
    const i = quiet.findIndex((e) => e.t > at || e === close);
    return [...quiet.slice(0, i), ...send(at, 12, new Uint8Array([1]))].concat(quiet.slice(i));
  };
  const due = ackAt + ms(P.heartbeatTimeoutMs - P.toleranceMs / 2);
  t.ok(due < close.t, 'the violation comes before the close');
  t.same(judge(withViolation(due), ms(3000)), [], 'within the timeout window: 0x6 is a conforming close');
  const vs = judge(withViolation(ackAt + ms(P.heartbeatTimeoutMs / 2)), ms(3000));
  t.same(rules(vs), ['THETA-1.2'], 'before the window: 0x5 was owed (reported under the client rule)');
  t.match(vs[0]?.expected, /PROTOCOL_VIOLATION/);
});

t.test('what the client sends after its hello and before the acknowledgement races the handshake end (THETA-3.8): either reading conforms', async (t) => {
  const isAck = (e: TraceEvent) => e.type === 'data' && e.dir === 's2c' && e.stream === Stream.control;
  /** `trace` with the client events from `from` (the ones sent just after the ack) moved before the ack, at its time. */
  const beforeAck = (trace: TraceEvent[], from: (e: TraceEvent) => boolean): TraceEvent[] => {
    const ack = trace.findIndex(isAck);
    const moved = trace.filter((e, i) => i > ack && from(e)).map((e) => ({ ...e, t: trace[ack]!.t }));
    const rest = trace.filter((e, i) => !(i > ack && from(e)));
    const at = rest.findIndex(isAck);
    return [...rest.slice(0, at), ...moved, ...rest.slice(at)];
  };
  const at6 = (e: TraceEvent) => e.t === ms(6) && e.type !== 'conn_close' && !('dir' in e && e.dir === 's2c');

  // The soak's counterexample: a heartbeat right after the hello; the server reads it after its acknowledgement, then times the client out (0x6).
  const beat = beforeAck(serve([open(0), ...ctl(ms(5), hello()), ...hb(ms(6), 1)], ms(3000)), at6);
  t.ok(beat.findIndex((e) => e.type === 'data' && e.dir === 'c2s' && e.t === ms(5) && e.stream === Stream.control && e !== beat[2]) < beat.findIndex(isAck), 'the heartbeat comes before the acknowledgement');
  t.equal((beat.find((e) => e.type === 'conn_close') as { code: number }).code, CloseCode.HEARTBEAT_TIMEOUT);
  t.same(judge(beat, ms(3000)), [], 'read after the handshake: heartbeat accepted, then a heartbeat timeout');

  // A replication frame right after the hello, echoed after the acknowledgement; then the client closes.
  const rep = beforeAck(serve([open(0), ...ctl(ms(5), hello()), ...send(ms(6), Stream.replication, new Uint8Array([9, 9])), clientClose(ms(500))], ms(600)), at6);
  t.ok(serverControl(rep)[0]?.type === 'SessionAcknowledge', 'acknowledged');
  t.same(judge(rep, ms(600)), [], 'read after the handshake: echoed');
  const noEcho = rep.filter((e) => !(e.type === 'data' && e.dir === 's2c' && e.stream === Stream.replication));
  t.same(rules(judge(noEcho, ms(600))), ['THETA-6.1'], 'the check can fail: the frame is owed its echo once the acknowledgement came');

  // The other reading: the server reads the frame (on its own stream, it may arrive first) before it ends the handshake, and closes 0x5.
  const strict: TraceEvent[] = [open(0), ...ctl(ms(5), hello()), ...send(ms(5), Stream.replication, new Uint8Array([9, 9])), { type: 'conn_close', t: ms(10), conn: 0, by: 'server', isApp: true, code: CloseCode.PROTOCOL_VIOLATION, reason: '' }];
  t.same(judge(strict, ms(3000)), [], 'read before the handshake ended: 0x5 conforms');
  const late = strict.map((e) => (e.type === 'conn_close' ? { ...e, t: ms(5) + ms(P.answerDeadlineMs) + 1 } : e));
  t.not(judge(late, ms(3000)).length, 0, 'the check can fail: a 0x5 close later than the answer deadline does not');
  t.same(rules(judge([open(0), ...send(ms(5), Stream.replication, new Uint8Array([9])), { type: 'conn_close', t: ms(6), conn: 0, by: 'server', isApp: true, code: CloseCode.PROTOCOL_VIOLATION, reason: '' }], ms(3000))), [], 'before any hello: a violation (0x5 owed and sent)');
});

/** Replaces the server's control frames in `trace` through `edit` (one frame per event, as the core writes them). */
function editServer(trace: TraceEvent[], edit: (m: ControlMessage, i: number) => ControlMessage): TraceEvent[] {
  let i = 0;
  return trace.map((e) => {
    if (e.type !== 'data' || e.dir !== 's2c' || e.stream !== Stream.control) return e;
    const r = decodeControl(fromHex(e.hex).subarray(4));
    if (!r.ok) return e;
    return { ...e, hex: toHex(encodeFrame(encodeControl(edit(r.msg, i++)))) };
  });
}

t.test('the monitor catches each deviation under its rule', async (t) => {
  const base = session();
  const ack = (f: (m: Extract<ControlMessage, { type: 'SessionAcknowledge' }>) => ControlMessage) => editServer(base, (m) => (m.type === 'SessionAcknowledge' ? f(m) : m));
  t.same(rules(judge(ack((m) => ({ ...m, capabilities: [3, 1] })), ms(900))), ['THETA-4.5'], 'unsorted capabilities');
  t.same(rules(judge(ack((m) => ({ ...m, capabilities: [1, 2, 3] })), ms(900))), ['THETA-4.5'], 'the union');
  t.same(rules(judge(ack((m) => ({ ...m, schemaHash: m.schemaHash ^ 1n })), ms(900))), ['THETA-4.1'], 'hash not echoed');
  t.same(rules(judge(ack((m) => ({ ...m, serverNonce: new Uint8Array(23) })), ms(900))), ['THETA-4.2'], '23-byte nonce');
  t.same(rules(judge(ack((m) => ({ ...m, publicKey: new Uint8Array(31) })), ms(900))), ['THETA-4.6'], '31-byte key');
  const beat = (f: (m: Extract<ControlMessage, { type: 'Heartbeat' }>, i: number) => ControlMessage) => editServer(base, (m, i) => (m.type === 'Heartbeat' ? f(m, i) : m));
  t.same(rules(judge(beat((m, i) => (i === 3 ? { ...m, seq: m.seq + 1 } : m)), ms(900))), ['THETA-5.2'], 'a seq skipped');
  t.same(rules(judge(beat((m, i) => (i === 4 ? { ...m, echoSeq: 0, echoSentAtUs: 0n } : m)), ms(900))), ['THETA-5.3'], 'echo of an older heartbeat');
  const noBeats = base.filter((e) => !(e.type === 'data' && e.dir === 's2c' && e.stream === Stream.control && serverControl([e])[0]?.type === 'Heartbeat'));
  t.same(rules(judge(noBeats, ms(900))), ['THETA-5.1'], 'no heartbeats');
  const wrongEcho = base.map((e) => (e.type === 'data' && e.dir === 's2c' && e.stream === Stream.replication ? { ...e, hex: toHex(encodeFrame(new Uint8Array([9]))) } : e));
  t.same(rules(judge(wrongEcho, ms(900))), ['THETA-6.1'], 'wrong echo');
  const wrongHash = base.map((e) => (e.type === 'data' && e.dir === 's2c' && e.stream === Stream.assets ? { ...e, hex: toHex(encodeFrame(new Uint8Array(32))) } : e));
  t.same(rules(judge(wrongHash, ms(900))), ['THETA-7.1'], 'wrong asset hash');
  const rejected = serve([open(0), ...ctl(ms(5), hello({ protocolVersion: 9 }))], ms(2000)).map((e) => (e.type === 'conn_close' && e.by === 'server' ? { ...e, code: CloseCode.SCHEMA_MISMATCH } : e));
  t.same(rules(judge(rejected, ms(2000))), ['THETA-3.2', 'THETA-3.9'], 'a code the hello did not earn: named by the rule it broke (and not the SessionError code)');
  const twoSessions = [...serve([open(0), ...ctl(ms(5), hello()), clientClose(ms(50))], ms(60)), ...serve([open(0, 1), ...ctl(ms(5), hello(), 1), clientClose(ms(50), 1)], ms(60)).map((e) => ({ ...e, t: e.t + ms(100) }))];
  t.same(rules(judge(twoSessions, ms(300))), ['THETA-4.2'], 'the same server nonce for two sessions');
});

t.test('future-dated echo: the server clamps RTT to 0 (seed "heartbeat_metrics_clamp_future_timestamps")', async (t) => {
  const input: TraceEvent[] = [open(0), ...ctl(ms(5), hello()), ...hb(ms(150), 1, [1, EPOCH + 10_000_000_000n]), clientClose(ms(400))];
  const trace = serve(input, ms(500));
  const after = serverControl(trace).filter((m) => m.type === 'Heartbeat').slice(1);
  t.ok(after.length > 0 && after.every((m) => m.type === 'Heartbeat' && m.rttUs === 0), 'rtt_us 0 after the future echo');
  t.same(judge(trace, ms(500)), []);
  const notClamped = editServer(trace, (m, i) => (m.type === 'Heartbeat' && i >= 2 ? { ...m, rttUs: 1234 } : m));
  t.same(rules(judge(notClamped, ms(500))), ['THETA-5.5'], 'an unclamped RTT is caught');
});

t.test('the model forgets a session once its conn_close is fed: state stays bounded over many connections (issue 13 soak)', async (t) => {
  // 60 connections, one after another: even ones say hello and are closed by the client; odd ones send a bad hello and are closed by the server.
  const input: TraceEvent[] = [];
  for (let i = 0; i < 60; i++) {
    const at = ms(i * 20);
    input.push(open(at, i), ...ctl(at + ms(1), hello(i % 2 === 1 ? { protocolVersion: 9 } : {}), i));
    if (i % 2 === 0) input.push(clientClose(at + ms(10), i));
  }
  const server = new ThetaModel(P, 'server', env());
  const trace = simulate(modelCore(server), input, ms(60 * 20 + 500));
  t.equal(trace.filter((e) => e.type === 'conn_close' && e.by === 'server').length, 30, 'the server closed the 30 bad hellos');
  t.equal(server.trackedConnections(), 0, 'server mode: no session kept after 60 closed connections');
  const { most, end } = feedTracking(new ThetaModel(P), trace);
  t.equal(end, 0, 'monitor mode: none either');
  t.ok(most >= 1 && most <= 2, `monitor mode: at most the connections in flight at once (${most})`);
});
