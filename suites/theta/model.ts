/**
 * The Theta model: the one place where Theta's rules live (SPEC.md). A pure
 * state machine over trace events as one server sees them, across its
 * connections (sessions), used two ways:
 *  - as a **monitor** (`mode: 'monitor'`): fed a whole trace, it reports the
 *    first server behaviour the SPEC does not allow, or an owed reaction
 *    that did not come in time;
 *  - as the **reference server's core** (`mode: 'server'`): fed client
 *    events, it says what a conforming server does and when ({@link due}),
 *    and is fed back the server's own actions.
 *
 * Timed obligations are records (harness/engine/obligations.ts): both modes
 * derive from them. Time is passed in (`t`, µs on the trace clock); the
 * wall clock the protocol puts on the wire (`sent_at_us`, µs since the Unix
 * epoch) and the server's randomness (nonces, session ids) are given by the
 * caller in server mode ({@link ThetaServerEnv}). No I/O.
 */
import { createHash, type Hash } from 'node:crypto';
import type { TraceEvent } from '../../harness/engine/trace.js';
import { fromHex } from '../../harness/engine/trace.js';
import type { Severity, Violation } from '../../harness/engine/types.js';
import type { ServerAction } from '../../harness/engine/server-core.js';
import {
  arm,
  defineObligations,
  dueBy,
  judge,
  earliest,
  nextDeadlineOf,
  nextDueOf,
  overdueAt,
  windowOf,
  type Armed,
  type ObligationTable,
} from '../../harness/engine/obligations.js';
import { CloseCode, closeCodeName, encodeFrame, FrameDecoder, OversizedFrameError, schemaHash, Stream, streamRole, type StreamRole } from './codec.js';
import { decodeControl, encodeControl, type ControlMessage, type HeartbeatMsg, type SessionHelloMsg } from './messages.js';
import type { ThetaProfile } from './profile.js';

/** What arms a Theta obligation, in model terms. */
export type ThetaTrigger =
  | 'quic-handshake'
  | 'hello-accepted'
  | 'hello-rejected'
  | 'ack'
  | 'server-heartbeat'
  | 'client-heartbeat'
  | 'replication-frame'
  | 'asset-fin'
  | 'control-fin'
  | `violation:${ViolationRule}`;

/**
 * The client rules whose violation makes the server owe close 0x5 at once
 * (THETA-8.3); each has its own obligation record, named by the rule, armed by `violation:<rule>`.
 */
export const VIOLATION_RULES = ['THETA-1.2', 'THETA-2.2', 'THETA-2.3', 'THETA-2.4', 'THETA-3.8', 'THETA-3.10', 'THETA-4.5', 'THETA-5.7', 'THETA-7.2'] as const;
/** A client violation rule ({@link VIOLATION_RULES}). */
export type ViolationRule = (typeof VIOLATION_RULES)[number];

/**
 * Theta's timed obligations, one record per rule, from the profile.
 * @throws Error when the profile makes a record inconsistent.
 */
export function thetaObligations(p: ThetaProfile): ObligationTable<ThetaTrigger> {
  const tol = p.toleranceMs;
  const within = (ms: number) => ({ earliestMs: 0, latestMs: ms });
  const around = (ms: number) => ({ earliestMs: Math.max(0, ms - tol), latestMs: ms + tol });
  const answer = (rule: string, trigger: ThetaTrigger, what: string, summary: string) => ({
    rule, triggers: [trigger], nominalMs: 0, should: within(p.answerDeadlineMs), must: within(p.answerDeadlineMs), severity: 'must' as const, owed: { kind: 'answer' as const, what }, summary,
  });
  const closeNow = (rule: string, trigger: ThetaTrigger, code: number, summary: string) => ({
    rule, triggers: [trigger], nominalMs: 0, should: within(p.answerDeadlineMs), must: within(p.answerDeadlineMs), severity: 'must' as const, owed: { kind: 'close' as const, code }, summary,
  });
  return defineObligations<ThetaTrigger>([
    answer('THETA-3.1', 'hello-accepted', 'SessionAcknowledge', 'acknowledge a valid SessionHello'),
    closeNow('THETA-3.6', 'hello-rejected', CloseCode.VERSION_MISMATCH, 'close with the code of a rule the SessionHello breaks'),
    { rule: 'THETA-3.7', triggers: ['quic-handshake'], nominalMs: p.handshakeTimeoutMs, should: around(p.handshakeTimeoutMs), must: { earliestMs: Math.max(0, p.handshakeTimeoutMs - tol), latestMs: p.handshakeTimeoutMs + p.answerDeadlineMs }, severity: 'must', owed: { kind: 'close', code: CloseCode.HANDSHAKE_TIMEOUT }, summary: `close 0x7 when no SessionHello comes within ${p.handshakeTimeoutMs} ms` },
    { rule: 'THETA-5.1', triggers: ['ack', 'server-heartbeat'], nominalMs: p.heartbeatIntervalMs, should: { earliestMs: Math.max(0, p.heartbeatIntervalMs - tol), latestMs: p.heartbeatIntervalMs + tol }, must: { earliestMs: 0, latestMs: Math.max(2 * p.heartbeatIntervalMs, p.heartbeatIntervalMs + p.answerDeadlineMs) }, severity: 'must', owed: { kind: 'action', what: 'a Heartbeat' }, summary: `a heartbeat every ${p.heartbeatIntervalMs} ms` },
    { rule: 'THETA-5.6', triggers: ['ack', 'client-heartbeat'], nominalMs: p.heartbeatTimeoutMs, should: around(p.heartbeatTimeoutMs), must: { earliestMs: Math.max(0, p.heartbeatTimeoutMs - tol), latestMs: p.heartbeatTimeoutMs + p.answerDeadlineMs }, severity: 'must', owed: { kind: 'close', code: CloseCode.HEARTBEAT_TIMEOUT }, summary: `close 0x6 when no client heartbeat comes for ${p.heartbeatTimeoutMs} ms` },
    answer('THETA-6.1', 'replication-frame', 'the same frame echoed', 'echo each replication frame in order'),
    answer('THETA-7.1', 'asset-fin', 'one frame with the SHA-256 of the asset, then FIN', 'hash the asset'),
    closeNow('THETA-8.2', 'control-fin', CloseCode.NO_ERROR, 'close 0x0 when the client ends the control stream'),
    ...VIOLATION_RULES.map((rule) => closeNow(rule, `violation:${rule}`, CloseCode.PROTOCOL_VIOLATION, `close 0x5 on a violation of ${rule} (THETA-8.3)`)),
  ]);
}

/** What an armed obligation is about. */
interface Subject {
  /** Acceptable close codes (THETA-3.6: any rule the hello breaks). */
  readonly codes?: readonly number[];
  /** Why (a client violation's rule and words), for reports and the close reason. */
  readonly why?: string;
  /** The rule of a rejected SessionHello (THETA-3.2–3.5; 3.6 when it breaks several): a missing close is reported under it. */
  readonly rule?: string;
  /** The replication payload owed (hex). */
  readonly echo?: string;
  /** The asset digest owed (hex). */
  readonly digest?: string;
}
type ThetaArmed = Armed<ThetaTrigger, Subject>;

/** Per-stream state: frame decoders both ways, FINs. */
interface StreamState {
  readonly id: number;
  readonly role: StreamRole;
  readonly rx: FrameDecoder;
  readonly tx: FrameDecoder;
  clientFin: boolean;
  serverFin: boolean;
}

/** Per-session (connection) state. */
interface Session {
  readonly id: number;
  phase: 'hello' | 'established' | 'failed' | 'closed';
  readonly streams: Map<number, StreamState>;
  armed: ThetaArmed[];
  hello: SessionHelloMsg | undefined;
  /** SessionError code the server sent, if any (THETA-3.9). */
  sessionErrorCode: number | undefined;
  /** Last server heartbeat seq (0 before the first) and sent time (µs epoch). */
  serverSeq: number;
  serverSentAt: bigint;
  /** Latest client heartbeat received (echo values owed); 0/0n before the first. */
  clientSeq: number;
  clientSentAt: bigint;
  /**
   * Client heartbeats sent (monitor: the client's view), oldest first: those
   * inside the echo window, and the latest one before it (THETA-5.3).
   */
  clientBeats: { readonly seq: number; readonly sentAt: bigint; readonly t: number }[];
  /** Echo seq of the server's latest heartbeat (never goes backwards, THETA-5.3). */
  lastEchoSeq: number;
  /** When the acknowledgement came (µs), once it did. */
  ackAt: number | undefined;
  /** THETA-5.5: seq of a client heartbeat whose echo is dated in the server's future: the server heartbeat echoing it must say RTT 0. */
  futureEchoSeq: number | undefined;
  /** Replication frames owed back, in order (hex). */
  readonly echoes: ThetaArmed[];
  /** Assets: running hash and frame count. */
  asset: Hash;
  assetFrames: number;
  assetBytes: number;
  /** Server mode: last RTT computed (µs), for jitter. */
  rttUs: number;
  jitterUs: number;
  /**
   * Monitor: what the client sent after its accepted SessionHello and before
   * the acknowledgement came, in order (THETA-3.8's race): judged as sent
   * after the handshake once the acknowledgement comes.
   */
  readonly preAck: PreAck[];
  /** Monitor: the THETA-3.8 close the first of {@link preAck} allows, in its band (not owed: the acknowledgement may come instead). */
  raced: ThetaArmed | undefined;
}

/** A client frame or FIN sent between its accepted SessionHello and the acknowledgement (monitor). */
type PreAck = { readonly st: StreamState; readonly frame: Uint8Array } | { readonly stream: number; readonly fin: true };

const US = 1000;

/**
 * What server mode needs from its host: the wall clock the protocol puts on
 * the wire, and randomness. Deterministic in tests.
 */
export interface ThetaServerEnv {
  /** µs since the Unix epoch at trace time `t` (µs). */
  epochUs(t: number): bigint;
  /** `n` random bytes (nonces). */
  randomBytes(n: number): Uint8Array;
  /** The server's Ed25519 public key (32 raw bytes). */
  readonly publicKey: Uint8Array;
  /** A fresh session id. */
  sessionId(): bigint;
}

/** Every coverage label the model reports ({@link ThetaModel.coverage}). */
export const COVERAGE_LABELS: readonly string[] = [
  'state:awaiting-hello', 'state:established',
  'transition:hello-accepted', 'transition:hello-rejected', 'transition:ack', 'transition:client-heartbeat', 'transition:server-heartbeat',
  'transition:future-echo', 'transition:replication', 'transition:asset-frame', 'transition:asset-answer', 'transition:session-error',
  'transition:close-by-client', 'transition:close-by-server',
  ...['THETA-3.6', 'THETA-3.7', 'THETA-5.6', 'THETA-8.2', 'THETA-8.3'].map((r) => `transition:close-owed-${r}`),
];

/** The capability ids a server answers: the request's ids it supports, ascending, once each (THETA-4.5). */
export function negotiateCapabilities(requested: readonly number[], server: readonly number[]): number[] {
  const s = new Set(server);
  return [...new Set(requested.filter((c) => s.has(c)))].sort((a, b) => a - b);
}

/** Bytes of an Ed25519 public key (THETA-3.4, 4.6; PROTOCOLS.md). */
export const KEY_BYTES = 32;
/** Bytes of a nonce (PROTOCOLS.md "Nonces are 24 random bytes"). */
export const NONCE_BYTES = 24;

/** Whether a nonce (client's or server's) is acceptable under the profile's `nonceRule` (THETA-3.5, 4.2). */
export function nonceOk(p: ThetaProfile, nonce: Uint8Array): boolean {
  return p.nonceRule === 'exactly-24' ? nonce.length === NONCE_BYTES : nonce.length > 0;
}

/**
 * The close codes a SessionHello calls for (THETA-3.2–3.5), in the
 * reference server's order of checks; empty when it is valid.
 */
export function helloFailures(h: SessionHelloMsg, p: ThetaProfile, expectedHash: bigint): number[] {
  const codes: number[] = [];
  if (h.protocolVersion !== p.protocolVersion) codes.push(CloseCode.VERSION_MISMATCH);
  if (h.schemaHash !== expectedHash) codes.push(CloseCode.SCHEMA_MISMATCH);
  if (h.publicKey.length !== KEY_BYTES) codes.push(CloseCode.BAD_KEY);
  if (!nonceOk(p, h.clientNonce)) codes.push(CloseCode.BAD_NONCE);
  return codes;
}

/** THETA-7.1: the slowest link the MUST deadline of an asset answer allows for the asset's bytes (bytes/s). */
export const ASSET_FLOOR_BYTES_PER_S = 64 * 1024;

/** Client heartbeats a monitor keeps per session for THETA-5.3 while the server echoes none of them. */
const MAX_BEATS_KEPT = 1024;

/** The rule of each SessionHello check by its close code (THETA-3.2–3.5). */
const HELLO_RULES: Readonly<Record<number, string>> = {
  [CloseCode.VERSION_MISMATCH]: 'THETA-3.2',
  [CloseCode.SCHEMA_MISMATCH]: 'THETA-3.3',
  [CloseCode.BAD_KEY]: 'THETA-3.4',
  [CloseCode.BAD_NONCE]: 'THETA-3.5',
};

/** The session broke a rule or closed: nothing more is read from it (a function, as the phase changes while frames are read). */
const ended = (s: Session): boolean => s.phase === 'failed' || s.phase === 'closed';

const hexOf = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/**
 * The Theta state machine. See the module docstring for the two modes.
 * Methods return violations; they never throw on any trace.
 */
export class ThetaModel {
  private readonly sessions = new Map<number, Session>();
  private readonly table: ObligationTable<ThetaTrigger>;
  private readonly expectedHash: bigint;
  private readonly labels = new Set<string>();
  /** Server nonces and session ids seen (THETA-4.2, 4.3). */
  private readonly nonces = new Set<string>();
  private readonly liveSessionIds = new Map<bigint, number>();
  private now = 0;
  private lastDecoded: Record<string, unknown>[] | undefined;

  /**
   * @param env server mode's clock and randomness (required in server mode).
   * @throws Error when the profile makes an obligation record inconsistent.
   */
  constructor(
    readonly profile: ThetaProfile,
    readonly mode: 'monitor' | 'server' = 'monitor',
    private readonly env?: ThetaServerEnv,
  ) {
    this.table = thetaObligations(profile);
    this.expectedHash = schemaHash(profile.manifest);
    if (mode === 'server' && env === undefined) throw new Error('ThetaModel: server mode needs a ThetaServerEnv');
  }

  // ---- helpers ---------------------------------------------------------

  /** Arms the records of `trigger` at `t`; `extraMustMs` widens their MUST bands (an asset still in flight, THETA-7.1). */
  private arm(s: Session, trigger: ThetaTrigger, t: number, subject: Subject = {}, extraMustMs = 0): ThetaArmed[] {
    const out: ThetaArmed[] = [];
    for (const rec of this.table.byTrigger(trigger)) {
      const r = extraMustMs > 0 ? { ...rec, must: { ...rec.must, latestMs: rec.must.latestMs + extraMustMs } } : rec;
      const a = arm(r, trigger, t, subject);
      s.armed.push(a);
      out.push(a);
    }
    return out;
  }

  private disarm(s: Session, pred: (a: ThetaArmed) => boolean): void {
    s.armed = s.armed.filter((a) => !pred(a));
  }

  private v(rule: string, index: number, t: number, expected: string, seen: string, severity: Severity = 'must', missing = false): Violation {
    return { rule, severity, index, t, expected, seen, state: this.describe(), missing };
  }

  /**
   * The client broke `rule`: the server owes close 0x5 at once (THETA-8.3).
   * Nothing else is owed any more, except a close whose window had already
   * opened (a heartbeat or handshake timeout, THETA-5.6, 3.7): the server's
   * timer may have fired before it read the violating bytes, so a close
   * with that code conforms too.
   */
  private clientViolation(s: Session, t: number, rule: ViolationRule, why: string): void {
    if (s.armed.some((a) => a.trigger.startsWith('violation:'))) return;
    s.armed = s.armed.filter((a) => a.record.owed.kind === 'close' && t >= windowOf(a, 'must').lo);
    s.echoes.length = 0;
    s.phase = 'failed';
    this.arm(s, `violation:${rule}`, t, { codes: [CloseCode.PROTOCOL_VIOLATION], why: `${rule}: ${why}` });
    this.labels.add('transition:close-owed-THETA-8.3');
  }

  private stream(s: Session, id: number): StreamState | undefined {
    let st = s.streams.get(id);
    if (st === undefined) {
      const role = streamRole(id);
      if (role === undefined) return undefined;
      st = { id, role, rx: new FrameDecoder(this.profile.maxFrameBytes), tx: new FrameDecoder(this.profile.maxFrameBytes), clientFin: false, serverFin: false };
      s.streams.set(id, st);
    }
    return st;
  }

  // ---- input -------------------------------------------------------------

  /** Feeds one event (server mode: client events and the server's own actions fed back). */
  input(ev: TraceEvent, index: number): Violation[] {
    return this.feed(ev, index);
  }

  /** Feeds one trace event; returns the violations it reveals (monitor mode). */
  feed(ev: TraceEvent, index: number): Violation[] {
    const out = this.advance(ev.t);
    this.now = Math.max(this.now, ev.t);
    this.lastDecoded = undefined;
    if (ev.type === 'note' || ev.type === 'impair' || ev.type === 'conn_fail') return out;
    if (ev.type === 'conn_open') {
      const s: Session = {
        id: ev.conn, phase: 'hello', streams: new Map(), armed: [], hello: undefined, sessionErrorCode: undefined,
        serverSeq: 0, serverSentAt: 0n, clientSeq: 0, clientSentAt: 0n, clientBeats: [], lastEchoSeq: 0, ackAt: undefined, futureEchoSeq: undefined, echoes: [],
        asset: createHash('sha256'), assetFrames: 0, assetBytes: 0, rttUs: 0, jitterUs: 0, preAck: [], raced: undefined,
      };
      this.sessions.set(ev.conn, s);
      this.arm(s, 'quic-handshake', ev.t);
      this.labels.add('state:awaiting-hello');
      return out;
    }
    const s = this.sessions.get(ev.conn);
    if (s === undefined || s.phase === 'closed') return out;
    switch (ev.type) {
      case 'stream_open':
        if (ev.by === 'server') out.push(this.v('THETA-1.3', index, ev.t, 'no server-opened stream', `server opened stream ${ev.stream}`));
        else if (ev.dir === 'uni' || streamRole(ev.stream) === undefined) this.clientViolation(s, ev.t, 'THETA-1.2', `client ${ev.dir ?? 'bidi'} stream ${ev.stream}`);
        return out;
      case 'data':
        return ev.dir === 'c2s' ? (this.clientData(s, ev.stream, fromHex(ev.hex), ev.t), out) : [...out, ...this.serverData(s, ev.stream, fromHex(ev.hex), ev.t, index)];
      case 'stream_fin':
        return ev.dir === 'c2s' ? (this.clientFin(s, ev.stream, ev.t), out) : [...out, ...this.serverFin(s, ev.stream, ev.t, index)];
      case 'stream_reset':
        return out;
      case 'dgram':
        if (ev.dir === 's2c') out.push(this.v('THETA-1.3', index, ev.t, 'no datagrams (Theta uses streams only)', `a datagram of ${ev.hex.length / 2} bytes`));
        return out;
      case 'conn_close':
        out.push(...this.closed(s, ev.by, ev.code, ev.t, index));
        // Nothing more is judged or done on a closed session: forget it, so that state stays bounded over many
        // connections (a soak grew 4.5 MB per 1,000 cases: decoders and asset hashes of closed sessions).
        this.sessions.delete(s.id);
        return out;
    }
  }

  private clientData(s: Session, id: number, bytes: Uint8Array, t: number): void {
    const st = this.stream(s, id);
    if (st === undefined) return this.clientViolation(s, t, 'THETA-1.2', `data on stream ${id}`);
    if (s.phase === 'failed') return;
    let frames: Uint8Array[];
    try {
      frames = st.rx.push(bytes);
    } catch (err) {
      if (err instanceof OversizedFrameError) return this.clientViolation(s, t, 'THETA-2.2', err.message);
      throw err;
    }
    for (const f of frames) {
      if (ended(s)) return; // an earlier frame of this write broke a rule
      if (this.racing(s)) this.defer(s, { st, frame: f }, t);
      else if (st.role === 'control') this.clientControl(s, f, t);
      else if (s.phase === 'hello') return this.clientViolation(s, t, 'THETA-3.8', `${st.role} frame before the handshake`);
      else this.clientFrame(s, st, f, t);
    }
  }

  /** A replication or assets frame after the handshake. */
  private clientFrame(s: Session, st: StreamState, f: Uint8Array, t: number): void {
    if (st.role === 'replication') {
      const [a] = this.arm(s, 'replication-frame', t, { echo: hexOf(f) });
      if (a) s.echoes.push(a);
      this.labels.add('transition:replication');
    } else {
      s.asset.update(f);
      s.assetFrames++;
      s.assetBytes += f.length;
      this.labels.add('transition:asset-frame');
    }
  }

  /**
   * Monitor: the client's SessionHello was accepted and the acknowledgement
   * has not come yet. What the client sends now races the handshake's end
   * (THETA-3.8): on the control stream the server reads it after the hello,
   * and on another stream before or after it, so a server may read it as
   * sent before the handshake ended (close 0x5) or after it (answered as
   * usual). The server mode does not wait: it acknowledges at once, and
   * reads what comes before its acknowledgement as sent before the end.
   */
  private racing(s: Session): boolean {
    return this.mode === 'monitor' && s.phase === 'hello' && s.hello !== undefined;
  }

  /** Keeps a racing frame or FIN until the acknowledgement comes (then judged as sent after it) or a close 0x5. */
  private defer(s: Session, p: PreAck, t: number): void {
    s.preAck.push(p);
    s.raced ??= arm(this.table.byTrigger('violation:THETA-3.8')[0]!, 'violation:THETA-3.8', t, {});
  }

  /** The acknowledgement came: what the client sent before it is judged as sent now, after the handshake. */
  private replayPreAck(s: Session, t: number): void {
    for (const p of s.preAck.splice(0)) {
      if (ended(s)) return;
      if ('fin' in p) this.clientFin(s, p.stream, t);
      else if (p.st.role === 'control') this.clientControl(s, p.frame, t);
      else this.clientFrame(s, p.st, p.frame, t);
    }
  }

  private clientControl(s: Session, payload: Uint8Array, t: number): void {
    const d = decodeControl(payload);
    if (!d.ok) return this.clientViolation(s, t, 'THETA-2.3', d.problem.message);
    const m = d.msg;
    this.lastDecoded = [describeMessage(m)];
    if (s.phase === 'hello') {
      if (m.type !== 'SessionHello') return this.clientViolation(s, t, 'THETA-3.8', `${m.type} before the handshake`);
      this.disarm(s, (a) => a.trigger === 'quic-handshake');
      s.hello = m;
      if (this.profile.duplicateCapabilities === 'violation' && new Set(m.capabilities).size !== m.capabilities.length) {
        return this.clientViolation(s, t, 'THETA-4.5', 'duplicate capability ids');
      }
      const codes = helloFailures(m, this.profile, this.expectedHash);
      if (codes.length > 0) {
        s.phase = 'failed';
        this.arm(s, 'hello-rejected', t, { codes, why: `SessionHello rejected: ${codes.map(closeCodeName).join(', ')}`, rule: codes.length === 1 ? HELLO_RULES[codes[0] as number] : 'THETA-3.6' });
        this.labels.add('transition:hello-rejected');
        this.labels.add('transition:close-owed-THETA-3.6');
      } else {
        this.arm(s, 'hello-accepted', t);
        this.labels.add('transition:hello-accepted');
      }
      return;
    }
    if (m.type === 'SessionHello') {
      if (this.profile.secondHello === 'violation') this.clientViolation(s, t, 'THETA-3.10', 'a second SessionHello');
      return;
    }
    if (m.type !== 'Heartbeat') return this.clientViolation(s, t, 'THETA-5.7', `client ${m.type} after the handshake`);
    this.clientHeartbeat(s, m, t);
  }

  private clientHeartbeat(s: Session, m: HeartbeatMsg, t: number): void {
    s.clientSeq = m.seq;
    s.clientSentAt = m.sentAtUs;
    this.disarm(s, (a) => a.record.rule === 'THETA-5.6');
    this.arm(s, 'client-heartbeat', t);
    this.labels.add('transition:client-heartbeat');
    s.clientBeats.push({ seq: m.seq, sentAt: m.sentAtUs, t });
    // THETA-5.5: an echo dated after the server's own latest heartbeat is in the server's future.
    if (m.echoSeq > 0 && m.echoSentAtUs > s.serverSentAt) {
      s.futureEchoSeq = m.seq;
      this.labels.add('transition:future-echo');
    }
    if (this.mode === 'server' && this.env !== undefined && m.echoSeq > 0) {
      const nowUs = this.env.epochUs(t);
      const rtt = nowUs > m.echoSentAtUs ? Number(nowUs - m.echoSentAtUs) : 0;
      s.jitterUs = Math.abs(rtt - s.rttUs);
      s.rttUs = rtt;
    }
  }

  private clientFin(s: Session, id: number, t: number): void {
    const st = this.stream(s, id);
    if (st === undefined || s.phase === 'failed') return;
    st.clientFin = true;
    if (st.rx.partial > 0) return this.clientViolation(s, t, 'THETA-2.4', `FIN inside a frame on stream ${id}`);
    if (this.racing(s)) return this.defer(s, { stream: id, fin: true }, t);
    if (s.phase !== 'established') return;
    if (st.role === 'assets') {
      if (s.assetFrames === 0 && this.profile.emptyAsset === 'violation') return this.clientViolation(s, t, 'THETA-7.2', 'an asset of no frames');
      // The client records its FIN when it writes it; on a slow link the asset may still be on its way (THETA-7.1).
      this.arm(s, 'asset-fin', t, { digest: s.asset.copy().digest('hex') }, (s.assetBytes * 1000) / ASSET_FLOOR_BYTES_PER_S);
    } else if (st.role === 'control' && this.profile.controlFin === 'ends-session') {
      s.armed = s.armed.filter((a) => a.record.owed.kind !== 'action' && a.record.rule !== 'THETA-5.6');
      this.arm(s, 'control-fin', t, { codes: [CloseCode.NO_ERROR] });
      this.labels.add('transition:close-owed-THETA-8.2');
    }
  }

  // ---- what the server sends -------------------------------------------------

  private serverData(s: Session, id: number, bytes: Uint8Array, t: number, index: number): Violation[] {
    const st = this.stream(s, id);
    if (st === undefined) return [this.v('THETA-1.3', index, t, 'server bytes only on streams 0, 4, 8', `${bytes.length} bytes on stream ${id}`)];
    let frames: Uint8Array[];
    try {
      frames = st.tx.push(bytes);
    } catch (err) {
      if (err instanceof OversizedFrameError) return [this.v('THETA-2.2', index, t, `server frames of at most ${this.profile.maxFrameBytes} bytes`, err.message)];
      throw err;
    }
    // After a client violation the server owes only the close (THETA-8.3): what it sent before it
    // read the violation (an acknowledgement, heartbeats, echoes in flight on a real network) is not judged.
    if (s.armed.some((a) => a.trigger.startsWith('violation:'))) return [];
    const out: Violation[] = [];
    for (const f of frames) {
      if (st.role !== 'control' && s.phase === 'failed') continue; // crossed the client's violation; the owed close is judged by its deadline
      if (st.role === 'control') out.push(...this.serverControl(s, f, t, index));
      else if (st.role === 'replication') {
        const owed = s.echoes.shift();
        if (owed === undefined || owed.subject.echo !== hexOf(f)) {
          out.push(this.v('THETA-6.1', index, t, owed === undefined ? 'no echo (nothing owed)' : `the echo of ${owed.subject.echo?.slice(0, 32) ?? ''}`, `frame ${hexOf(f).slice(0, 32)}`));
        } else {
          const j = judge(owed, t);
          if (j) out.push(this.v(j.rule, index, t, 'the echo in time', `${j.when}`, j.severity));
        }
        if (owed) this.disarm(s, (a) => a === owed);
      } else {
        const owed = s.armed.find((a) => a.trigger === 'asset-fin');
        if (owed === undefined || owed.subject.digest !== hexOf(f)) {
          out.push(this.v('THETA-7.1', index, t, owed === undefined ? 'no asset answer before the asset ends' : `SHA-256 ${owed.subject.digest ?? ''}`, `frame ${hexOf(f)}`));
        } else {
          const j = judge(owed, t);
          if (j) out.push(this.v(j.rule, index, t, 'the asset hash in time', `${j.when}`, j.severity));
          this.labels.add('transition:asset-answer');
        }
        if (owed) this.disarm(s, (a) => a === owed);
      }
    }
    return out;
  }

  private serverControl(s: Session, payload: Uint8Array, t: number, index: number): Violation[] {
    const d = decodeControl(payload);
    if (!d.ok) return [this.v('THETA-2.3', index, t, 'a sound ControlFrame', d.problem.message)];
    const m = d.msg;
    this.lastDecoded = [describeMessage(m)];
    const out: Violation[] = [];
    if (s.phase === 'failed' && m.type !== 'SessionError') {
      // A close is owed: an acknowledgement accepts what the client broke; anything else may have crossed the client's bytes (the close's deadline judges).
      const owed = s.armed.find((a) => a.record.owed.kind === 'close');
      if (m.type === 'SessionAcknowledge' && owed !== undefined) return [this.v(owed.subject.rule ?? owed.record.rule, index, t, `a close (${owed.subject.why ?? owed.record.summary})`, 'SessionAcknowledge')];
      return [];
    }
    if (m.type === 'SessionError') {
      s.sessionErrorCode = m.code;
      this.labels.add('transition:session-error');
      if (this.profile.sessionError === 'never') out.push(this.v('THETA-3.9', index, t, 'no SessionError (profile sessionError: never)', `SessionError ${closeCodeName(m.code)}`));
      return out;
    }
    if (m.type === 'SessionAcknowledge') {
      const owed = s.armed.find((a) => a.trigger === 'hello-accepted');
      if (owed === undefined || s.hello === undefined) return [this.v('THETA-3.1', index, t, 'an acknowledgement only of a valid SessionHello', 'SessionAcknowledge')];
      const j = judge(owed, t);
      if (j) out.push(this.v(j.rule, index, t, 'the acknowledgement in time', j.when, j.severity));
      this.disarm(s, (a) => a === owed);
      const h = s.hello;
      const want = negotiateCapabilities(h.capabilities, this.profile.serverCapabilities);
      const nonce = hexOf(m.serverNonce);
      const checks: [boolean, string, string, string][] = [
        [m.protocolVersion === h.protocolVersion && m.schemaHash === h.schemaHash, 'THETA-4.1', `version ${h.protocolVersion} and hash ${h.schemaHash} echoed`, `version ${m.protocolVersion}, hash ${m.schemaHash}`],
        [nonceOk(this.profile, m.serverNonce), 'THETA-4.2', this.profile.nonceRule === 'exactly-24' ? `a ${NONCE_BYTES}-byte server nonce` : 'a non-empty server nonce', `${m.serverNonce.length} bytes`],
        [!this.nonces.has(nonce), 'THETA-4.2', 'a fresh server nonce', 'a nonce already used by another session'],
        [!this.liveSessionIds.has(m.sessionId), 'THETA-4.3', 'a session id no live session has', `session id ${m.sessionId} of connection ${this.liveSessionIds.get(m.sessionId) ?? ''}`],
        [this.profile.role === undefined || m.role === this.profile.role, 'THETA-4.4', `role ${this.profile.role ?? 'any'}`, `role ${m.role}`],
        [JSON.stringify(m.capabilities) === JSON.stringify(want), 'THETA-4.5', `capabilities [${want.join(', ')}]`, `[${m.capabilities.join(', ')}]`],
        [m.publicKey.length === KEY_BYTES, 'THETA-4.6', `a ${KEY_BYTES}-byte Ed25519 public key`, `${m.publicKey.length} bytes`],
      ];
      for (const [ok, rule, expected, seen] of checks) if (!ok) out.push(this.v(rule, index, t, expected, seen));
      this.nonces.add(nonce);
      this.liveSessionIds.set(m.sessionId, s.id);
      s.phase = 'established';
      s.ackAt = t;
      this.arm(s, 'ack', t);
      this.labels.add('transition:ack');
      this.labels.add('state:established');
      this.replayPreAck(s, t);
      return out;
    }
    if (m.type === 'SessionHello') return [this.v('THETA-3.1', index, t, 'the server never sends SessionHello', 'SessionHello')];
    // Heartbeat
    if (s.phase !== 'established') return [this.v('THETA-5.1', index, t, 'heartbeats only after the acknowledgement', 'Heartbeat')];
    const owed = s.armed.find((a) => a.record.rule === 'THETA-5.1');
    if (owed) {
      const j = judge(owed, t);
      if (j) out.push(this.v(j.rule, index, t, `a heartbeat ${this.profile.heartbeatIntervalMs} ms after the previous one`, `${j.when}: after ${((t - owed.since) / US).toFixed(1)} ms`, j.severity));
      this.disarm(s, (a) => a === owed);
    }
    if (m.seq !== s.serverSeq + 1) out.push(this.v('THETA-5.2', index, t, `seq ${s.serverSeq + 1}`, `seq ${m.seq}`));
    const echo = this.echoProblem(s, m, t);
    if (echo !== undefined) out.push(this.v('THETA-5.3', index, t, echo.expected, `echo seq ${m.echoSeq}, sent_at ${m.echoSentAtUs}`, echo.severity));
    if (m.sentAtUs < s.serverSentAt) out.push(this.v('THETA-5.4', index, t, `sent_at_us ≥ ${s.serverSentAt}`, `${m.sentAtUs}`));
    if (s.futureEchoSeq !== undefined && m.echoSeq === s.futureEchoSeq && m.rttUs !== 0) out.push(this.v('THETA-5.5', index, t, `rtt_us 0 after the future-dated echo of client heartbeat ${s.futureEchoSeq} (clamped)`, `rtt_us ${m.rttUs}`));
    if (s.futureEchoSeq !== undefined && m.echoSeq >= s.futureEchoSeq) s.futureEchoSeq = undefined;
    s.lastEchoSeq = Math.max(s.lastEchoSeq, m.echoSeq);
    s.serverSeq = m.seq;
    s.serverSentAt = m.sentAtUs;
    this.arm(s, 'server-heartbeat', t);
    this.labels.add('transition:server-heartbeat');
    return out;
  }

  /**
   * THETA-5.3 seen from the client. A server heartbeat at `t` (µs) MUST
   * echo one client heartbeat exactly (seq and `sent_at_us`), or 0/0 before
   * any; MUST NOT echo an older one than its previous heartbeat did
   * (streams keep order); and MUST NOT echo 0/0 once the server, still
   * heartbeating, would have timed out without any client heartbeat
   * (later than the acknowledgement + `heartbeatTimeoutMs` +
   * `answerDeadlineMs` for the trip). It SHOULD NOT echo one older than
   * the latest client heartbeat sent `answerDeadlineMs +
   * heartbeatIntervalMs` before: the client records a heartbeat when it
   * writes it, and a busy connection (an asset upload) may hold it back
   * longer. Returns the problem, or undefined when the echo is acceptable.
   */
  private echoProblem(s: Session, m: HeartbeatMsg, t: number): { readonly severity: Severity; readonly expected: string } | undefined {
    // Beats older than the last echo can never be echoed again.
    while (s.clientBeats.length > 0 && (s.clientBeats[0] as { seq: number }).seq < s.lastEchoSeq) s.clientBeats.shift();
    if (s.clientBeats.length > MAX_BEATS_KEPT) s.clientBeats.splice(0, s.clientBeats.length - MAX_BEATS_KEPT);
    const horizon = t - (this.profile.answerDeadlineMs + this.profile.heartbeatIntervalMs) * US;
    let due = 0;
    for (const b of s.clientBeats) if (b.t <= horizon) due = b.seq;
    const latest = s.clientBeats.at(-1)?.seq ?? 0;
    const want = `echo seq ${Math.max(due, s.lastEchoSeq)}${latest > Math.max(due, s.lastEchoSeq) ? ` to ${latest}` : ''}`;
    if (m.echoSeq === 0 && m.echoSentAtUs === 0n) {
      if (s.lastEchoSeq > 0) return { severity: 'must', expected: `${want}: never back to 0 after echoing ${s.lastEchoSeq}` };
      const timedOut = s.ackAt !== undefined && s.clientBeats.length > 0 && t > s.ackAt + (this.profile.heartbeatTimeoutMs + this.profile.answerDeadlineMs) * US;
      if (timedOut) return { severity: 'must', expected: `${want}: a server alive ${this.profile.heartbeatTimeoutMs} ms after its acknowledgement has had a client heartbeat` };
      return due > 0 ? { severity: 'should', expected: `${want} (the latest client heartbeat the server had)` } : undefined;
    }
    const beat = s.clientBeats.find((b) => b.seq === m.echoSeq);
    if (m.echoSeq < s.lastEchoSeq) return { severity: 'must', expected: `${want}: not older than the previous echo (${s.lastEchoSeq})` };
    if (beat === undefined || beat.sentAt !== m.echoSentAtUs) return { severity: 'must', expected: `${want}, with that heartbeat's sent_at_us (an echo of a client heartbeat, unchanged)` };
    if (m.echoSeq < due) return { severity: 'should', expected: `${want} (not older than the latest client heartbeat the server had)` };
    return undefined;
  }

  private serverFin(s: Session, id: number, t: number, index: number): Violation[] {
    const st = this.stream(s, id);
    if (st === undefined) return [];
    st.serverFin = true;
    if (st.tx.partial > 0) return [this.v('THETA-2.4', index, t, 'whole frames before FIN', `FIN after ${st.tx.partial} bytes of a frame`)];
    if (st.role === 'assets' && s.armed.some((a) => a.trigger === 'asset-fin')) return [this.v('THETA-7.1', index, t, 'the asset hash before FIN', 'FIN')];
    return [];
  }

  private closed(s: Session, by: 'client' | 'server' | 'transport', code: number, t: number, index: number): Violation[] {
    const out: Violation[] = [];
    const hadAck = s.phase === 'established' || s.serverSeq > 0;
    for (const [sid, conn] of this.liveSessionIds) if (conn === s.id) this.liveSessionIds.delete(sid);
    if (by !== 'server') {
      s.phase = 'closed';
      s.armed = [];
      this.labels.add('transition:close-by-client');
      return out;
    }
    this.labels.add('transition:close-by-server');
    const closes = s.armed.filter((a) => a.record.owed.kind === 'close');
    const owed = closes.find((a) => (a.subject.codes ?? [a.record.owed.kind === 'close' ? a.record.owed.code : -1]).includes(code));
    // A close 0x5 soon after what raced the handshake's end: the server read it as sent before the end (THETA-3.8).
    const racedClose = owed === undefined && code === CloseCode.PROTOCOL_VIOLATION && s.raced !== undefined && judge(s.raced, t) === undefined;
    if (owed === undefined && !racedClose) {
      const wanted = closes.flatMap((a) => a.subject.codes ?? [a.record.owed.kind === 'close' ? a.record.owed.code : -1]);
      // Only closes whose window has opened say what was due; a timer still running (5.6, 3.7) owes nothing yet.
      const nominal = closes.filter((a) => t >= windowOf(a, 'must').lo);
      const due = nominal.flatMap((a) => a.subject.codes ?? [a.record.owed.kind === 'close' ? a.record.owed.code : -1]);
      const rule = nominal[0] !== undefined ? (nominal[0].subject.rule ?? nominal[0].record.rule) : 'THETA-8.1';
      out.push(this.v(rule, index, t, due.length > 0 ? `close with ${due.map(closeCodeName).join(' or ')}` : `no close (${hadAck ? 'a conforming session' : 'nothing owed'}${wanted.length > 0 ? `; ${closes.map((a) => a.record.rule).join(', ')} not due yet` : ''})`, `close ${closeCodeName(code)}`));
    } else if (owed !== undefined) {
      const j = judge(owed, t);
      if (j) out.push(this.v(j.rule, index, t, owed.record.summary, `${j.when} close at ${((t - owed.since) / US).toFixed(1)} ms`, j.severity));
      if (owed.trigger === 'hello-rejected' && this.profile.sessionError === 'required' && s.sessionErrorCode === undefined) out.push(this.v('THETA-3.9', index, t, 'a SessionError before the close (profile sessionError: required)', 'a close with no SessionError'));
      this.labels.add(`transition:close-owed-${owed.trigger.startsWith('violation:') ? 'THETA-8.3' : owed.record.rule}`);
    }
    if (s.sessionErrorCode !== undefined && s.sessionErrorCode !== code) out.push(this.v('THETA-3.9', index, t, `close code ${closeCodeName(s.sessionErrorCode)} as the SessionError said`, `close ${closeCodeName(code)}`));
    s.phase = 'closed';
    s.armed = [];
    return out;
  }

  // ---- time ------------------------------------------------------------------

  /** Moves time to `t` (µs); in monitor mode returns the deadlines missed by then. */
  advance(t: number): Violation[] {
    this.now = Math.max(this.now, t);
    if (this.mode === 'server') return [];
    const out: Violation[] = [];
    for (const s of this.sessions.values()) {
      for (const o of overdueAt(s.armed, t)) {
        out.push(this.v(o.armed.subject.rule ?? o.armed.record.rule, -1, o.deadline, o.armed.subject.why !== undefined ? `${o.armed.record.summary} (${o.armed.subject.why})` : o.armed.record.summary, 'nothing in time', o.severity, true));
        this.disarm(s, (a) => a === o.armed);
        const i = s.echoes.indexOf(o.armed);
        if (i >= 0) s.echoes.splice(i, 1);
      }
    }
    return out;
  }

  /** Earliest µs at which {@link advance} could report a missed deadline. */
  nextDeadline(): number | undefined {
    return earliest([...this.sessions.values()].map((s) => nextDeadlineOf(s.armed)));
  }

  /** True when no session owes anything but heartbeats (which are owed for ever while a session lives). */
  settled(): boolean {
    for (const s of this.sessions.values()) {
      if (s.phase === 'closed') continue;
      if (s.armed.some((a) => a.record.rule !== 'THETA-5.1' && a.record.rule !== 'THETA-5.6')) return false;
    }
    return true;
  }

  // ---- server mode -------------------------------------------------------------

  /** What a conforming server does at `t` (µs): answers, heartbeats and closes whose nominal time came. */
  due(t: number): ServerAction[] {
    const env = this.env;
    if (env === undefined) return [];
    const acts: ServerAction[] = [];
    const send = (conn: number, stream: number, payload: Uint8Array): void => void acts.push({ type: 'send', conn, stream, bytes: encodeFrame(payload) });
    for (const s of this.sessions.values()) {
      if (s.phase === 'closed') continue;
      const due = dueBy(s.armed, t);
      const close = due.find((a) => a.record.owed.kind === 'close');
      if (close !== undefined) {
        const code = close.subject.codes?.[0] ?? (close.record.owed.kind === 'close' ? close.record.owed.code : CloseCode.PROTOCOL_VIOLATION);
        if (close.trigger === 'hello-rejected' && this.profile.sessionError !== 'never') send(s.id, Stream.control, encodeControl({ type: 'SessionError', code, reason: close.subject.why ?? '' }));
        acts.push({ type: 'close', conn: s.id, code, reason: (close.subject.why ?? close.record.summary).slice(0, 200), rule: close.record.rule });
        continue;
      }
      for (const a of due) {
        switch (a.trigger) {
          case 'hello-accepted': {
            const h = s.hello;
            if (h === undefined) break;
            send(s.id, Stream.control, encodeControl({
              type: 'SessionAcknowledge', protocolVersion: h.protocolVersion, schemaHash: h.schemaHash, serverNonce: env.randomBytes(NONCE_BYTES), sessionId: env.sessionId(),
              role: this.profile.role ?? 1, capabilities: negotiateCapabilities(h.capabilities, this.profile.serverCapabilities), publicKey: env.publicKey,
            }));
            break;
          }
          case 'ack':
          case 'server-heartbeat':
            send(s.id, Stream.control, encodeControl({ type: 'Heartbeat', seq: s.serverSeq + 1, sentAtUs: env.epochUs(t), echoSeq: s.clientSeq, echoSentAtUs: s.clientSentAt, rttUs: s.rttUs, jitterUs: s.jitterUs }));
            break;
          case 'replication-frame':
            if (a.subject.echo !== undefined) send(s.id, Stream.replication, fromHex(a.subject.echo));
            break;
          case 'asset-fin':
            if (a.subject.digest !== undefined) {
              send(s.id, Stream.assets, fromHex(a.subject.digest));
              acts.push({ type: 'fin', conn: s.id, stream: Stream.assets });
            }
            break;
          default:
            break;
        }
      }
    }
    return acts;
  }

  /** When {@link due} next has something (µs). */
  nextDue(): number | undefined {
    return earliest([...this.sessions.values()].map((s) => (s.phase === 'closed' ? undefined : nextDueOf(s.armed, this.now))));
  }

  // ---- reports -----------------------------------------------------------------

  /** What the codec decoded from the data event just fed, for trace files. */
  decoded(): readonly Record<string, unknown>[] | undefined {
    return this.lastDecoded;
  }

  /** Coverage labels reached (see {@link COVERAGE_LABELS}). */
  coverage(): string[] {
    return [...this.labels];
  }

  /**
   * Number of sessions whose state the model keeps: those whose `conn_close`
   * was not fed yet. Bounded by the connections in flight, whatever the
   * number served.
   */
  trackedConnections(): number {
    return this.sessions.size;
  }

  /** One line per session: phase and what it owes. */
  describe(): string {
    const parts = [...this.sessions.values()].map((s) => `conn ${s.id}: ${s.phase}, owes ${s.armed.map((a) => a.record.rule).join(', ') || 'nothing'}`);
    return parts.join('; ') || 'no session';
  }
}

/** A control message as plain JSON for traces (bigints and bytes as text). */
export function describeMessage(m: ControlMessage): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) out[k] = typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? hexOf(v) : v;
  return out;
}
