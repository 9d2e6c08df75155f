/**
 * The Proton model: the one place where Proton's rules live (SPEC.md).
 *
 * A pure state machine over trace events as one server sees them, across all
 * of its connections. It is used two ways:
 *  - as a **monitor** (`mode: 'monitor'`): fed a whole trace (client and
 *    server events), it reports the first server behaviour the SPEC does not
 *    allow, or a server reaction that did not come in time;
 *  - as the **reference server's core** (`mode: 'server'`): fed client
 *    events, it says what a conforming server does and when ({@link due}),
 *    and is fed back the server's own actions so both views stay one.
 *
 * Time is passed in: `t` is µs on the trace's monotonic clock. No clock is
 * read and no I/O is done here.
 */
import type { TraceEvent } from '../../harness/engine/trace.js';
import { fromHex } from '../../harness/engine/trace.js';
import type { Severity, Violation } from '../../harness/engine/types.js';
import type { ServerAction } from '../../harness/engine/server-core.js';
import {
  CloseCode,
  ItemDecoder,
  closeCodeName,
  commitAnswer,
  encodeItem,
  itemHex,
  streamKindOf,
  type StreamKind,
} from './codec.js';
import type { ProtonProfile } from './profile.js';

/** Whether the model checks a recorded trace or drives a server. */
export type ModelMode = 'monitor' | 'server';

/** A close the server owes on a connection. */
interface CloseDue {
  readonly code: number;
  readonly rule: string;
  /** Why the close is owed, for reports and for the reason phrase. */
  readonly why: string;
  /** When a conforming server closes (µs). */
  readonly at: number;
  /** Acceptance window (µs) in monitor mode. */
  readonly lo: number;
  readonly hi: number;
  /** Exact reason phrase required, if any (PROTON-9.1). */
  readonly reason?: string;
}

/** A reaction owed by the server, with its MUST (or SHOULD) deadline in µs. */
interface Obligation {
  readonly rule: string;
  readonly severity: Severity;
  readonly hi: number;
  /** What is owed, in words (built on demand: this runs for every event). */
  readonly text: () => string;
  /** The stream of an owed FIN (reported once). */
  readonly stream?: StreamState;
}

/** Per-stream state. */
interface StreamState {
  readonly id: number;
  kind: StreamKind | undefined;
  readonly rx: ItemDecoder;
  readonly tx: ItemDecoder;
  /** When the client's current partial item began (µs), if one is pending. */
  partialSince: number | undefined;
  clientFin: boolean;
  serverFin: boolean;
  /** Last client byte (µs), for the idle-request-stream receive timeout. */
  lastRx: number;
  /** Event: last id received (0 before the first). */
  lastId: number;
  /** Event: ids received and not yet acknowledged, with arrival times. */
  readonly acks: { id: number; t: number }[];
  /** StateCommit: the outstanding request. */
  commit: { id: number; t: number } | undefined;
  /** Action: next counter value owed, and when the previous item (or identification) was. */
  counter: number;
  lastItemAt: number;
  /** Time the owed server FIN became owed (µs), and whether a late FIN was reported. */
  finOwedSince: number | undefined;
  finReported: boolean;
}

/** Per-connection state. */
interface ConnState {
  readonly id: number;
  readonly openedAt: number;
  identified: boolean;
  readonly streams: Map<number, StreamState>;
  /** Latest stream of each type. */
  readonly byKind: Map<StreamKind, StreamState>;
  close: CloseDue | undefined;
  closed: boolean;
}

const US = 1000;

/** Rules whose violation or timer makes the server owe a close (labels `transition:close-owed-<rule>`). */
const CLOSE_RULES = ['PROTON-2.2', 'PROTON-3.2', 'PROTON-3.3', 'PROTON-3.4', 'PROTON-3.5', 'PROTON-4.2', 'PROTON-4.6', 'PROTON-5.2', 'PROTON-5.5', 'PROTON-6.1', 'PROTON-7.1', 'PROTON-8.3', 'PROTON-9.1'] as const;

/**
 * The rule a failed liveness check after a fuzz case is reported under
 * (PROTON-8.5: after any close the server frees everything; the next connection is served at once); the model owns it, as it owns the coverage labels.
 */
export const LIVENESS_RULE = 'PROTON-8.5';

/**
 * Every coverage label the model reports ({@link ProtonModel.coverage}):
 * states it reached and transitions it took, in monitor or server mode.
 * `transition:reopen-stream-type` needs profile `reopenStreamType`;
 * `transition:close-owed-PROTON-7.1` a partial item (or, with
 * `ioTimeoutScope: idle-request-stream`, an idle stream) left for `ioTimeoutMs`.
 */
export const COVERAGE_LABELS: readonly string[] = [
  'state:conn-unidentified', 'state:conn-open', 'state:conn-closing',
  'state:stream-event', 'state:stream-commit', 'state:stream-action', 'state:stream-reset',
  'state:acks-pipelined', 'state:partial-item',
  'transition:conn-open', 'transition:close-by-client', 'transition:close-by-server',
  'transition:identify-event', 'transition:identify-commit', 'transition:identify-action', 'transition:identify-reset', 'transition:reopen-stream-type',
  'transition:event-id', 'transition:ack', 'transition:commit-request', 'transition:commit-answer', 'transition:action-item',
  'transition:client-fin-event', 'transition:client-fin-commit', 'transition:client-fin-action', 'transition:server-fin', 'transition:client-abort',
  ...CLOSE_RULES.map((r) => `transition:close-owed-${r}`),
];

/**
 * The Proton state machine. See the module docstring for the two modes.
 * Methods return violations instead of throwing; an event that cannot be
 * interpreted at all (bad hex) is reported as a violation of PROTON-1.3.
 */
export class ProtonModel {
  private readonly conns = new Map<number, ConnState>();
  private readonly tol: number;
  private now = 0;
  /** Frames decoded from the last data event fed (for trace files). */
  private frames: Record<string, unknown>[] = [];
  /** Coverage labels reached so far ({@link COVERAGE_LABELS}). */
  private readonly covered = new Set<string>();

  constructor(
    readonly profile: ProtonProfile,
    readonly mode: ModelMode,
  ) {
    this.tol = profile.toleranceMs * US;
  }

  // ---------------------------------------------------------------- inputs

  /**
   * Feeds one trace event. In monitor mode first advances time to `ev.t`.
   * @returns violations the event (or the time before it) reveals.
   */
  input(ev: TraceEvent, index: number): Violation[] {
    const out = this.advance(ev.t);
    if (this.frames.length) this.frames = [];
    switch (ev.type) {
      case 'conn_open':
        this.onConnOpen(ev.conn, ev.t, out);
        break;
      case 'conn_close':
        this.onConnClose(ev.conn, ev.by, ev.isApp, ev.code, ev.reason, ev.t, index, out);
        break;
      case 'stream_open':
        this.onStreamOpen(ev.conn, ev.stream, ev.by, ev.t, index, out);
        break;
      case 'data': {
        let bytes: Uint8Array;
        try {
          bytes = fromHex(ev.hex);
        } catch {
          out.push(this.violation('PROTON-1.3', 'must', index, ev.t, 'bytes as hex', `unreadable bytes ${JSON.stringify(ev.hex.slice(0, 16))}`, ev.conn, false));
          break;
        }
        if (ev.dir === 'c2s') this.onClientData(ev.conn, ev.stream, bytes, ev.t, index, out);
        else this.onServerData(ev.conn, ev.stream, bytes, ev.t, index, out);
        break;
      }
      case 'stream_fin':
        if (ev.dir === 'c2s') this.onClientFin(ev.conn, ev.stream, ev.t, index, out);
        else this.onServerFin(ev.conn, ev.stream, ev.t, index, out);
        break;
      case 'stream_reset': {
        // RESET_STREAM is sent by the writer of `dir`; STOP_SENDING by its reader.
        const byClient = (ev.kind === 'reset') === (ev.dir === 'c2s');
        if (byClient) this.onClientAbort(ev.conn, ev.stream, ev.kind, ev.code, ev.t, index, out);
        else this.onServerAbort(ev.conn, ev.stream, ev.kind, ev.code, ev.t, index, out);
        break;
      }
      case 'conn_fail':
      case 'note':
        break;
    }
    return out;
  }

  /**
   * Moves time to `t` (µs): fires timers (identification, receive timeout),
   * and in monitor mode reports reactions that are overdue.
   */
  advance(t: number): Violation[] {
    if (t > this.now) this.now = t;
    const out: Violation[] = [];
    for (const c of this.conns.values()) {
      if (c.closed) continue;
      if (c.close === undefined) {
        const timer = this.firstTimer(c);
        if (timer !== undefined && timer.at <= this.now) this.owe(c, timer);
      }
      if (this.mode === 'monitor') this.checkOverdue(c, out);
    }
    return out;
  }

  // ------------------------------------------------------------ server side

  /**
   * What a conforming server does at time `t` (server mode): closes owed,
   * acks, commit answers whose delay passed, action items whose interval
   * passed, FINs owed. The caller performs them and feeds them back as
   * `s2c` events (so the model sees its own output).
   */
  due(t: number): ServerAction[] {
    this.advance(t);
    const acts: ServerAction[] = [];
    // Closes first: other connections before the one that asked for a reset (PROTON-9.1).
    const closing = [...this.conns.values()].filter((c) => !c.closed && c.close !== undefined && c.close.at <= t);
    closing.sort((a, b) => Number(a.close!.reason !== undefined) - Number(b.close!.reason !== undefined));
    for (const c of closing) {
      const cl = c.close!;
      acts.push({ type: 'close', conn: c.id, code: cl.code, reason: cl.reason ?? `${cl.rule} ${cl.why}`, rule: cl.rule });
    }
    for (const c of this.conns.values()) {
      if (c.closed || c.close !== undefined) continue;
      for (const s of c.streams.values()) {
        if (s.serverFin) continue;
        const send = (v: number) => acts.push({ type: 'send', conn: c.id, stream: s.id, bytes: encodeItem(v) });
        if (s.kind === 'event') for (const a of s.acks) send(a.id);
        if (s.kind === 'commit' && s.commit && t >= s.commit.t + this.profile.commitDelayMs * US) send(commitAnswer(s.commit.id));
        if (s.kind === 'action' && t >= s.lastItemAt + this.profile.actionIntervalMs * US) send(s.counter);
        if (this.finOwed(s, true)) acts.push({ type: 'fin', conn: c.id, stream: s.id });
      }
    }
    return acts;
  }

  /** Server mode: the earliest time (µs) at which {@link due} will have something new. */
  nextDue(): number | undefined {
    let next: number | undefined;
    const at = (x: number) => (next = next === undefined ? x : Math.min(next, x));
    for (const c of this.conns.values()) {
      if (c.closed) continue;
      if (c.close) {
        at(c.close.at);
        continue;
      }
      const timer = this.firstTimer(c);
      if (timer) at(timer.at);
      for (const s of c.streams.values()) {
        if (s.serverFin) continue;
        if (s.kind === 'event' && s.acks.length > 0) at(this.now);
        if (s.kind === 'commit' && s.commit) at(s.commit.t + this.profile.commitDelayMs * US);
        if (s.kind === 'action') at(s.lastItemAt + this.profile.actionIntervalMs * US);
        if (this.finOwed(s, true)) at(this.now);
      }
    }
    return next;
  }

  /**
   * A server write could not complete within the send timeout (PROTON-7.2):
   * the connection is owed an IO_TIMEOUT close now.
   */
  sendStalled(conn: number, stream: number, t: number): void {
    this.advance(t);
    const c = this.conns.get(conn);
    if (!c || c.closed || c.close) return;
    this.owe(c, { code: CloseCode.IO_TIMEOUT, rule: 'PROTON-7.2', why: `send on stream ${stream} stalled for ${this.profile.ioTimeoutMs} ms`, at: t, lo: t, hi: t + this.tol });
  }

  // --------------------------------------------------------------- monitor

  /** Monitor mode: earliest time (µs) at which {@link advance} could report or change something. */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    const at = (x: number) => (next = next === undefined ? x : Math.min(next, x));
    for (const c of this.conns.values()) {
      if (c.closed) continue;
      if (c.close) {
        at(c.close.hi + 1);
        continue;
      }
      const timer = this.firstTimer(c);
      if (timer) at(timer.at);
      for (const o of this.obligations(c)) at(o.hi + 1);
    }
    return next;
  }

  /**
   * True when no live connection is owed anything and no timer that would
   * make it owe something is armed (the idle-request-stream timer excepted).
   * An open Action stream is never settled: it always owes the next item.
   */
  settled(): boolean {
    for (const c of this.conns.values()) {
      if (c.closed) continue;
      if (c.close || !c.identified) return false;
      if (this.obligations(c).length > 0) return false;
      for (const s of c.streams.values()) if (s.partialSince !== undefined) return false;
    }
    return true;
  }

  /** What the codec decoded from the last data event fed, or undefined. */
  decoded(): readonly Record<string, unknown>[] | undefined {
    return this.frames.length ? this.frames : undefined;
  }

  /** Type of a stream once identified (undefined before, or for an unknown stream). */
  streamKind(conn: number, stream: number): StreamKind | undefined {
    return this.conns.get(conn)?.streams.get(stream)?.kind;
  }

  /**
   * The rule a discriminator byte breaks when written now as the first byte
   * of a new stream on `conn`: PROTON-3.2 for an unknown byte, PROTON-3.3
   * for a type already open on the connection (unless profile
   * `reopenStreamType` allows it once that stream ended both ways);
   * undefined when it identifies the stream. The one copy of the rule:
   * {@link identify} and the fuzz programs' step names both ask it.
   */
  discriminatorRule(conn: number, disc: number): 'PROTON-3.2' | 'PROTON-3.3' | undefined {
    const kind = streamKindOf(disc);
    if (kind === undefined) return 'PROTON-3.2';
    const prev = this.conns.get(conn)?.byKind.get(kind);
    if (!prev || kind === 'reset') return undefined;
    return this.profile.reopenStreamType && prev.clientFin && prev.serverFin ? undefined : 'PROTON-3.3';
  }

  /** Number of connections the model considers live (not closed). */
  liveConnections(): number {
    let n = 0;
    for (const c of this.conns.values()) if (!c.closed) n++;
    return n;
  }

  /** Labels of the states and transitions reached so far (a subset of {@link COVERAGE_LABELS}), for fuzzing coverage. */
  coverage(): string[] {
    return [...this.covered];
  }

  /** One-line description of the state of every connection. */
  describe(): string {
    const parts: string[] = [];
    for (const c of this.conns.values()) parts.push(this.describeConn(c));
    return parts.length ? parts.join('; ') : 'no connection';
  }

  // ---------------------------------------------------------------- events

  private onConnOpen(id: number, t: number, out: Violation[]): void {
    const c: ConnState = { id, openedAt: t, identified: false, streams: new Map(), byKind: new Map(), close: undefined, closed: false };
    this.covered.add('transition:conn-open').add('state:conn-unidentified');
    const live = [...this.conns.values()].filter((o) => !o.closed && o.close === undefined);
    this.conns.set(id, c);
    if (live.length > 0) {
      // PROTON-2.2: both the live connection and the new one are closed.
      for (const o of [...live, c]) {
        this.owe(o, { code: CloseCode.SECOND_CONNECTION, rule: 'PROTON-2.2', why: `connection ${id} opened while connection ${live[0]!.id} was live`, at: t, lo: t, hi: t + this.tol });
      }
    }
    void out;
  }

  private onConnClose(id: number, by: 'client' | 'server' | 'transport', isApp: boolean, code: number, reason: string, t: number, index: number, out: Violation[]): void {
    const c = this.conns.get(id);
    if (!c || c.closed) return;
    this.covered.add(`transition:close-by-${by}`);
    const seen = `${by} closed the connection (${isApp ? 'application' : 'transport'} code ${closeCodeName(code)}${reason ? `, reason ${JSON.stringify(reason)}` : ''})`;
    if (by === 'server') {
      let due = c.close;
      if (due === undefined) {
        const timer = this.firstTimer(c);
        if (timer && t >= timer.lo) due = timer;
      }
      if (due === undefined) {
        out.push(this.violation('PROTON-2.7', 'must', index, t, `no close: ${this.pendingText(c)}`, seen, id, false));
      } else if (!isApp) {
        out.push(this.violation(due.rule, 'must', index, t, this.closeText(due), seen, id, false));
      } else if (code !== due.code) {
        out.push(this.violation(due.rule, 'must', index, t, this.closeText(due), seen, id, false));
      } else if (t < due.lo) {
        out.push(this.violation(due.rule, 'must', index, t, this.closeText(due), `${seen} too early, at ${this.rel(c, t)}`, id, false));
      } else if (due.reason !== undefined && reason !== due.reason) {
        out.push(this.violation(due.rule, 'must', index, t, this.closeText(due), seen, id, false));
      } else if (reason === '' && due.code !== CloseCode.RESET_OK) {
        out.push(this.violation('PROTON-8.1', 'should', index, t, 'a reason phrase naming the rule broken', seen, id, false));
      }
    } else if (by === 'transport' && this.mode === 'monitor') {
      const expected = c.close ? this.closeText(c.close) : 'the connection to stay up (QUIC keep-alive)';
      out.push(this.violation(c.close ? c.close.rule : 'PROTON-2.4', 'must', index, t, expected, seen, id, false));
    }
    this.closeConn(c);
  }

  private onStreamOpen(conn: number, stream: number, by: 'client' | 'server', t: number, index: number, out: Violation[]): void {
    const c = this.live(conn);
    if (!c) return;
    if (by === 'server') {
      out.push(this.violation('PROTON-2.1', 'must', index, t, 'no server-initiated stream', `server opened stream ${stream}`, conn, false));
      return;
    }
    this.stream(c, stream, t);
  }

  private onClientData(conn: number, stream: number, bytes: Uint8Array, t: number, index: number, out: Violation[]): void {
    const c = this.live(conn);
    if (!c || bytes.length === 0) return;
    const s = this.stream(c, stream, t);
    s.lastRx = t;
    let rest = bytes;
    if (s.kind === undefined) {
      const disc = rest[0]!;
      rest = rest.subarray(1);
      this.frames.push({ discriminator: streamKindOf(disc) ?? `0x${disc.toString(16).padStart(2, '0')}` });
      if (!this.identify(c, s, disc, t)) return;
    }
    switch (s.kind) {
      case 'reset':
        if (rest.length > 0) this.frames.push({ ignored: rest.length });
        return; // PROTON-9.2: bytes after the reset discriminator are ignored.
      case 'action':
        if (rest.length > 0) {
          this.frames.push({ unexpected: rest.length });
          this.clientViolation(c, 'PROTON-6.1', `client wrote ${rest.length} byte(s) on the Action stream ${stream}`, t);
        }
        return;
      case 'event':
      case 'commit': {
        for (const item of s.rx.push(rest)) {
          if (c.close) return;
          this.frames.push({ [s.kind]: item });
          if (s.kind === 'event') {
            if (item <= s.lastId) {
              this.clientViolation(c, 'PROTON-4.2', s.lastId === 0 ? `first event id ${item} is not ≥ 1` : `event id ${item} is not greater than ${s.lastId}`, t);
              return;
            }
            s.lastId = item;
            s.acks.push({ id: item, t });
            this.covered.add(s.acks.length > 1 ? 'state:acks-pipelined' : 'transition:event-id');
          } else {
            if (s.commit) {
              this.clientViolation(c, 'PROTON-5.2', `commit ${item} sent while commit ${s.commit.id} is outstanding`, t);
              return;
            }
            s.commit = { id: item, t };
            this.covered.add('transition:commit-request');
          }
        }
        s.partialSince = s.rx.partial > 0 ? (s.partialSince ?? t) : undefined;
        if (s.rx.partial > 0) {
          this.frames.push({ partial: s.rx.partial });
          this.covered.add('state:partial-item');
        }
        return;
      }
      default:
        return;
    }
  }

  /** Handles a discriminator; returns false when it closed the connection. */
  private identify(c: ConnState, s: StreamState, disc: number, t: number): boolean {
    const kind = streamKindOf(disc);
    if (kind === undefined) {
      this.clientViolation(c, 'PROTON-3.2', `unknown discriminator 0x${disc.toString(16).padStart(2, '0')} on stream ${s.id}`, t);
      return false;
    }
    const prev = c.byKind.get(kind);
    if (prev && this.discriminatorRule(c.id, disc) === 'PROTON-3.3') {
      this.clientViolation(c, 'PROTON-3.3', `second ${kind} stream ${s.id} (stream ${prev.id} is already ${kind})`, t);
      return false;
    }
    if (prev && kind !== 'reset') this.covered.add('transition:reopen-stream-type');
    s.kind = kind;
    c.byKind.set(kind, s);
    c.identified = true;
    this.covered.add(`transition:identify-${kind}`).add(`state:stream-${kind}`).add('state:conn-open');
    if (kind === 'action') {
      s.counter = 1;
      s.lastItemAt = t;
    }
    if (kind === 'reset') {
      // PROTON-9.1: every other live connection with 0x0, then this one with RESET_OK.
      for (const o of this.conns.values()) {
        if (o === c || o.closed || o.close) continue;
        this.owe(o, { code: CloseCode.RESET_OK, rule: 'PROTON-9.1', why: `reset requested on connection ${c.id}`, at: t, lo: t, hi: t + this.tol });
      }
      this.owe(c, { code: CloseCode.RESET_OK, rule: 'PROTON-9.1', why: 'reset requested', at: t, lo: t, hi: t + this.tol, reason: 'RESET_OK' });
    }
    return true;
  }

  private onClientFin(conn: number, stream: number, t: number, index: number, out: Violation[]): void {
    const c = this.live(conn);
    if (!c) return;
    const s = this.stream(c, stream, t);
    s.clientFin = true;
    if (s.kind === undefined) {
      this.clientViolation(c, 'PROTON-3.5', `stream ${stream} ended before its discriminator`, t);
    } else if ((s.kind === 'event' || s.kind === 'commit') && s.rx.partial > 0) {
      this.clientViolation(c, s.kind === 'event' ? 'PROTON-4.6' : 'PROTON-5.5', `stream ${stream} ended inside an item (${s.rx.partial} of 4 bytes)`, t);
    } else {
      this.covered.add(`transition:client-fin-${s.kind}`);
      s.partialSince = undefined;
      if (s.acks.length === 0 && !s.commit) s.finOwedSince = t;
    }
    void index;
    void out;
  }

  private onClientAbort(conn: number, stream: number, kind: 'reset' | 'stop_sending', code: number, t: number, index: number, out: Violation[]): void {
    const c = this.live(conn);
    if (!c) return;
    const s = this.stream(c, stream, t);
    if (s.kind === 'reset') return;
    const what = kind === 'reset' ? 'RESET_STREAM' : 'STOP_SENDING';
    this.covered.add('transition:client-abort');
    this.clientViolation(c, s.kind === undefined ? 'PROTON-3.5' : 'PROTON-8.3', `client sent ${what} (code ${code}) on stream ${stream}`, t);
    void index;
    void out;
  }

  private onServerData(conn: number, stream: number, bytes: Uint8Array, t: number, index: number, out: Violation[]): void {
    const c = this.live(conn);
    if (!c || c.close) return; // After a close is owed, stray bytes are tolerated.
    const s = c.streams.get(stream);
    if (!s || s.kind === undefined || s.kind === 'reset') {
      out.push(this.violation('PROTON-3.1', 'must', index, t, 'no server bytes on a stream before its discriminator', `server wrote ${bytes.length} byte(s) on stream ${stream}`, conn, false));
      return;
    }
    if (s.serverFin) {
      out.push(this.violation('PROTON-2.1', 'must', index, t, 'no bytes after the server FIN', `server wrote on stream ${stream} after its FIN`, conn, false));
      return;
    }
    for (const item of s.tx.push(bytes)) {
      this.frames.push({ [s.kind === 'event' ? 'ack' : s.kind === 'commit' ? 'answer' : 'action']: item });
      const v = this.onServerItem(c, s, item, t, index);
      if (v) {
        out.push(v);
        if (v.severity === 'must') return;
      }
    }
  }

  private onServerItem(c: ConnState, s: StreamState, item: number, t: number, index: number): Violation | undefined {
    const tol = this.tol;
    const P = this.profile;
    switch (s.kind) {
      case 'event': {
        const head = s.acks[0];
        if (!head) return this.violation('PROTON-4.3', 'must', index, t, 'no ack (no event outstanding)', `ack ${itemHex(item)} on stream ${s.id}`, c.id, false);
        if (item !== head.id) return this.violation('PROTON-4.3', 'must', index, t, `ack ${itemHex(head.id)} on stream ${s.id}`, `ack ${itemHex(item)}`, c.id, false);
        s.acks.shift();
        this.covered.add('transition:ack');
        if (s.clientFin && s.acks.length === 0) s.finOwedSince = t;
        return undefined;
      }
      case 'commit': {
        const req = s.commit;
        if (!req) return this.violation('PROTON-5.1', 'must', index, t, 'no answer (no commit outstanding)', `answer ${itemHex(item)} on stream ${s.id}`, c.id, false);
        const want = commitAnswer(req.id);
        if (item !== want) return this.violation('PROTON-5.1', 'must', index, t, `answer ${itemHex(want)} (2 × ${req.id} mod 2^32) on stream ${s.id}`, `answer ${itemHex(item)}`, c.id, false);
        s.commit = undefined;
        this.covered.add('transition:commit-answer');
        if (s.clientFin) s.finOwedSince = t;
        const at = req.t + P.commitDelayMs * US;
        if (t < at - tol || t > at + tol) {
          return this.violation('PROTON-5.3', 'should', index, t, `answer after the ${P.commitDelayMs} ms processing delay (at ${this.rel(c, at)} ± ${P.toleranceMs} ms)`, `answer at ${this.rel(c, t)}`, c.id, false);
        }
        return undefined;
      }
      case 'action': {
        if (item !== s.counter) return this.violation('PROTON-6.2', 'must', index, t, `action item ${s.counter}`, `action item ${item}`, c.id, false);
        const at = s.lastItemAt + P.actionIntervalMs * US;
        s.counter = (s.counter + 1) % 0x1_0000_0000;
        this.covered.add('transition:action-item');
        s.lastItemAt = t;
        if (t < at - tol || t > at + tol) {
          return this.violation('PROTON-6.3', 'should', index, t, `action item ${item} at ${this.rel(c, at)} ± ${P.toleranceMs} ms (one per ${P.actionIntervalMs} ms)`, `at ${this.rel(c, t)}`, c.id, false);
        }
        return undefined;
      }
      default:
        return undefined;
    }
  }

  private onServerFin(conn: number, stream: number, t: number, index: number, out: Violation[]): void {
    const c = this.live(conn);
    if (!c || c.close) return;
    const s = c.streams.get(stream);
    if (!s) return;
    if (s.kind === 'action') {
      out.push(this.violation('PROTON-6.2', 'must', index, t, `action item ${s.counter} (the push goes on while the connection lives)`, `server ended action stream ${stream}`, conn, false));
    } else if (s.kind === 'event' || s.kind === 'commit') {
      if (!s.clientFin || s.acks.length > 0 || s.commit) {
        const rule = s.kind === 'event' ? 'PROTON-4.5' : 'PROTON-5.4';
        out.push(this.violation(rule, 'must', index, t, s.clientFin ? `${this.pendingText(c)} before the FIN` : 'no FIN before the client’s FIN', `server ended stream ${stream}`, conn, false));
      }
    }
    s.serverFin = true;
    s.finOwedSince = undefined;
    this.covered.add('transition:server-fin');
  }

  private onServerAbort(conn: number, stream: number, kind: 'reset' | 'stop_sending', code: number, t: number, index: number, out: Violation[]): void {
    const c = this.live(conn);
    if (!c || c.close) return;
    const what = kind === 'reset' ? 'RESET_STREAM' : 'STOP_SENDING';
    out.push(this.violation('PROTON-8.4', 'must', index, t, 'no stream abort (a fatal error closes the connection)', `server sent ${what} (code ${code}) on stream ${stream}`, conn, false));
  }

  // --------------------------------------------------------------- helpers

  /** Marks a connection closed and forgets it: memory stays bounded over long traces. */
  private closeConn(c: ConnState): void {
    c.closed = true;
    this.conns.delete(c.id);
  }

  private live(conn: number): ConnState | undefined {
    const c = this.conns.get(conn);
    return c && !c.closed ? c : undefined;
  }

  private stream(c: ConnState, id: number, t: number): StreamState {
    let s = c.streams.get(id);
    if (!s) {
      s = {
        id, kind: undefined, rx: new ItemDecoder(), tx: new ItemDecoder(), partialSince: undefined,
        clientFin: false, serverFin: false, lastRx: t, lastId: 0, acks: [], commit: undefined,
        counter: 1, lastItemAt: t, finOwedSince: undefined, finReported: false,
      };
      c.streams.set(id, s);
    }
    return s;
  }

  /** The client broke a rule: the connection is owed PROTOCOL_VIOLATION now (PROTON-8.1). */
  private clientViolation(c: ConnState, rule: string, why: string, t: number): void {
    this.owe(c, { code: CloseCode.PROTOCOL_VIOLATION, rule, why, at: t, lo: t, hi: t + this.tol });
  }

  private owe(c: ConnState, due: CloseDue): void {
    if (c.close) return;
    c.close = due;
    this.covered.add(`transition:close-owed-${due.rule}`).add('state:conn-closing');
  }

  /** Whether the server owes a FIN on `s` now (server mode: immediately; monitor: since `finOwedSince`). */
  private finOwed(s: StreamState, serverMode: boolean): boolean {
    if (s.serverFin || !s.clientFin) return false;
    if (s.kind !== 'event' && s.kind !== 'commit') return false;
    if (s.acks.length > 0 || s.commit || s.rx.partial > 0) return false;
    if (serverMode) return true;
    return s.finOwedSince !== undefined;
  }

  /** The timer that fires first on a connection with no close owed yet. */
  private firstTimer(c: ConnState): CloseDue | undefined {
    // Hot path (every event): find the earliest timer with numbers only, then build its description.
    const P = this.profile;
    let at = Infinity;
    let kind: 'ident' | 'partial' | 'idle' | undefined;
    let stream = -1;
    if (!c.identified) {
      at = c.openedAt + P.identTimeoutMs * US;
      kind = 'ident';
    }
    for (const s of c.streams.values()) {
      if (s.kind !== 'event' && s.kind !== 'commit') continue;
      if (s.partialSince !== undefined) {
        const x = s.partialSince + P.ioTimeoutMs * US;
        if (x < at) [at, kind, stream] = [x, 'partial', s.id];
      } else if (P.ioTimeoutScope === 'idle-request-stream' && !s.clientFin && s.acks.length === 0 && !s.commit) {
        const x = s.lastRx + P.ioTimeoutMs * US;
        if (x < at) [at, kind, stream] = [x, 'idle', s.id];
      }
    }
    if (kind === undefined) return undefined;
    const lo = at - this.tol;
    const hi = at + this.tol;
    if (kind === 'ident') return { code: CloseCode.IDENT_TIMEOUT, rule: 'PROTON-3.4', why: `no stream identified within ${P.identTimeoutMs} ms`, at, lo, hi };
    const why = kind === 'partial' ? `item on stream ${stream} incomplete for ${P.ioTimeoutMs} ms` : `no request on stream ${stream} for ${P.ioTimeoutMs} ms`;
    return { code: CloseCode.IO_TIMEOUT, rule: 'PROTON-7.1', why, at, lo, hi };
  }

  /** Reactions a connection owes (monitor mode), each with its MUST deadline `hi` (µs); `text` is built only when needed. */
  private obligations(c: ConnState): Obligation[] {
    const P = this.profile;
    const tol = this.tol;
    const obs: Obligation[] = [];
    for (const s of c.streams.values()) {
      if (s.serverFin) continue;
      const head = s.acks[0];
      if (s.kind === 'event' && head) {
        const hi = head.t + tol;
        obs.push({ rule: 'PROTON-4.3', severity: 'must', hi, text: () => `ack ${itemHex(head.id)} on stream ${s.id} by ${this.rel(c, hi)}` });
      }
      const commit = s.commit;
      if (s.kind === 'commit' && commit) {
        const hi = commit.t + P.ioTimeoutMs * US;
        obs.push({ rule: 'PROTON-5.3', severity: 'must', hi, text: () => `answer ${itemHex(commitAnswer(commit.id))} on stream ${s.id} by ${this.rel(c, hi)}` });
      }
      if (s.kind === 'action') {
        const hi = s.lastItemAt + 2 * P.actionIntervalMs * US + tol;
        const counter = s.counter;
        obs.push({ rule: 'PROTON-6.3', severity: 'must', hi, text: () => `action item ${counter} on stream ${s.id} by ${this.rel(c, hi)}` });
      }
      if (this.finOwed(s, false) && !s.finReported) {
        const hi = s.finOwedSince! + tol;
        obs.push({ rule: s.kind === 'event' ? 'PROTON-4.5' : 'PROTON-5.4', severity: 'should', hi, text: () => `FIN on stream ${s.id} by ${this.rel(c, hi)}`, stream: s });
      }
    }
    return obs;
  }

  private checkOverdue(c: ConnState, out: Violation[]): void {
    if (c.close) {
      if (this.now > c.close.hi) {
        out.push(this.violation(c.close.rule, 'must', -1, c.close.hi, this.closeText(c.close), 'no close', c.id, true));
        this.closeConn(c); // Reported once.
      }
      return;
    }
    for (const o of this.obligations(c)) {
      if (this.now <= o.hi) continue;
      out.push(this.violation(o.rule, o.severity, -1, o.hi, o.text(), 'nothing', c.id, true));
      if (o.stream) o.stream.finReported = true;
      else {
        this.closeConn(c); // A missing MUST reaction ends what this connection can tell.
        return;
      }
    }
  }

  private violation(rule: string, severity: Severity, index: number, t: number, expected: string, seen: string, conn: number, missing: boolean): Violation {
    const c = this.conns.get(conn);
    return { rule, severity, index, t, expected: `conn ${conn}: ${expected}`, seen, state: c ? this.describeConn(c) : this.describe(), missing };
  }

  private closeText(d: CloseDue): string {
    const c = [...this.conns.values()].find((x) => x.close === d);
    const when = c ? `between ${this.rel(c, d.lo)} and ${this.rel(c, d.hi)}` : '';
    return `close ${closeCodeName(d.code)}${d.reason !== undefined ? ` reason ${JSON.stringify(d.reason)}` : ''} ${when} (${d.why})`;
  }

  private pendingText(c: ConnState): string {
    const obs = this.obligations(c).map((o) => o.text());
    return obs.length ? obs.join(', ') : 'nothing owed';
  }

  /** Time relative to the connection's open, e.g. `+412.0ms`. */
  private rel(c: ConnState, t: number): string {
    return `+${((t - c.openedAt) / US).toFixed(1)}ms`;
  }

  private describeConn(c: ConnState): string {
    const state = c.closed ? 'closed' : c.close ? `closing(${closeCodeName(c.close.code)})` : c.identified ? 'open' : 'unidentified';
    const streams = [...c.streams.values()].map((s) => {
      const bits: string[] = [];
      if (s.kind === 'event') bits.push(`lastId=${s.lastId}`, `acksOwed=[${s.acks.map((a) => a.id).join(',')}]`);
      if (s.kind === 'commit') bits.push(`outstanding=${s.commit ? s.commit.id : 'none'}`);
      if (s.kind === 'action') bits.push(`next=${s.counter}`);
      if (s.rx.partial) bits.push(`partial=${s.rx.partial}B`);
      if (s.clientFin) bits.push('clientFin');
      if (s.serverFin) bits.push('serverFin');
      return `${s.id}:${s.kind ?? 'unidentified'}${bits.length ? `(${bits.join(' ')})` : ''}`;
    });
    return `conn ${c.id} ${state} at ${this.rel(c, this.now)}${streams.length ? ` streams ${streams.join(' ')}` : ''}`;
  }
}
