/**
 * The Moonpool model: the one place where the server's rules live
 * (SPEC.md §2–§7).
 *
 * A pure state machine over trace events as one server sees them, across all
 * of its connections (TCP: one byte stream per connection; stream ids are
 * ignored). It is used two ways:
 *  - as a **monitor** (`mode: 'monitor'`): fed a whole trace (client and
 *    server events), it reports the first server behaviour the SPEC does not
 *    allow — a reply that correlates to no outstanding request, a PING not
 *    answered `PONG` or not in time, a close that is not owed, no close after
 *    a malformed or oversized frame, a reply lost across a stall;
 *  - as the **reference server's core** (`mode: 'server'`): fed client
 *    events, it says what a conforming server does and when ({@link due}),
 *    and is fed back the server's own actions so both views stay one.
 *
 * Time is passed in: `t` is µs on the trace's clock. No clock is read and no
 * I/O is done here. Trace notes of SPEC §10 (`moonpool:stall|restore|cut
 * conn=N`) tell the monitor about deliberate network impairments; a
 * fixture step's comment may carry one (the fixture runner records it as
 * `fixture: moonpool:stall conn=N …`): fuzz programs declare their own
 * silences that way (suites/moonpool/fuzz/program.ts).
 *
 * For the fuzzer, the model labels the states it reaches and the
 * transitions it takes ({@link COVERAGE_LABELS}, {@link MoonpoolModel.coverage}).
 */
import type { TraceEvent } from '../../harness/engine/trace.js';
import { fromHex } from '../../harness/engine/trace.js';
import type { Severity, Violation } from '../../harness/engine/types.js';
import type { ServerAction } from '../../harness/engine/server-core.js';
import { bytesEqual, describePayload, encodeEnvelopes, FrameDecoder, HEADER_SIZE, idText, isPing, MAX_LENGTH_FIELD, OversizedEnvelopeError, PONG, type Envelope, type EnvelopeError } from './codec.js';
import type { MoonpoolProfile } from './profile.js';

/** Whether the model checks a recorded trace or drives a server. */
export type ModelMode = 'monitor' | 'server';

/** The one TCP byte stream of a connection, as hosts and drivers number it. */
export const STREAM = 0;

/** Pseudo close code the reference server puts on its close actions (TCP carries none; logs only). */
export const CLOSE_CODE = { NORMAL: 0, PARSE_ERROR: 1, IDLE_TIMEOUT: 2 } as const;

/** A request received and not yet answered. */
interface Req {
  readonly id: bigint;
  readonly ping: boolean;
  readonly payload: Uint8Array;
  /** Arrival (µs). */
  readonly t: number;
  /** MUST deadline of the reply (µs), for a PING. */
  due: number | undefined;
  /** The deadline was re-based by a restore note (MOONPOOL-7.2). */
  viaStall: boolean;
}

/** A close the server owes (framing error). */
interface CloseDue {
  readonly rule: string;
  readonly why: string;
  readonly at: number;
  hi: number;
  readonly code: number;
}

/** Per-connection state. */
interface ConnState {
  readonly id: number;
  readonly openedAt: number;
  readonly rx: FrameDecoder;
  readonly tx: FrameDecoder;
  /** Requests received and not answered, in arrival order. */
  readonly outstanding: Req[];
  /** Ids answered so far (to tell a second reply, 3.3, from an unknown id, 3.2). */
  readonly answered: Set<bigint>;
  /**
   * Monitor: after an oversized header (MOONPOOL-5.1), the ids a server that
   * read on would take for requests (those after the header's `len` bytes),
   * so that a reply to them is named 5.1, not 3.2.
   */
  hidden: { skip: number; readonly dec: FrameDecoder; readonly ids: Set<bigint> } | undefined;
  /** Last client byte (µs). */
  lastRx: number;
  /** The client ended its side after whole envelopes (µs), MOONPOOL-6.2. */
  finAt: number | undefined;
  finReported: boolean;
  /** Last reply time (µs). */
  lastReplyAt: number;
  close: CloseDue | undefined;
  /** Between `moonpool:stall` and `moonpool:restore` notes. */
  stalled: boolean;
  /** Ever stalled. */
  wasStalled: boolean;
  /** Ended (by anyone) or no longer checked (cut by the harness, or a MUST already reported). */
  closed: boolean;
}

const US = 1000;
const NOTE = /^(?:fixture: )?moonpool:(stall|restore|cut) conn=(\d+)\b/;
/** Reads bytes after an oversized header as a server that ignored the limit would (see `ConnState.hidden`). */
function readHidden(h: NonNullable<ConnState['hidden']>, bytes: Uint8Array): void {
  const k = Math.min(h.skip, bytes.length);
  h.skip -= k;
  if (k < bytes.length) for (const e of h.dec.push(bytes.subarray(k)).envelopes) h.ids.add(e.correlationId);
}

/** Correlation ids above this lose precision as JS numbers (2^53 − 1): an edge for implementations. */
const SAFE_ID = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * The rule a failed liveness check after a fuzz case is reported under
 * (MOONPOOL-8.5: nothing of a lost connection may keep the server from serving the client's next connection); the model owns it, as it owns the coverage labels.
 */
export const LIVENESS_RULE = 'MOONPOOL-8.5';

/**
 * Every coverage label the model reports ({@link MoonpoolModel.coverage}),
 * in monitor or server mode: `state:…` (a connection's state seen after an
 * event) and `transition:…` (what an event did). `transition:reply-other`
 * needs profile `otherPayloads: reply`; `transition:idle-close` a profile
 * with `idleTimeoutMs` > 0 and a connection silent that long.
 */
export const COVERAGE_LABELS: readonly string[] = [
  'state:conn-open', 'state:partial-header', 'state:partial-payload', 'state:pings-in-flight', 'state:duplicate-id-in-flight',
  'state:client-fin', 'state:conn-closing', 'state:stalled',
  'transition:conn-open', 'transition:ping', 'transition:other-payload', 'transition:empty-payload', 'transition:max-payload', 'transition:edge-id',
  'transition:coalesced', 'transition:split', 'transition:reply', 'transition:reply-other', 'transition:reply-across-stall',
  'transition:client-fin', 'transition:close-by-client', 'transition:client-gone-mid-frame', 'transition:close-by-server',
  'transition:close-owed-MOONPOOL-5.1', 'transition:close-owed-MOONPOOL-5.2', 'transition:close-after-fin', 'transition:idle-close',
  'transition:stall', 'transition:restore',
];

/**
 * The Moonpool state machine. Methods return violations instead of
 * throwing; an event that cannot be interpreted at all (bad hex) is a
 * violation of MOONPOOL-2.1.
 */
export class MoonpoolModel {
  private readonly conns = new Map<number, ConnState>();
  private readonly deadline: number;
  private readonly tol: number;
  private now = 0;
  /** An earlier event that later failures on other connections are about (SPEC §10). */
  private context: { rule: string; conn: number; t: number } | undefined;
  /** Coverage labels reached so far ({@link COVERAGE_LABELS}). */
  private readonly covered = new Set<string>();

  constructor(
    readonly profile: MoonpoolProfile,
    readonly mode: ModelMode,
  ) {
    this.deadline = profile.replyDeadlineMs * US;
    this.tol = profile.toleranceMs * US;
  }

  // ---------------------------------------------------------------- inputs

  /**
   * Feeds one trace event; first advances time to `ev.t`.
   * @returns violations the event (or the time before it) reveals (monitor mode).
   */
  input(ev: TraceEvent, index: number): Violation[] {
    const out = this.advance(ev.t);
    switch (ev.type) {
      case 'conn_open':
        this.conns.set(ev.conn, this.newConn(ev.conn, ev.t));
        this.covered.add('transition:conn-open').add('state:conn-open');
        break;
      case 'conn_close':
        if (ev.by === 'client') this.onClientGone(ev.conn, ev.t);
        else this.onServerEnd(ev.conn, `${ev.by === 'server' ? 'server' : 'transport'} closed the connection${ev.reason ? ` (${JSON.stringify(ev.reason)})` : ''}`, ev.t, index, out);
        break;
      case 'data': {
        let bytes: Uint8Array;
        try {
          bytes = fromHex(ev.hex);
        } catch {
          const c = this.conns.get(ev.conn);
          if (c && !c.closed) out.push(this.violation(c, 'MOONPOOL-2.1', 'must', index, ev.t, 'bytes as hex', `unreadable bytes ${JSON.stringify(ev.hex.slice(0, 16))}`, false));
          break;
        }
        if (ev.dir === 'c2s') this.onClientData(ev.conn, bytes, ev.t);
        else this.onServerData(ev.conn, bytes, ev.t, index, out);
        break;
      }
      case 'stream_fin':
        if (ev.dir === 'c2s') this.onClientFin(ev.conn, ev.t);
        else this.onServerEnd(ev.conn, 'server ended its side (FIN)', ev.t, index, out);
        break;
      case 'stream_reset': {
        // RESET_STREAM is sent by the writer of `dir`, STOP_SENDING by its reader.
        const byClient = (ev.kind === 'reset') === (ev.dir === 'c2s');
        if (byClient) this.onClientGone(ev.conn, ev.t);
        else this.onServerEnd(ev.conn, `server reset the connection (code ${ev.code})`, ev.t, index, out);
        break;
      }
      case 'note':
        this.onNote(ev.text, ev.t);
        break;
      case 'impair':
        this.onImpair(ev.kind, ev.conn, ev.t);
        break;
      case 'stream_open':
      case 'conn_fail':
        break;
    }
    return out;
  }

  /** Moves time to `t` (µs); in monitor mode reports replies and closes that are overdue. */
  advance(t: number): Violation[] {
    if (t > this.now) this.now = t;
    const out: Violation[] = [];
    if (this.mode === 'monitor') for (const c of this.conns.values()) if (!c.closed) this.checkOverdue(c, out);
    return out;
  }

  // ------------------------------------------------------------ server side

  /**
   * What a conforming server does at time `t` (server mode): replies to
   * every outstanding request (PONG to PING; an echo to other payloads when
   * `otherPayloads` is `reply`), then the closes owed (framing error, after
   * the client's FIN, idle timeout). The caller performs them and feeds them
   * back as events, so the model sees its own output.
   */
  due(t: number): ServerAction[] {
    this.advance(t);
    const acts: ServerAction[] = [];
    for (const c of this.conns.values()) {
      if (c.closed) continue;
      // Every reply due on a connection goes out in one write (in arrival order).
      const replies: Envelope[] = [];
      for (const r of c.outstanding) {
        const payload = r.ping ? PONG : this.profile.otherPayloads === 'reply' ? r.payload : undefined;
        if (payload) replies.push({ correlationId: r.id, payload });
      }
      if (replies.length) acts.push({ type: 'send', conn: c.id, stream: STREAM, bytes: encodeEnvelopes(replies) });
      const close = this.serverClose(c, t);
      if (close) acts.push({ type: 'close', conn: c.id, code: close.code, reason: `${close.rule} ${close.why}`, rule: close.rule });
    }
    return acts;
  }

  /** Server mode: the earliest time (µs) at which {@link due} has something. */
  nextDue(): number | undefined {
    let next: number | undefined;
    const at = (x: number) => (next = next === undefined ? x : Math.min(next, x));
    for (const c of this.conns.values()) {
      if (c.closed) continue;
      if (c.outstanding.some((r) => r.ping || this.profile.otherPayloads === 'reply')) at(this.now);
      if (c.close || (c.finAt !== undefined && this.owedReplies(c) === 0)) at(this.now);
      else if (this.profile.idleTimeoutMs > 0 && this.owedReplies(c) === 0) at(c.lastRx + this.profile.idleTimeoutMs * US);
    }
    return next;
  }

  // --------------------------------------------------------------- monitor

  /** Monitor mode: earliest time (µs) at which {@link advance} could report something. */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const c of this.conns.values()) {
      if (c.closed) continue;
      for (const o of this.obligations(c)) next = next === undefined ? o.hi + 1 : Math.min(next, o.hi + 1);
    }
    return next;
  }

  /** True when no live connection is owed a reply or a close, and none is stalled with anything owed. */
  settled(): boolean {
    for (const c of this.conns.values()) {
      if (c.closed) continue;
      if (c.close || this.owedReplies(c) > 0) return false;
      if (c.finAt !== undefined && !c.finReported) return false;
    }
    return true;
  }

  /** Number of connections the model considers live. */
  liveConnections(): number {
    let n = 0;
    for (const c of this.conns.values()) if (!c.closed) n++;
    return n;
  }

  /** Bytes of an incomplete client envelope held on a connection (0 when none or unknown). */
  partialRequestBytes(conn: number): number {
    return this.conns.get(conn)?.rx.partial ?? 0;
  }

  /** Labels of the states and transitions reached so far (a subset of {@link COVERAGE_LABELS}), for fuzzing coverage. */
  coverage(): string[] {
    return [...this.covered];
  }

  /** One-line description of every connection's state. */
  describe(): string {
    const parts = [...this.conns.values()].map((c) => this.describeConn(c));
    return parts.length ? parts.join('; ') : 'no connection';
  }

  // ---------------------------------------------------------------- events

  private newConn(id: number, t: number): ConnState {
    // The monitor reads server bytes with the SPEC's limit (2.5); the server mode needs no tx decoding beyond that.
    return {
      id, openedAt: t, rx: new FrameDecoder(this.profile.maxPayloadBytes), tx: new FrameDecoder(this.profile.maxPayloadBytes),
      outstanding: [], answered: new Set(), hidden: undefined, lastRx: t, finAt: undefined, finReported: false, lastReplyAt: t,
      close: undefined, stalled: false, wasStalled: false, closed: false,
    };
  }

  private live(conn: number): ConnState | undefined {
    const c = this.conns.get(conn);
    return c && !c.closed ? c : undefined;
  }

  private onClientData(conn: number, bytes: Uint8Array, t: number): void {
    const c = this.live(conn);
    if (!c || bytes.length === 0) return;
    if (c.hidden) return readHidden(c.hidden, bytes);
    if (c.close || c.finAt !== undefined) return;
    c.lastRx = t;
    const held = c.rx.partial;
    const { envelopes, error } = c.rx.push(bytes);
    if (envelopes.length > 1) this.covered.add('transition:coalesced');
    if (held > 0 && envelopes.length > 0) this.covered.add('transition:split');
    for (const e of envelopes) {
      const ping = isPing(e.payload);
      this.covered.add(ping ? 'transition:ping' : e.payload.length === 0 ? 'transition:empty-payload' : 'transition:other-payload');
      if (e.payload.length === this.profile.maxPayloadBytes) this.covered.add('transition:max-payload');
      if (e.correlationId === 0n || e.correlationId > SAFE_ID) this.covered.add('transition:edge-id');
      if (!ping && this.mode === 'server' && this.profile.otherPayloads === 'ignore') continue; // MOONPOOL-4.3
      // The monitor keeps only the head of a payload (for reports); the server needs it whole to echo it.
      const payload = ping || this.mode === 'server' ? e.payload : e.payload.slice(0, 64);
      if (c.outstanding.some((r) => r.id === e.correlationId)) this.covered.add('state:duplicate-id-in-flight');
      c.outstanding.push({ id: e.correlationId, ping, payload, t, due: ping && !c.stalled ? t + this.deadline : undefined, viaStall: false });
    }
    if (this.owedReplies(c) > 1) this.covered.add('state:pings-in-flight');
    if (error) {
      this.framingError(c, error, t);
      if (error instanceof OversizedEnvelopeError && this.mode === 'monitor') {
        // This chunk's bytes up to the end of the oversized header were taken; the rest is what the server must not read.
        const used = envelopes.reduce((n, e) => n + HEADER_SIZE + e.payload.length, 0) + HEADER_SIZE - held;
        c.hidden = { skip: error.length, dec: new FrameDecoder(MAX_LENGTH_FIELD), ids: new Set() };
        readHidden(c.hidden, bytes.subarray(used));
      }
    } else if (c.rx.partial > 0) this.covered.add(c.rx.partial < HEADER_SIZE ? 'state:partial-header' : 'state:partial-payload');
  }

  private onClientFin(conn: number, t: number): void {
    const c = this.live(conn);
    if (!c || c.close || c.finAt !== undefined) return;
    const truncated = c.rx.finish();
    if (truncated) this.framingError(c, truncated, t);
    else {
      c.finAt = t;
      this.covered.add('transition:client-fin').add('state:client-fin');
    }
  }

  private framingError(c: ConnState, err: EnvelopeError, t: number): void {
    const rule = err.rule === 'MOONPOOL-5.1' ? 'MOONPOOL-5.1' : 'MOONPOOL-5.2';
    c.close = { rule, why: `ParseError: ${err.message}`, at: t, hi: c.stalled ? Infinity : t + this.deadline, code: CLOSE_CODE.PARSE_ERROR };
    this.context = { rule: 'MOONPOOL-5.3', conn: c.id, t };
    this.covered.add(`transition:close-owed-${rule}`).add('state:conn-closing');
  }

  private onClientGone(conn: number, t: number): void {
    const c = this.live(conn);
    if (!c) return;
    if (c.rx.partial > 0 || this.owedReplies(c) > 0) this.context = { rule: 'MOONPOOL-6.3', conn: c.id, t };
    this.covered.add(c.rx.partial > 0 && !c.close ? 'transition:client-gone-mid-frame' : 'transition:close-by-client');
    c.closed = true;
  }

  private onServerData(conn: number, bytes: Uint8Array, t: number, index: number, out: Violation[]): void {
    const c = this.live(conn);
    if (!c || bytes.length === 0) return;
    const { envelopes, error } = c.tx.push(bytes);
    for (const e of envelopes) {
      const v = this.onReply(c, e.correlationId, e.payload, t, index);
      if (v) {
        out.push(v);
        return;
      }
    }
    if (error) {
      out.push(this.violation(c, 'MOONPOOL-2.5', 'must', index, t, `well-formed envelopes of at most ${this.profile.maxPayloadBytes} bytes`, `server sent ${error.message}`, false));
    }
  }

  private onReply(c: ConnState, id: bigint, payload: Uint8Array, t: number, index: number): Violation | undefined {
    // Several requests may share an id (a client reusing an outstanding id, MOONPOOL-3.1): a PONG answers a
    // PING of that id first, any other payload another request first (with `otherPayloads: ignore` a PING
    // still), so a conforming server is never blamed for the pairing the model picks.
    const pong = bytesEqual(payload, PONG);
    const reply = this.profile.otherPayloads === 'reply';
    let i = c.outstanding.findIndex((r) => r.id === id && r.ping === pong && (r.ping || reply));
    if (i < 0 && !reply) i = c.outstanding.findIndex((r) => r.id === id && r.ping); // `ignore`: only a PING is ever answered
    if (i < 0) i = c.outstanding.findIndex((r) => r.id === id);
    if (i < 0) {
      const again = c.answered.has(id);
      if (!again && c.hidden?.ids.has(id)) {
        return this.violation(c, 'MOONPOOL-5.1', 'must', index, t, `no reply to the oversized envelope or to any byte after it (${this.outstandingText(c)})`, `reply ${idText(id)} ${describePayload(payload)} to a request after the oversized header`, false);
      }
      return this.violation(
        c, again ? 'MOONPOOL-3.3' : 'MOONPOOL-3.2', 'must', index, t,
        again ? `at most one reply per request (${idText(id)} was answered)` : `replies only to outstanding requests (${this.outstandingText(c)})`,
        `reply ${idText(id)} ${describePayload(payload)}`, false,
      );
    }
    const r = c.outstanding[i]!;
    c.outstanding.splice(i, 1);
    if (this.mode === 'monitor') c.answered.add(id);
    c.lastReplyAt = t;
    this.covered.add(r.ping ? 'transition:reply' : 'transition:reply-other');
    if (r.viaStall || c.stalled) this.covered.add('transition:reply-across-stall');
    if (r.ping && !bytesEqual(payload, PONG)) {
      return this.violation(c, 'MOONPOOL-4.1', 'must', index, t, `reply ${idText(id)} "PONG"`, `reply ${idText(id)} ${describePayload(payload)}`, false);
    }
    if (!r.ping && this.profile.otherPayloads === 'ignore') {
      return this.violation(c, 'MOONPOOL-4.3', 'must', index, t, `no reply to the non-PING request ${idText(id)} ${describePayload(r.payload)} (otherPayloads: ignore)`, `reply ${idText(id)} ${describePayload(payload)}`, false);
    }
    return undefined;
  }

  /** The server ended the connection (FIN, close, reset) or the transport did. */
  private onServerEnd(conn: number, seen: string, t: number, index: number, out: Violation[]): void {
    const c = this.live(conn);
    if (!c) return;
    c.closed = true;
    this.covered.add(c.finAt !== undefined && !c.close ? 'transition:close-after-fin' : 'transition:close-by-server');
    if (this.mode === 'server') return;
    const owed = c.outstanding.filter((r) => r.ping);
    const owedText = owed.map((r) => idText(r.id)).join(', ');
    // SPEC §10: a reply missed on a connection that went through a stall (owed across it) is MOONPOOL-7.2.
    const lost = owed.some((r) => r.viaStall || r.due === undefined) ? 'MOONPOOL-7.2' : undefined;
    if (c.tx.partial > 0) {
      out.push(this.violation(c, 'MOONPOOL-2.5', 'must', index, t, 'whole envelopes before the end of the stream', `${seen} inside a reply (${c.tx.partial} of ${c.tx.need ?? '?'} bytes)`, false));
      return;
    }
    if (c.close) {
      if (owed.length > 0) out.push(this.violation(c, lost ?? c.close.rule, 'must', index, t, `replies to ${owedText} (received before the malformed frame), then the close`, `${seen} with the replies missing`, false));
      return;
    }
    if (c.finAt !== undefined) {
      if (owed.length > 0) out.push(this.violation(c, lost ?? 'MOONPOOL-6.2', 'must', index, t, `replies to ${owedText} before the close (the client's FIN only ends its requests)`, `${seen} with the replies missing`, false));
      return;
    }
    const idle = this.profile.idleTimeoutMs * US;
    if (idle > 0 && owed.length === 0 && t >= c.lastRx + idle - this.tol) {
      this.covered.add('transition:idle-close'); // MOONPOOL-7.4
      return;
    }
    const rule = c.stalled || c.wasStalled ? 'MOONPOOL-7.1' : (this.contextRule(c, t) ?? 'MOONPOOL-6.4');
    const expected = c.stalled || c.wasStalled
      ? 'the connection to stay open through the stall (a temporary cut is not a loss)'
      : `the connection to stay open (no framing error, no client FIN${idle > 0 ? `, idle only since ${this.rel(c, c.lastRx)}` : ', no idle timeout declared'})${owed.length ? `; replies owed: ${owedText}` : ''}`;
    out.push(this.violation(c, rule, 'must', index, t, expected, seen, false));
  }

  private onNote(text: string, t: number): void {
    const m = NOTE.exec(text);
    if (m) this.onImpair(m[1] as 'stall' | 'restore' | 'cut', Number(m[2]), t);
  }

  /** A deliberate network impairment of a connection (trace v2 `impair` event, or a v1 note): SPEC §10. */
  private onImpair(kind: 'stall' | 'restore' | 'cut', conn: number, t: number): void {
    const c = this.live(conn);
    if (!c) return;
    if (kind !== 'cut') this.covered.add(`transition:${kind}`);
    if (kind === 'stall') {
      this.covered.add('state:stalled');
      c.stalled = true;
      c.wasStalled = true;
      for (const r of c.outstanding) if (r.ping) r.due = undefined;
      if (c.close) c.close.hi = Infinity;
    } else if (kind === 'restore') {
      c.stalled = false;
      for (const r of c.outstanding) {
        if (!r.ping) continue;
        r.due = Math.max(r.due ?? 0, t + this.deadline);
        r.viaStall = true;
      }
      if (c.close) c.close.hi = Math.max(c.close.at + this.deadline, t + this.deadline);
    } else {
      c.closed = true; // MOONPOOL-3.5: what was outstanding is lost with the connection; nothing more is owed.
      this.context = { rule: 'MOONPOOL-8.5', conn: c.id, t }; // a reconnecting client must be served at once
    }
  }

  // --------------------------------------------------------------- helpers

  /** Replies a connection owes now (PINGs; other payloads never owe one). */
  private owedReplies(c: ConnState): number {
    let n = 0;
    for (const r of c.outstanding) if (r.ping) n++;
    return n;
  }

  /** Server mode: the close a conforming server performs on `c` at `t`, if any. */
  private serverClose(c: ConnState, t: number): CloseDue | undefined {
    if (c.close) return c.close;
    if (this.owedReplies(c) > 0) return undefined;
    if (c.finAt !== undefined) return { rule: 'MOONPOOL-6.2', why: 'client ended its requests (FIN); all replies sent', at: t, hi: t, code: CLOSE_CODE.NORMAL };
    const idle = this.profile.idleTimeoutMs * US;
    if (idle > 0 && t >= c.lastRx + idle) return { rule: 'MOONPOOL-7.4', why: `idle for ${this.profile.idleTimeoutMs} ms`, at: t, hi: t, code: CLOSE_CODE.IDLE_TIMEOUT };
    return undefined;
  }

  private contextRule(c: ConnState, t: number): string | undefined {
    const x = this.context;
    return x && x.conn !== c.id && x.t <= t ? x.rule : undefined;
  }

  /** Reactions a connection owes (monitor mode), each with its deadline `hi` (µs). */
  private obligations(c: ConnState): { rule: string; severity: Severity; hi: number; text: string; fin?: boolean }[] {
    const obs: { rule: string; severity: Severity; hi: number; text: string; fin?: boolean }[] = [];
    if (c.stalled) return obs;
    if (c.close) {
      obs.push({ rule: c.close.rule, severity: 'must', hi: c.close.hi, text: `close by ${this.rel(c, c.close.hi)} (${c.close.why})` });
    }
    for (const r of c.outstanding) {
      if (!r.ping || r.due === undefined) continue;
      const rule = r.viaStall ? 'MOONPOOL-7.2' : (this.contextRule(c, r.t) ?? 'MOONPOOL-4.2');
      obs.push({ rule, severity: 'must', hi: r.due, text: `reply ${idText(r.id)} "PONG" by ${this.rel(c, r.due)}${r.viaStall ? ' (the stall ended; nothing may be lost across it)' : ''}` });
    }
    if (c.finAt !== undefined && !c.close && !c.finReported && this.owedReplies(c) === 0) {
      const hi = Math.max(c.finAt, c.lastReplyAt) + this.deadline;
      obs.push({ rule: 'MOONPOOL-6.2', severity: 'should', hi, text: `the server to close its side by ${this.rel(c, hi)} after the client's FIN`, fin: true });
    }
    return obs;
  }

  private checkOverdue(c: ConnState, out: Violation[]): void {
    for (const o of this.obligations(c)) {
      if (this.now <= o.hi) continue;
      out.push(this.violation(c, o.rule, o.severity, -1, o.hi, o.text, 'nothing', true));
      if (o.fin) c.finReported = true;
      else {
        c.closed = true; // A missing MUST reaction ends what this connection can tell.
        return;
      }
    }
  }

  private violation(c: ConnState, rule: string, severity: Severity, index: number, t: number, expected: string, seen: string, missing: boolean): Violation {
    return { rule, severity, index, t, expected: `conn ${c.id}: ${expected}`, seen, state: this.describeConn(c), missing };
  }

  private outstandingText(c: ConnState): string {
    if (c.outstanding.length === 0) return 'none outstanding';
    const ids = c.outstanding.slice(0, 8).map((r) => idText(r.id));
    return `outstanding ${ids.join(', ')}${c.outstanding.length > 8 ? ` and ${c.outstanding.length - 8} more` : ''}`;
  }

  /** Time relative to the connection's open, e.g. `+412.0ms`. */
  private rel(c: ConnState, t: number): string {
    return Number.isFinite(t) ? `+${((t - c.openedAt) / US).toFixed(1)}ms` : 'the end of the stall';
  }

  private describeConn(c: ConnState): string {
    const state = c.closed ? 'closed' : c.close ? `closing(${c.close.rule})` : c.stalled ? 'stalled' : c.finAt !== undefined ? 'client-fin' : 'open';
    const bits: string[] = [];
    const pings = c.outstanding.filter((r) => r.ping).length;
    if (pings) bits.push(`pings owed=${pings}`);
    if (c.outstanding.length > pings) bits.push(`others=${c.outstanding.length - pings}`);
    if (c.rx.partial) bits.push(`partial request=${c.rx.partial}B`);
    if (c.tx.partial) bits.push(`partial reply=${c.tx.partial}B`);
    bits.push(`answered=${c.answered.size}`);
    return `conn ${c.id} ${state} at ${this.rel(c, this.now)} (${bits.join(' ')})`;
  }
}
