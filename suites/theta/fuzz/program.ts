/**
 * Theta's adapter to the generic fuzz program builder
 * (harness/fuzz/builder.ts, which keeps the steps, the prediction by the
 * model, the guard bands, waits and the drain): Theta's client actions as
 * named steps and what a conforming server does after them, as the model in
 * server mode ({@link ThetaModel}) predicts.
 *
 *  - **streams**: every connection opens its three streams at once, in the
 *    order that gives them QUIC ids 0 (control), 4 (replication) and 8
 *    (assets) (SPEC THETA-1.1); nothing is sent on a stream before its
 *    first write. A fourth bidirectional stream (id 12) or a unidirectional
 *    one (id 2) is opened only by a deviation (THETA-1.2);
 *  - **messages**: control messages are encoded by the official runtime
 *    (messages.ts) and framed by the codec; a mutated payload is written as
 *    given;
 *  - **clock**: a client heartbeat's `sent_at_us` is {@link EPOCH_BASE_US}
 *    plus the virtual time; the server's clock is the same in the
 *    prediction (the model's server environment), and is the real clock on
 *    a target: nothing the programs check depends on the two agreeing
 *    (a "future" echo is far in the future, a "past" one far in the past);
 *  - **guard**: the racy server actions are the timer closes (handshake
 *    timeout THETA-3.7, heartbeat timeout 5.6). The server's own heartbeats
 *    are timer-driven too, but a client action never changes them, so they
 *    race with nothing;
 *  - **drain**: `settled` within the last predicted reaction plus the
 *    answer deadline and tolerance (heartbeats are owed for ever while a session lives: the monitor's
 *    `settled` leaves them out).
 */
import { createHash } from 'node:crypto';
import { fromHex, toHex, type TraceEvent } from '../../../harness/engine/trace.js';
import type { Duration } from '../../../harness/fixtures/format.js';
import { DRAIN_MARGIN_MS, ProgramBuilder, US, type BuilderConn, type PredictedEvent } from '../../../harness/fuzz/builder.js';
import { validHello as caseHello } from '../cases/_helpers.js';
import { closeCodeName, encodeFrame, FRAME_HEADER } from '../codec.js';
import { decodeControl, encodeControl, type ControlMessage, type HeartbeatMsg, type SessionHelloMsg } from '../messages.js';
import { KEY_BYTES, NONCE_BYTES, ThetaModel, type ThetaServerEnv } from '../model.js';
import type { ThetaProfile } from '../profile.js';

export type { PredictedEvent } from '../../../harness/fuzz/builder.js';

/** ALPN of every program connection (PROTOCOLS.md: the protocol's lower-case name). */
export const THETA_ALPN = 'theta';
/** The programs' wall clock at virtual time 0 (µs since the Unix epoch; 2023-11-14). */
export const EPOCH_BASE_US = 1_700_000_000_000_000n;

/** The three streams of a connection, by role. */
export type StreamName = 'control' | 'replication' | 'assets';

/** A connection of a program. */
export interface ProgramConn extends BuilderConn {
  /** Fixture stream names by role (`a0`, `a1`, `a2`: QUIC ids 0, 4, 8). */
  readonly streams: Readonly<Record<StreamName, string>>;
  /** Extra streams opened by deviations. */
  extra: number;
  /** A SessionHello has been written (whatever the server made of it). */
  helloSent: boolean;
  /** Client heartbeats sent (the next `seq` is this + 1). */
  heartbeats: number;
  /** Replication frames written. */
  replicated: number;
  /** Asset frames written, and whether the assets stream was ended. */
  assetFrames: number;
  assetFin: boolean;
  /** The control stream was ended (FIN). */
  controlFin: boolean;
}

/** The timer closes a client action may race with (by rule id). */
const TIMER_CLOSE_RULES: ReadonlySet<string> = new Set(['THETA-3.7', 'THETA-5.6']);

/** A deterministic server environment for the prediction. */
function predictionEnv(): ThetaServerEnv {
  let counter = 0;
  return {
    epochUs: (t) => EPOCH_BASE_US + BigInt(Math.round(t)),
    randomBytes: (n) => {
      counter++;
      return createHash('sha256').update(`nonce ${counter}`).digest().subarray(0, n);
    },
    publicKey: new Uint8Array(KEY_BYTES).fill(0x5a),
    sessionId: () => BigInt(++counter),
  };
}

/** The profile's valid SessionHello (cases/_helpers.ts), with a fixed nonce and key: programs are deterministic for a seed. */
export function validHello(p: ThetaProfile, capabilities: readonly number[] = p.serverCapabilities): SessionHelloMsg {
  return caseHello(p, { clientNonce: new Uint8Array(NONCE_BYTES).fill(0x11), capabilities: [...capabilities], publicKey: new Uint8Array(KEY_BYTES).fill(0x22) });
}

/** One line for a control message, e.g. `Heartbeat seq 3 echo 2`. */
export function messageText(m: ControlMessage): string {
  switch (m.type) {
    case 'SessionHello':
      return `SessionHello v${m.protocolVersion} hash ${m.schemaHash.toString(16)} nonce ${m.clientNonce.length} B key ${m.publicKey.length} B caps [${m.capabilities.join(', ')}]`;
    case 'SessionAcknowledge':
      return `SessionAcknowledge session ${m.sessionId} caps [${m.capabilities.join(', ')}]`;
    case 'Heartbeat':
      return `Heartbeat seq ${m.seq} echo ${m.echoSeq}${m.rttUs ? ` rtt ${m.rttUs} µs` : ''}`;
    case 'SessionError':
      return `SessionError ${closeCodeName(m.code)}`;
  }
}

/**
 * A Theta fuzz program under construction. Every method appends a named
 * step (and the client events it causes, for the prediction); queries read
 * the model's prediction at the current virtual time.
 */
export class ThetaProgramBuilder extends ProgramBuilder<ThetaProfile, ProgramConn, ThetaModel> {
  protected createModel(): ThetaModel {
    return new ThetaModel(this.profile, 'server', predictionEnv());
  }

  protected get toleranceMs(): number {
    return this.profile.toleranceMs;
  }

  /** True when the server has acknowledged `c`'s hello by now (as predicted). */
  established(c: ProgramConn): boolean {
    return this.predict().some((p) => p.ev.type === 'data' && p.ev.conn === c.index && p.ev.stream === 0 && this.controlText(p.ev.hex).startsWith('SessionAcknowledge'));
  }

  /** Server heartbeats the model predicts on `c` at or before `us` (µs). */
  serverHeartbeatsBy(c: ProgramConn, us: number): number {
    return this.predict().filter((p) => p.timer && p.ev.type === 'data' && p.ev.conn === c.index && p.ev.stream === 0 && p.ev.t <= us).length;
  }

  /**
   * True when a server heartbeat on `c` surely arrived by now: the model
   * predicts one at least the guard band (`toleranceMs` + 10 ms) ago. An
   * echo in a client heartbeat is only meaningful after that.
   */
  serverHeartbeatSeen(c: ProgramConn): boolean {
    return this.serverHeartbeatsBy(c, this.now - (this.profile.toleranceMs + 10) * US) > 0;
  }

  private readonly racy = (p: PredictedEvent): boolean => p.ev.type === 'conn_close' && p.ev.by === 'server' && p.rule !== undefined && TIMER_CLOSE_RULES.has(p.rule);

  /** Readable form of whole frames sent on the control stream. */
  private controlText(hex: string): string {
    const bytes = fromHex(hex);
    const parts: string[] = [];
    let at = 0;
    while (bytes.length - at >= FRAME_HEADER) {
      const len = new DataView(bytes.buffer, bytes.byteOffset + at).getUint32(0, false);
      const d = decodeControl(bytes.subarray(at + FRAME_HEADER, at + FRAME_HEADER + len));
      parts.push(d.ok ? messageText(d.msg) : `malformed control frame (${d.problem.rule})`);
      at += FRAME_HEADER + len;
    }
    return parts.join(', ');
  }

  protected serverText(ev: TraceEvent): string {
    const cn = (i: number) => this.conns[i]?.name ?? String(i);
    switch (ev.type) {
      case 'data':
        if (ev.stream === 0) return `${this.controlText(ev.hex)} on ${cn(ev.conn)}`;
        if (ev.stream === 4) return `echo of ${ev.hex.length / 2 - FRAME_HEADER} bytes on ${cn(ev.conn)}`;
        return `asset SHA-256 ${ev.hex.slice(2 * FRAME_HEADER, 2 * FRAME_HEADER + 16)}… on ${cn(ev.conn)}`;
      case 'stream_fin':
        return `FIN on stream ${ev.stream} of ${cn(ev.conn)}`;
      case 'conn_close':
        return `close ${cn(ev.conn)} ${closeCodeName(ev.code)} "${ev.reason}"`;
      default:
        return ev.type;
    }
  }

  // ----------------------------------------------------------------- steps

  /** Opens a connection and names its three streams (`connect`, then three `open` steps). */
  connect(name?: string): ProgramConn {
    const n = this.nextConnName();
    const s = (k: number) => (n.length === 1 ? `${n}${k}` : `${n}_${k}`);
    const c: ProgramConn = {
      name: n, index: this.conns.length, clientClosed: false, streams: { control: s(0), replication: s(1), assets: s(2) },
      extra: 0, helloSent: false, heartbeats: 0, replicated: 0, assetFrames: 0, assetFin: false, controlFin: false,
    };
    const live = this.conns.filter((o) => this.isLive(o));
    const comment = name ?? (live.length ? `while ${live.map((o) => o.name).join(', ')} ${live.length > 1 ? 'are' : 'is'} open (concurrent sessions: THETA-4.2, 4.3)` : undefined);
    this.push({ do: 'connect', conn: c.name, ...(comment !== undefined ? { comment } : {}) }, [{ type: 'conn_open', t: 0, conn: c.index, remote: 'target', alpn: THETA_ALPN }], this.racy);
    this.conns.push(c);
    this.push({ do: 'open', stream: c.streams.control, conn: c.name, comment: 'control stream (QUIC id 0)' });
    this.push({ do: 'open', stream: c.streams.replication, conn: c.name, comment: 'replication stream (QUIC id 4)' });
    this.push({ do: 'open', stream: c.streams.assets, conn: c.name, comment: 'assets stream (QUIC id 8)' });
    return c;
  }

  private streamId(c: ProgramConn, s: StreamName | string): { name: string; id: number } {
    if (s === 'control' || s === 'replication' || s === 'assets') return { name: c.streams[s], id: { control: 0, replication: 4, assets: 8 }[s] };
    return { name: s, id: -1 };
  }

  private firstWrite = new Set<string>();

  /** Writes raw bytes on a stream of `c` (`write` step named `name`). */
  writeRaw(c: ProgramConn, stream: StreamName, bytes: Uint8Array, name: string): void {
    if (bytes.length === 0) return;
    const { name: sn, id } = this.streamId(c, stream);
    const events: TraceEvent[] = [];
    if (!this.firstWrite.has(sn)) {
      this.firstWrite.add(sn);
      events.push({ type: 'stream_open', t: 0, conn: c.index, stream: id, by: 'client' });
    }
    events.push({ type: 'data', t: 0, conn: c.index, stream: id, dir: 'c2s', hex: toHex(bytes) });
    this.push({ do: 'write', stream: sn, hex: toHex(bytes), comment: name }, events, this.racy);
  }

  /** Writes one control payload (a FlatBuffer, or bytes that are meant not to be one) as one frame. */
  sendControlPayload(c: ProgramConn, payload: Uint8Array, name: string): void {
    this.writeRaw(c, 'control', encodeFrame(payload), name);
  }

  /**
   * Writes one control message, framed. After a first SessionHello the
   * model acknowledges, waits `toleranceMs` for the acknowledgement to
   * arrive: on a real network the client's next bytes would otherwise race
   * with it (a violation the client sends right after the hello, seen by
   * the monitor before the acknowledgement, would make the acknowledgement
   * look unowed).
   */
  sendControl(c: ProgramConn, m: ControlMessage, name?: string): void {
    const first = m.type === 'SessionHello' && !c.helloSent;
    if (m.type === 'SessionHello') c.helloSent = true;
    this.sendControlPayload(c, encodeControl(m), name ?? messageText(m));
    if (first && this.isLive(c) && this.established(c)) this.wait('toleranceMs', `let the acknowledgement of ${c.name}'s hello arrive (THETA-3.1)`);
  }

  /** Sends the profile's valid SessionHello (with the capabilities asked). */
  hello(c: ProgramConn, capabilities?: readonly number[], name?: string): void {
    this.sendControl(c, validHello(this.profile, capabilities), name);
  }

  /**
   * The client's next heartbeat: `seq` one more than the last, `sent_at_us`
   * the program's clock; the echo is "none yet" (0, 0) unless given.
   */
  nextHeartbeat(c: ProgramConn, echo: { seq: number; sentAtUs: bigint } = { seq: 0, sentAtUs: 0n }): HeartbeatMsg {
    return { type: 'Heartbeat', seq: c.heartbeats + 1, sentAtUs: EPOCH_BASE_US + BigInt(Math.round(this.now)), echoSeq: echo.seq, echoSentAtUs: echo.sentAtUs, rttUs: 0, jitterUs: 0 };
  }

  /** Sends a client heartbeat (THETA-5.x). */
  heartbeat(c: ProgramConn, m: HeartbeatMsg = this.nextHeartbeat(c), name?: string): void {
    c.heartbeats = Math.max(c.heartbeats, m.seq);
    this.sendControl(c, m, name);
    this.exercises('THETA-5.6');
  }

  /** Writes replication frames in one write (pipelined; THETA-6.1). */
  replicate(c: ProgramConn, frames: readonly Uint8Array[], name?: string): void {
    if (frames.length === 0) return;
    const bytes = Buffer.concat(frames.map(encodeFrame));
    c.replicated += frames.length;
    this.writeRaw(c, 'replication', bytes, name ?? `${frames.length} replication frame${frames.length > 1 ? 's' : ''} (${frames.map((f) => f.length).join(', ')} B)`);
    this.exercises('THETA-6.1');
  }

  /** Writes asset frames (THETA-7.1). */
  asset(c: ProgramConn, frames: readonly Uint8Array[], name?: string): void {
    if (frames.length === 0) return;
    c.assetFrames += frames.length;
    this.writeRaw(c, 'assets', Buffer.concat(frames.map(encodeFrame)), name ?? `${frames.length} asset frame${frames.length > 1 ? 's' : ''} (${frames.map((f) => f.length).join(', ')} B)`);
    this.exercises('THETA-7.1');
  }

  /** FIN on a stream of `c`. */
  fin(c: ProgramConn, stream: StreamName, name?: string): void {
    const { name: sn, id } = this.streamId(c, stream);
    const events: TraceEvent[] = [];
    if (!this.firstWrite.has(sn)) {
      this.firstWrite.add(sn);
      events.push({ type: 'stream_open', t: 0, conn: c.index, stream: id, by: 'client' });
    }
    events.push({ type: 'stream_fin', t: 0, conn: c.index, stream: id, dir: 'c2s' });
    this.push({ do: 'fin', stream: sn, comment: name ?? `FIN on the ${stream} stream` }, events, this.racy);
    if (stream === 'assets') c.assetFin = true;
    if (stream === 'control') c.controlFin = true;
  }

  /** Opens a stream Theta does not use (bidi id 12 after the three, or a uni stream, id 2) and writes `bytes` on it (THETA-1.2). */
  strayStream(c: ProgramConn, kind: 'bidi' | 'uni', bytes: Uint8Array, name: string): void {
    const sn = `${c.name}_x${c.extra++}`;
    const id = kind === 'uni' ? 2 + 4 * this.unis(c) : 12 + 4 * this.extraBidis(c);
    (kind === 'uni' ? this.uniCount : this.bidiCount).set(c.index, (kind === 'uni' ? this.unis(c) : this.extraBidis(c)) + 1);
    this.push({ do: 'open', stream: sn, conn: c.name, ...(kind === 'uni' ? { kind: 'uni' as const } : {}), comment: `a ${kind} stream (QUIC id ${id}), not one of Theta's` });
    this.push({ do: 'write', stream: sn, hex: toHex(bytes), comment: name }, [{ type: 'stream_open', t: 0, conn: c.index, stream: id, by: 'client', dir: kind }, { type: 'data', t: 0, conn: c.index, stream: id, dir: 'c2s', hex: toHex(bytes) }], this.racy);
    this.exercises('THETA-1.2');
  }

  private readonly uniCount = new Map<number, number>();
  private readonly bidiCount = new Map<number, number>();
  private unis(c: ProgramConn): number {
    return this.uniCount.get(c.index) ?? 0;
  }
  private extraBidis(c: ProgramConn): number {
    return this.bidiCount.get(c.index) ?? 0;
  }

  /** Closes `c` by the client (application code 0). */
  close(c: ProgramConn, name?: string): void {
    this.push({ do: 'close', conn: c.name, comment: name ?? `close ${c.name} (client, code 0)` }, [{ type: 'conn_close', t: 0, conn: c.index, by: 'client', isApp: true, code: 0, reason: '' }], this.racy);
    c.clientClosed = true;
  }

  /** Waits `ms` (a duration expression over the profile, e.g. `"heartbeatTimeoutMs + toleranceMs + 20"`). */
  wait(ms: Duration, name?: string): void {
    this.appendWait(ms, (value) => name ?? `wait ${typeof ms === 'string' ? `${ms} (${value} ms)` : `${value} ms`}`);
  }

  // ------------------------------------------------------------------ build

  protected drain(): number {
    const P = this.profile;
    const horizonMs = Math.max(P.handshakeTimeoutMs, P.heartbeatTimeoutMs) + P.answerDeadlineMs + P.toleranceMs + 1000;
    // Every reaction still to come but the server's heartbeats and the heartbeat-timeout close
    // (owed for ever while a session lives, and left out of the monitor's `settled`).
    const all = this.predict(this.now + horizonMs * US).filter((p) => p.ev.t >= this.now && !(p.ev.type === 'data' && p.timer) && !(p.ev.type === 'conn_close' && p.rule === 'THETA-5.6'));
    const restMs = this.msUntilLast(all);
    // Every owed answer or close may take up to answerDeadlineMs (the monitor judges that deadline): the drain waits that long too.
    this.push({ expect: 'settled', within: `${restMs > 0 ? `${restMs} + ` : ''}answerDeadlineMs + toleranceMs + ${DRAIN_MARGIN_MS}`, comment: `drain: until nothing but heartbeats is owed (the model predicts the last reaction ${restMs} ms after the last step)` });
    return horizonMs;
  }

  /** Predictions per step; the server's heartbeats are counted per step, not listed one by one. */
  protected override predictionTexts(all: readonly PredictedEvent[]): { readonly step: number; readonly text: string }[] {
    const beat = (p: PredictedEvent) => p.ev.type === 'data' && p.timer && p.ev.stream === 0;
    const out = super.predictionTexts(all.filter((p) => !beat(p)));
    const counts = new Map<number, number>();
    for (const p of all) if (beat(p)) counts.set(Math.max(0, p.step), (counts.get(Math.max(0, p.step)) ?? 0) + 1);
    for (const [step, n] of counts) out.push({ step, text: `${n} server heartbeat${n > 1 ? 's' : ''}` });
    return out;
  }
}
