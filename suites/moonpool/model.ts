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
 * I/O is done here. Trace `impair` events (SPEC §10: stall, restore, cut
 * of a connection) tell the monitor about deliberate network impairments;
 * the server's own view has none, so server mode ignores them.
 *
 * Every timed obligation is one record of {@link moonpoolObligations}
 * (harness/engine/obligations.ts); server mode acts at each record's
 * nominal time and the monitor judges by each record's window.
 *
 * For the fuzzer, the model labels the states it reaches and the
 * transitions it takes ({@link COVERAGE_LABELS}, {@link MoonpoolModel.coverage}).
 */
import type { TraceEvent } from '../../harness/engine/trace.js';
import { fromHex, type ImpairKind } from '../../harness/engine/trace.js';
import { upgradeV1Event } from '../../harness/traces/file.js';
import type { Severity, Violation } from '../../harness/engine/types.js';
import type { ServerAction } from '../../harness/engine/server-core.js';
import {
  arm,
  defineObligations,
  dueBy,
  judge,
  nextDeadlineOf,
  nextDueOf,
  overdueAt,
  windowOf,
  windowText,
  type Armed,
  type Band,
  type ObligationTable,
} from '../../harness/engine/obligations.js';
import { bytesEqual, describePayload, encodeEnvelopes, FrameDecoder, HEADER_SIZE, idText, isPing, MAX_LENGTH_FIELD, OversizedEnvelopeError, PONG, type Envelope, type EnvelopeError } from './codec.js';
import type { MoonpoolProfile } from './profile.js';

/** Whether the model checks a recorded trace or drives a server. */
export type ModelMode = 'monitor' | 'server';

/** The one TCP byte stream of a connection, as hosts and drivers number it. */
export const STREAM = 0;

/** Pseudo close code the reference server puts on its close actions (TCP carries none; logs only). */
export const CLOSE_CODE = { NORMAL: 0, PARSE_ERROR: 1, IDLE_TIMEOUT: 2 } as const;

/**
 * What arms a Moonpool obligation, in model terms: `ping` (a PING request
 * received), `restore` (a stall of its connection ended with a PING reply
 * still owed), `other-payload` (a request that is not a PING),
 * `oversized-header` (a header over `maxPayloadBytes`), `truncated-fin` (a
 * client FIN inside an envelope), `client-fin` (the client's FIN, once every
 * reply owed before it is sent), `idle` (the last client byte, no reply owed).
 */
export type MoonpoolTrigger = 'ping' | 'restore' | 'other-payload' | 'oversized-header' | 'truncated-fin' | 'client-fin' | 'idle';

/**
 * Moonpool's timed obligations, one record per rule (SPEC §4–§7), from the
 * profile. `otherPayloads: reply` arms MOONPOOL-4.3 (a MAY); an
 * `idleTimeoutMs` above 0 arms MOONPOOL-7.4 (a MAY).
 * @throws Error when the profile makes a record inconsistent (see `defineObligations`).
 */
export function moonpoolObligations(P: MoonpoolProfile): ObligationTable<MoonpoolTrigger> {
  const D = P.replyDeadlineMs;
  const within: Band = { earliestMs: 0, latestMs: D };
  const any: Band = { earliestMs: 0, latestMs: Infinity };
  const idle: Band = { earliestMs: P.idleTimeoutMs - P.toleranceMs, latestMs: Infinity };
  return defineObligations<MoonpoolTrigger>([
    { rule: 'MOONPOOL-4.2', triggers: ['ping'], nominalMs: 0, should: within, must: within, severity: 'must', owed: { kind: 'answer', what: 'PONG' }, summary: `reply PONG within ${D} ms of the request` },
    { rule: 'MOONPOOL-7.2', triggers: ['restore'], nominalMs: 0, should: within, must: within, severity: 'must', owed: { kind: 'answer', what: 'PONG' }, summary: `reply PONG within ${D} ms of the end of the stall (nothing is lost across it)` },
    { rule: 'MOONPOOL-4.3', triggers: P.otherPayloads === 'reply' ? ['other-payload'] : [], nominalMs: 0, should: any, must: any, severity: 'may', owed: { kind: 'answer', what: 'one reply, any payload (the reference server echoes)' }, summary: 'at most one reply to a request that is not a PING' },
    { rule: 'MOONPOOL-5.1', triggers: ['oversized-header'], nominalMs: 0, should: within, must: within, severity: 'must', owed: { kind: 'close', code: CLOSE_CODE.PARSE_ERROR }, summary: `close within ${D} ms of an oversized header` },
    { rule: 'MOONPOOL-5.2', triggers: ['truncated-fin'], nominalMs: 0, should: within, must: within, severity: 'must', owed: { kind: 'close', code: CLOSE_CODE.PARSE_ERROR }, summary: `close within ${D} ms of a FIN inside an envelope` },
    { rule: 'MOONPOOL-6.2', triggers: ['client-fin'], nominalMs: 0, should: within, must: any, severity: 'should', owed: { kind: 'close', code: CLOSE_CODE.NORMAL }, summary: `close the server's side within ${D} ms of the client's FIN, once every reply is sent` },
    { rule: 'MOONPOOL-7.4', triggers: P.idleTimeoutMs > 0 ? ['idle'] : [], nominalMs: P.idleTimeoutMs, should: idle, must: idle, severity: 'may', owed: { kind: 'close', code: CLOSE_CODE.IDLE_TIMEOUT }, summary: `close after ${P.idleTimeoutMs} ms with no byte received and no reply owed, not earlier than ${P.idleTimeoutMs - P.toleranceMs} ms` },
  ]);
}

/** A request received and not yet answered. */
interface Req {
  readonly id: bigint;
  readonly ping: boolean;
  readonly payload: Uint8Array;
  /** Arrival (µs). */
  readonly t: number;
  /** Monitor: when the clock of its reply runs from (µs): arrival or the restore; undefined while a stall holds it. */
  since: number | undefined;
  /** Its reply is owed across a stall (MOONPOOL-7.2). */
  viaStall: boolean;
}

/** What an armed Moonpool obligation is about. */
interface Subject {
  /** The request a reply is owed to. */
  readonly req?: Req;
  /** Why a close is owed, for reports and the reason phrase. */
  readonly why?: string;
}

/** A Moonpool obligation armed by one trigger instance. */
type MoonpoolArmed = Armed<MoonpoolTrigger, Subject>;

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
  /** The close owed after a framing error (MOONPOOL-5.1, 5.2). */
  close: MoonpoolArmed | undefined;
  /** Between `impair` stall and restore events. */
  stalled: boolean;
  /** Ever stalled. */
  wasStalled: boolean;
  /** Ended (by anyone) or no longer checked (cut by the harness, or a MUST already reported). */
  closed: boolean;
}

const US = 1000;
const NO_SUBJECT: Subject = {};

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
  /** The timed obligations, from the profile ({@link moonpoolObligations}). */
  readonly table: ObligationTable<MoonpoolTrigger>;
  private now = 0;
  /** An earlier event that later failures on other connections are about (SPEC §10). */
  private context: { rule: string; conn: number; t: number } | undefined;
  /** Coverage labels reached so far ({@link COVERAGE_LABELS}). */
  private readonly covered = new Set<string>();

  constructor(
    readonly profile: MoonpoolProfile,
    readonly mode: ModelMode,
  ) {
    this.table = moonpoolObligations(profile);
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
      case 'impair':
        this.onImpair(ev.kind, ev.conn, ev.t);
        break;
      case 'note': {
        // Transitional: a v1 stall note recorded live (a fuzz program's fixture step comment) until the
        // builder (suites/moonpool/fuzz/program.ts) emits fixture `impair` steps; files are upgraded when read.
        const up = upgradeV1Event(ev);
        if (up.type === 'impair') this.onImpair(up.kind, up.conn, up.t);
        break;
      }
      case 'dgram':
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
      // Every reply due on a connection goes out in one write (in arrival order), then the first close due.
      const replies: Envelope[] = [];
      let close: MoonpoolArmed | undefined;
      for (const a of dueBy(this.armedOn(c), t)) {
        const r = a.subject.req;
        if (r) replies.push({ correlationId: r.id, payload: r.ping ? PONG : r.payload });
        else close ??= a;
      }
      if (replies.length) acts.push({ type: 'send', conn: c.id, stream: STREAM, bytes: encodeEnvelopes(replies) });
      if (close?.record.owed.kind === 'close') acts.push({ type: 'close', conn: c.id, code: close.record.owed.code, reason: `${close.record.rule} ${this.why(close)}`, rule: close.record.rule });
    }
    return acts;
  }

  /** Server mode: the earliest time (µs) at which {@link due} has something. */
  nextDue(): number | undefined {
    let next: number | undefined;
    for (const c of this.conns.values()) {
      if (c.closed) continue;
      const x = nextDueOf(this.armedOn(c), this.now);
      if (x !== undefined && (next === undefined || x < next)) next = x;
    }
    return next;
  }

  // --------------------------------------------------------------- monitor

  /** Monitor mode: earliest time (µs) at which {@link advance} could report something. */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const c of this.conns.values()) {
      if (c.closed) continue;
      const x = nextDeadlineOf(this.monitored(c));
      if (x !== undefined && (next === undefined || x < next)) next = x;
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

  /**
   * Marks a connection ended. In server mode its state is dropped too: a
   * reference server runs for ever and needs no history of ended
   * connections (bench/soak.ts found them accumulating); a monitor keeps
   * them for its reports, bounded by its trace.
   */
  private retire(c: ConnState): void {
    c.closed = true;
    if (this.mode === 'server') this.conns.delete(c.id);
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
      c.outstanding.push({ id: e.correlationId, ping, payload, t, since: c.stalled ? undefined : t, viaStall: false });
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
    const trigger = err.rule === 'MOONPOOL-5.1' ? 'oversized-header' : 'truncated-fin';
    const record = this.table.byTrigger(trigger)[0]!;
    const rule = record.rule;
    c.close = arm(record, trigger, t, { why: `ParseError: ${err.message}` });
    this.context = { rule: 'MOONPOOL-5.3', conn: c.id, t };
    this.covered.add(`transition:close-owed-${rule}`).add('state:conn-closing');
  }

  private onClientGone(conn: number, t: number): void {
    const c = this.live(conn);
    if (!c) return;
    if (c.rx.partial > 0 || this.owedReplies(c) > 0) this.context = { rule: 'MOONPOOL-6.3', conn: c.id, t };
    this.covered.add(c.rx.partial > 0 && !c.close ? 'transition:client-gone-mid-frame' : 'transition:close-by-client');
    this.retire(c);
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
    this.retire(c);
    this.covered.add(c.finAt !== undefined && !c.close ? 'transition:close-after-fin' : 'transition:close-by-server');
    if (this.mode === 'server') return;
    const owed = c.outstanding.filter((r) => r.ping);
    const owedText = owed.map((r) => idText(r.id)).join(', ');
    // SPEC §10: a reply missed on a connection that went through a stall (owed across it) is MOONPOOL-7.2.
    const lost = owed.some((r) => r.viaStall || r.since === undefined) ? 'MOONPOOL-7.2' : undefined;
    if (c.tx.partial > 0) {
      out.push(this.violation(c, 'MOONPOOL-2.5', 'must', index, t, 'whole envelopes before the end of the stream', `${seen} inside a reply (${c.tx.partial} of ${c.tx.need ?? '?'} bytes)`, false));
      return;
    }
    if (c.close) {
      if (owed.length > 0) out.push(this.violation(c, lost ?? c.close.record.rule, 'must', index, t, `replies to ${owedText} (received before the malformed frame), then the close`, `${seen} with the replies missing`, false));
      return;
    }
    if (c.finAt !== undefined) {
      if (owed.length > 0) out.push(this.violation(c, lost ?? 'MOONPOOL-6.2', 'must', index, t, `replies to ${owedText} before the close (the client's FIN only ends its requests)`, `${seen} with the replies missing`, false));
      return;
    }
    // MOONPOOL-7.4: a close after the idle timeout is allowed; before it, it breaks that rule (unless a stall or an earlier event explains it).
    const idle = this.armedOn(c).find((a) => a.trigger === 'idle');
    const early = idle && judge(idle, t);
    if (idle && !early) {
      this.covered.add('transition:idle-close');
      return;
    }
    const rule = c.stalled || c.wasStalled ? 'MOONPOOL-7.1' : (this.contextRule(c, t) ?? (idle ? idle.record.rule : 'MOONPOOL-6.4'));
    const expected = c.stalled || c.wasStalled
      ? 'the connection to stay open through the stall (a temporary cut is not a loss)'
      : idle
        ? `the connection to stay open (no framing error, no client FIN; ${idle.record.summary}: idle since ${this.rel(c, c.lastRx)}, a close ${windowText(windowOf(idle, 'must'), (x) => this.rel(c, x))})`
        : `the connection to stay open (no framing error, no client FIN${this.profile.idleTimeoutMs > 0 ? `, idle only since ${this.rel(c, c.lastRx)}` : ', no idle timeout declared'})${owed.length ? `; replies owed: ${owedText}` : ''}`;
    out.push(this.violation(c, rule, 'must', index, t, expected, early ? `${seen} too early, at ${this.rel(c, t)}` : seen, false));
  }

  /** A deliberate impairment of a connection (SPEC §10); the server's own view has none, so server mode ignores it. */
  private onImpair(kind: ImpairKind, conn: number, t: number): void {
    if (this.mode === 'server') return;
    const c = this.live(conn);
    if (!c) return;
    if (kind !== 'cut') this.covered.add(`transition:${kind}`);
    if (kind === 'stall') {
      // Every clock of the connection stops; a close is still checked (MOONPOOL-7.1).
      this.covered.add('state:stalled');
      c.stalled = true;
      c.wasStalled = true;
      for (const r of c.outstanding) if (r.ping) r.since = undefined;
    } else if (kind === 'restore') {
      // Replies owed restart their clock from here under MOONPOOL-7.2; a close owed, from here or its trigger if later.
      c.stalled = false;
      for (const r of c.outstanding) {
        if (!r.ping) continue;
        r.since = t;
        r.viaStall = true;
      }
      if (c.close) c.close = arm(c.close.record, c.close.trigger, Math.max(c.close.since, t), c.close.subject);
    } else {
      this.retire(c); // MOONPOOL-3.5: what was outstanding is lost with the connection; nothing more is owed.
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

  private contextRule(c: ConnState, t: number): string | undefined {
    const x = this.context;
    return x && x.conn !== c.id && x.t <= t ? x.rule : undefined;
  }

  /**
   * The obligations armed on a connection, from its state: the close owed
   * after a framing error; per request, its reply (a PING's under
   * MOONPOOL-4.2, or 7.2 once a stall held it; another payload's when the
   * profile arms 4.3); the close after the client's FIN once every reply is
   * sent; the idle close. A PING reply a stall holds is left out.
   */
  private armedOn(c: ConnState): MoonpoolArmed[] {
    const out: MoonpoolArmed[] = [];
    const put = (trigger: MoonpoolTrigger, since: number, subject: Subject) => {
      for (const r of this.table.byTrigger(trigger)) out.push(arm(r, trigger, since, subject));
    };
    if (c.close) out.push(c.close);
    for (const r of c.outstanding) {
      if (!r.ping) put('other-payload', r.t, { req: r });
      else if (r.since !== undefined) put(r.viaStall ? 'restore' : 'ping', r.since, { req: r });
    }
    if (!c.close && this.owedReplies(c) === 0) {
      if (c.finAt !== undefined) put('client-fin', Math.max(c.finAt, c.lastReplyAt), { why: 'client ended its requests (FIN); all replies sent' });
      else put('idle', c.lastRx, NO_SUBJECT);
    }
    return out;
  }

  /** Monitor mode: what is checked on a connection now: nothing while a stall holds it; a SHOULD once reported, no more. */
  private monitored(c: ConnState): MoonpoolArmed[] {
    if (c.stalled) return [];
    const armed = this.armedOn(c);
    return c.finReported ? armed.filter((a) => a.trigger !== 'client-fin') : armed;
  }

  /** Why a close is owed, in words. */
  private why(a: MoonpoolArmed): string {
    if (a.subject.why !== undefined) return a.subject.why;
    return a.trigger === 'idle' ? `idle for ${a.record.nominalMs} ms` : a.record.summary;
  }

  /** What `a` owes, in words, with its deadline `hi` (µs). */
  private owedText(c: ConnState, a: MoonpoolArmed, hi: number): string {
    const r = a.subject.req;
    if (r) return `reply ${idText(r.id)} "PONG" by ${this.rel(c, hi)}${a.trigger === 'restore' ? ' (the stall ended; nothing may be lost across it)' : ''}`;
    if (a.trigger === 'client-fin') return `the server to close its side by ${this.rel(c, hi)} after the client's FIN`;
    return `close by ${this.rel(c, hi)} (${this.why(a)})`;
  }

  private checkOverdue(c: ConnState, out: Violation[]): void {
    for (const o of overdueAt(this.monitored(c), this.now)) {
      const a = o.armed;
      // SPEC §10: after a framing error, an abrupt disconnect or a cut elsewhere, a missed PING reply names that.
      const rule = a.trigger === 'ping' ? (this.contextRule(c, a.subject.req!.t) ?? a.record.rule) : a.record.rule;
      out.push(this.violation(c, rule, o.severity, -1, o.deadline, this.owedText(c, a, o.deadline), 'nothing', true));
      if (a.trigger === 'client-fin') c.finReported = true; // A SHOULD: reported once; still allowed.
      else {
        this.retire(c); // A missing MUST reaction ends what this connection can tell.
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
    const state = c.closed ? 'closed' : c.close ? `closing(${c.close.record.rule})` : c.stalled ? 'stalled' : c.finAt !== undefined ? 'client-fin' : 'open';
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
