/**
 * Theta's timed obligations (suites/theta/model.ts, `thetaObligations`):
 * for every record and every trigger, the reference core acts at the
 * nominal time, and its act moved inside / outside the record's window
 * passes / fails the monitor under the record's rule (test/engine/_obligations.ts).
 */
import t from 'tap';
import { toHex, type TraceEvent } from '../../harness/engine/trace.js';
import { ThetaServerCore } from '../../reference-server/theta/core.js';
import { encodeFrame, FRAME_HEADER, schemaHash, Stream } from '../../suites/theta/codec.js';
import { encodeControl, type ControlMessage, type SessionHelloMsg } from '../../suites/theta/messages.js';
import { thetaObligations, ThetaModel, VIOLATION_RULES, type ThetaTrigger } from '../../suites/theta/model.js';
import { fastProfile, type ThetaProfile } from '../../suites/theta/profile.js';
import { checkRecords, probes, type Scenario } from '../engine/_obligations.js';
import { predict } from '../../harness/engine/sim.js';

const us = (ms: number): number => ms * 1000;
const EPOCH = 1_700_000_000_000_000n;
const open = (): TraceEvent => ({ type: 'conn_open', t: 0, conn: 0, remote: 'mem' });
const data = (ms: number, stream: number, bytes: Uint8Array): TraceEvent => ({ type: 'data', t: us(ms), conn: 0, stream, dir: 'c2s', hex: toHex(bytes) });
const fin = (ms: number, stream: number): TraceEvent => ({ type: 'stream_fin', t: us(ms), conn: 0, stream, dir: 'c2s' });
const ctl = (ms: number, m: ControlMessage): TraceEvent => data(ms, Stream.control, encodeFrame(encodeControl(m)));
const hello = (p: ThetaProfile, over: Partial<SessionHelloMsg> = {}): SessionHelloMsg => ({
  type: 'SessionHello', protocolVersion: p.protocolVersion, schemaHash: schemaHash(p.manifest), clientNonce: new Uint8Array(24).fill(1),
  capabilities: [1, 2], authToken: '', publicKey: new Uint8Array(32).fill(2), ...over,
});
const beat = (ms: number, seq: number): TraceEvent => ctl(ms, { type: 'Heartbeat', seq, sentAtUs: EPOCH + BigInt(us(ms)), echoSeq: 0, echoSentAtUs: 0n, rttUs: 0, jitterUs: 0 });
const closeOn = (events: TraceEvent[], sinceMs: number): Scenario => ({ events, since: us(sinceMs), conn: 0, act: 'close' });
/** Client events of an accepted session up to 1 ms (the acknowledgement is due at 1 ms). */
const session = (p: ThetaProfile): TraceEvent[] => [open(), ctl(1, hello(p))];

/** Client events that arm each trigger (connection 0 opens at 0 ms). */
function scenario(trigger: string, p: ThetaProfile): Scenario | undefined {
  switch (trigger as ThetaTrigger) {
    case 'quic-handshake':
      return closeOn([open()], 0);
    case 'hello-accepted':
      return { events: session(p), since: us(1), conn: 0, stream: Stream.control, act: 'data' };
    case 'hello-rejected':
      // Two failures: the close owed is THETA-3.6's (any of the codes; the core closes with the first, 0x1).
      return closeOn([open(), ctl(1, hello(p, { protocolVersion: p.protocolVersion + 1, publicKey: new Uint8Array(31) }))], 1);
    case 'ack':
      // THETA-5.1 (the first heartbeat) and 5.6 (no client heartbeat) run from the acknowledgement, sent at 1 ms.
      return { events: session(p), since: us(1), conn: 0, stream: Stream.control, act: 'data' };
    case 'server-heartbeat':
      return undefined; // covered by 'ack': the record's window is the same from each heartbeat (test/theta/model.test.ts checks the rate)
    case 'client-heartbeat':
      return closeOn([...session(p), beat(50, 1)], 50);
    case 'replication-frame':
      return { events: [...session(p), data(20, Stream.replication, encodeFrame(new Uint8Array([1, 2, 3])))], since: us(20), conn: 0, stream: Stream.replication, act: 'data' };
    case 'asset-fin':
      return { events: [...session(p), data(20, Stream.assets, encodeFrame(new Uint8Array([9]))), fin(21, Stream.assets)], since: us(21), conn: 0, stream: Stream.assets, act: 'data' };
    case 'control-fin':
      return closeOn([...session(p), fin(20, Stream.control)], 20);
    default:
      return violation(trigger, p);
  }
}

/** Client events that break each violation rule. */
function violation(trigger: string, p: ThetaProfile): Scenario | undefined {
  const big = new Uint8Array(FRAME_HEADER);
  new DataView(big.buffer).setUint32(0, p.maxFrameBytes + 1, false);
  const events: Record<string, TraceEvent[]> = {
    'violation:THETA-1.2': [open(), data(1, 12, encodeFrame(new Uint8Array([1])))],
    'violation:THETA-2.2': [open(), data(1, Stream.control, big)],
    'violation:THETA-2.3': [open(), data(1, Stream.control, encodeFrame(new Uint8Array(12)))],
    'violation:THETA-2.4': [open(), data(1, Stream.control, new Uint8Array([0, 0, 0, 9, 1])), fin(1, Stream.control)],
    'violation:THETA-3.8': [open(), data(1, Stream.replication, encodeFrame(new Uint8Array([1])))],
    'violation:THETA-3.10': [...session(p).slice(0, 1), ctl(1, hello(p)), ctl(1, hello(p))],
    'violation:THETA-4.5': [open(), ctl(1, hello(p, { capabilities: [1, 1] }))],
    'violation:THETA-5.7': [...session(p), ctl(1, { type: 'SessionError', code: 1, reason: '' })],
    'violation:THETA-7.2': [...session(p), fin(1, Stream.assets)],
  };
  const ev = events[trigger];
  return ev === undefined ? undefined : closeOn(ev, 1);
}

/** The monitor over a trace, with time moved to `endUs`. */
function check(p: ThetaProfile, trace: readonly TraceEvent[], endUs: number) {
  const m = new ThetaModel(p);
  const out = trace.flatMap((ev, i) => m.feed(ev, i));
  return [...out, ...m.advance(endUs)];
}

/** The readings under which every violation rule is one (the short timers otherwise). */
const strict: ThetaProfile = { ...fastProfile, duplicateCapabilities: 'violation', emptyAsset: 'violation' };
const EPOCH_ENV = () => {
  let id = 0n;
  return { epochUs: (x: number) => EPOCH + BigInt(x), randomBytes: (n: number) => new Uint8Array(n).fill(3), publicKey: new Uint8Array(32).fill(4), sessionId: () => ++id };
};
const core = (p: ThetaProfile) => new ThetaServerCore(p, undefined, EPOCH_ENV());

t.test('every obligation record: the core acts at the nominal time; the monitor accepts the window and names the rule outside it', async (t) => {
  const checked = checkRecords(t, {
    profiles: [strict],
    table: thetaObligations,
    core,
    check,
    scenario,
    unobservable: {
      ack: 'its acts (the first heartbeat, a timeout close) share the control stream with the acknowledgement itself: THETA-5.1 below, THETA-5.6 by client-heartbeat',
      'server-heartbeat': 'a heartbeat arms the next one on the same stream: THETA-5.1 below',
    },
  });
  const all = new Set(thetaObligations(strict).records.map((r) => r.rule));
  all.delete('THETA-5.1');
  t.same([...checked].sort(), [...all].sort(), 'every record is checked (THETA-5.1 below)');
  t.ok(VIOLATION_RULES.every((r) => checked.has(r)), 'every client violation close');
});

t.test('THETA-5.1: the core heartbeats at the nominal times; a heartbeat moved inside / outside the window passes / fails', async (t) => {
  const p = strict;
  const r = thetaObligations(p).byRule('THETA-5.1');
  const input = [...session(p), ...Array.from({ length: 8 }, (_, i) => beat(50 + i * 100, i + 1))];
  const out = predict(core(p), input, us(900)).map((o) => o.ev);
  const beats = out.filter((e) => e.type === 'data' && e.dir === 's2c' && e.stream === Stream.control).slice(1); // after the acknowledgement
  t.same(beats.slice(0, 5).map((e) => e.t), [1, 2, 3, 4, 5].map((i) => us(1 + i * r.nominalMs)), 'one every interval from the acknowledgement');
  // Move the third heartbeat: its trigger is the second.
  const third = beats[2]!;
  t.ok(third !== undefined, 'a third heartbeat');
  const since = beats[1]!.t;
  for (const pr of probes(r)) {
    const when = since + us(pr.offsetMs);
    // The server's later heartbeats follow from the moved one: left out.
    const later = (e: TraceEvent) => e.type === 'data' && e.dir === 's2c' && e.stream === Stream.control && e.t > since;
    const trace = [...input, ...out].filter((e) => !later(e) && e.t <= when).sort((a, b) => a.t - b.t);
    trace.push({ ...third, t: when });
    const vs = check(p, trace, when);
    if (pr.expect === undefined) t.same(vs.map((v) => `${v.rule}: ${v.expected} / ${v.seen}`), [], `${pr.label}: accepted`);
    else {
      // A heartbeat past the MUST band was first late for the SHOULD band: the monitor says both, in time order.
      const worst = vs.find((v) => v.severity === 'must') ?? vs[0];
      t.same([worst?.rule, worst?.severity], ['THETA-5.1', pr.expect], `${pr.label} (${pr.offsetMs} ms)`);
    }
  }
});
