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
 *
 * Every timed obligation is one record of {@link protonObligations}
 * (harness/engine/obligations.ts): server mode acts at each record's nominal
 * time, the monitor judges by each record's window and names its rule.
 */
import { fromHexInto, type DataBytes, type Direction, type TraceEvent } from '../../harness/engine/trace.js';
import type { Severity, Violation } from '../../harness/engine/types.js';
import type { ServerAction } from '../../harness/engine/server-core.js';
import {
  arm,
  deadlineOf,
  inTime,
  defineObligations,
  dueBy,
  judge,
  nextDeadlineOf,
  nextDueOf,
  nominalAt,
  overdueAt,
  windowOf,
  windowText,
  type Armed,
  type Band,
  type ObligationRecord,
  type ObligationTable,
  type TriggerRecords,
} from '../../harness/engine/obligations.js';
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

/** Client violations that make the server owe PROTOCOL_VIOLATION at once (PROTON-8.1, 8.2). */
export const VIOLATION_RULES = ['PROTON-3.2', 'PROTON-3.3', 'PROTON-3.5', 'PROTON-4.2', 'PROTON-4.6', 'PROTON-5.2', 'PROTON-5.5', 'PROTON-6.1', 'PROTON-8.3', 'PROTON-8.6'] as const;
/** A client violation rule ({@link VIOLATION_RULES}). */
export type ViolationRule = (typeof VIOLATION_RULES)[number];

/**
 * What arms a Proton obligation, in model terms. Connection-wide:
 * `handshake` (no stream identified yet since the handshake). Per stream:
 * `stream-visible` (a stream the server can see, not identified: its first
 * frame, or one of a higher-numbered stream of its kind, arrived),
 * `event-id` (an id received, not yet acknowledged), `commit-request` (the
 * outstanding request), `action-item` (the Action stream's identification
 * or previous item), `event-fin` / `commit-fin` (the client's FIN, or its
 * RESET_STREAM under `resetStream: ends-stream`, with nothing left owed
 * before it), `aborted-end` (a client abort that ends the stream under an
 * `ends-stream` reading: the server's end of it is owed), `partial-item`
 * (1–3 bytes of a request item), `idle-request-stream` (the later of the
 * last client byte and the last answer on an identified request stream,
 * not ended, nothing owed). On an event: `send-stalled`
 * (the host's write did not complete), `second-connection`,
 * `reset-requested` (a 0xFF stream, on this connection or another), and
 * `violation:<rule>` (the client broke that rule).
 */
export type ProtonTrigger =
  | 'handshake'
  | 'stream-visible'
  | 'event-id'
  | 'commit-request'
  | 'action-item'
  | 'event-fin'
  | 'commit-fin'
  | 'aborted-end'
  | 'partial-item'
  | 'idle-request-stream'
  | 'send-stalled'
  | 'second-connection'
  | 'reset-requested'
  | `violation:${ViolationRule}`;

/**
 * Proton's timed obligations, one record per rule (SPEC §3–§9), from the
 * profile's timers. The model derives both what its server mode does and
 * when, and what its monitor accepts, from these records alone.
 * The profile's readings select triggers here: `identTimeoutScope` those of
 * PROTON-3.4 (`handshake` or `stream-visible`), `ioTimeoutScope` those of
 * PROTON-7.1 (`partial-item` or `idle-request-stream`; `ioTimeoutStreams`
 * picks the streams that arm them, in `ProtonModel.armedOn`). `resetStream`
 * and `stopSending` select what a client abort is (`ProtonModel.onClientAbort`):
 * a `violation:` trigger or the end of the stream (`event-fin`,
 * `commit-fin`, `aborted-end`); only the records of the readings chosen
 * exist (no `violation:PROTON-8.3` record under `resetStream: ends-stream`).
 * The derivations of both modes stay as they are.
 * @throws Error when the profile makes a record inconsistent (see `defineObligations`).
 */
export function protonObligations(P: ProtonProfile): ObligationTable<ProtonTrigger> {
  const tol = P.toleranceMs;
  /** `ms` after the trigger, ± the tolerance (never before the trigger). */
  const around = (ms: number): Band => ({ earliestMs: Math.max(0, ms - tol), latestMs: ms + tol });
  const at = (ms: number): Band => ({ earliestMs: 0, latestMs: ms });
  const close = (rule: string, triggers: ProtonTrigger[], nominalMs: number, code: number, summary: string, reason?: string): ObligationRecord<ProtonTrigger> => ({
    rule, triggers, nominalMs, should: around(nominalMs), must: around(nominalMs), severity: 'must', owed: { kind: 'close', code, ...(reason !== undefined ? { reason } : {}) }, summary,
  });
  const fin = (rule: string, trigger: ProtonTrigger, kind: string): ObligationRecord<ProtonTrigger> => ({
    rule, triggers: [trigger], nominalMs: 0, should: at(tol), must: at(Infinity), severity: 'should', owed: { kind: 'action', what: 'FIN' }, summary: `FIN on the ${kind} stream once everything before the client's FIN is answered`,
  });
  return defineObligations<ProtonTrigger>([
    { rule: 'PROTON-4.3', triggers: ['event-id'], nominalMs: 0, should: at(tol), must: at(tol), severity: 'must', owed: { kind: 'answer', what: 'the same 4 bytes' }, summary: 'acknowledge each event id' },
    { rule: 'PROTON-5.3', triggers: ['commit-request'], nominalMs: P.commitDelayMs, should: around(P.commitDelayMs), must: at(P.ioTimeoutMs), severity: 'must', owed: { kind: 'answer', what: '(id × 2) mod 2^32' }, summary: `answer after the ${P.commitDelayMs} ms processing delay` },
    { rule: 'PROTON-6.3', triggers: ['action-item'], nominalMs: P.actionIntervalMs, should: around(P.actionIntervalMs), must: at(2 * P.actionIntervalMs + tol), severity: 'must', owed: { kind: 'action', what: 'the next counter value' }, summary: `one action item per ${P.actionIntervalMs} ms` },
    fin('PROTON-4.5', 'event-fin', 'Event'),
    fin('PROTON-5.4', 'commit-fin', 'StateCommit'),
    ...(P.resetStream === 'ends-stream' || P.stopSending === 'ends-stream'
      ? [{ ...fin('PROTON-8.7', 'aborted-end', 'aborted'), summary: 'end of the server side (FIN, or RESET_STREAM after STOP_SENDING) once a client abort ended the stream' }]
      : []),
    P.identTimeoutScope === 'stream'
      ? close('PROTON-3.4', ['stream-visible'], P.identTimeoutMs, CloseCode.IDENT_TIMEOUT, `close IDENT_TIMEOUT when a stream the server sees is not identified within ${P.identTimeoutMs} ms`)
      : close('PROTON-3.4', ['handshake'], P.identTimeoutMs, CloseCode.IDENT_TIMEOUT, `close IDENT_TIMEOUT when no stream is identified within ${P.identTimeoutMs} ms`),
    P.ioTimeoutScope === 'idle-request-stream'
      ? close('PROTON-7.1', ['idle-request-stream'], P.ioTimeoutMs, CloseCode.IO_TIMEOUT, `close IO_TIMEOUT when a request stream (${P.ioTimeoutStreams.join(', ') || 'none'}) stays idle for ${P.ioTimeoutMs} ms`)
      : close('PROTON-7.1', ['partial-item'], P.ioTimeoutMs, CloseCode.IO_TIMEOUT, `close IO_TIMEOUT when a request item (${P.ioTimeoutStreams.join(', ') || 'none'}) is not completed within ${P.ioTimeoutMs} ms`),
    close('PROTON-7.2', ['send-stalled'], 0, CloseCode.IO_TIMEOUT, 'close IO_TIMEOUT when a write stalls for the send timeout'),
    close('PROTON-2.2', ['second-connection'], 0, CloseCode.SECOND_CONNECTION, 'close both connections with SECOND_CONNECTION'),
    close('PROTON-9.1', ['reset-requested'], 0, CloseCode.RESET_OK, 'close with RESET_OK (reason RESET_OK on the requesting connection)', 'RESET_OK'),
    ...VIOLATION_RULES.filter((rule) => (rule !== 'PROTON-8.3' || P.resetStream === 'violation') && (rule !== 'PROTON-8.6' || P.stopSending === 'violation')).map((rule) =>
      close(rule, [`violation:${rule}`], 0, CloseCode.PROTOCOL_VIOLATION, 'close PROTOCOL_VIOLATION'),
    ),
  ]);
}

/** What an armed Proton obligation is about. */
interface Subject {
  /** The stream it is on (stream triggers). */
  readonly stream?: StreamState;
  /** The item owed (ack id, commit id, action counter). */
  readonly item?: number;
  /** Why a close is owed, for reports and the reason phrase (event triggers). */
  readonly why?: string;
  /** The record's exact reason phrase is required (the connection that asked for a reset, PROTON-9.1). */
  readonly exactReason?: boolean;
}

/** A Proton obligation armed by one trigger instance. */
type ProtonArmed = Armed<ProtonTrigger, Subject>;

const NO_SUBJECT: Subject = {};

/** The triggers a connection's state arms ({@link ProtonModel.scanArmed}), by field: what the model asks at every event, with no lookup by trigger name. */
interface StateTriggers {
  readonly handshake: TriggerRecords<ProtonTrigger>;
  readonly streamVisible: TriggerRecords<ProtonTrigger>;
  readonly eventId: TriggerRecords<ProtonTrigger>;
  readonly commitRequest: TriggerRecords<ProtonTrigger>;
  readonly actionItem: TriggerRecords<ProtonTrigger>;
  readonly eventFin: TriggerRecords<ProtonTrigger>;
  readonly commitFin: TriggerRecords<ProtonTrigger>;
  readonly abortedEnd: TriggerRecords<ProtonTrigger>;
  readonly partialItem: TriggerRecords<ProtonTrigger>;
  readonly idleRequestStream: TriggerRecords<ProtonTrigger>;
}

const NO_PAIRS = new Float64Array(0);

/**
 * Event ids received and not yet acknowledged, with their arrival times
 * (µs), oldest first: a ring over one reused array of (id, t) pairs, so
 * an id and its ack allocate nothing.
 */
class AckQueue {
  /** Capacity 0 until the first id (most streams are not Event streams); then a power of two. */
  private buf = NO_PAIRS;
  private head = 0;
  private n = 0;
  /** Arrival time (µs) of the newest id pushed since the queue was last empty. */
  private lastT = -Infinity;
  /** False once an id arrived with an earlier time than the one before it (a hand-made feed) while the queue held ids: {@link minT} then looks at every id. */
  private ordered = true;

  /** Ids held. */
  get length(): number {
    return this.n;
  }

  /** The `i`-th oldest id held. */
  id(i: number): number {
    return this.buf[(this.head + 2 * i) & (this.buf.length - 1)]!;
  }

  /** Arrival time (µs) of the `i`-th oldest id held. */
  t(i: number): number {
    return this.buf[(this.head + 2 * i + 1) & (this.buf.length - 1)]!;
  }

  /** Earliest arrival time (µs) among the ids held, Infinity when none: the oldest's when they arrived in time order (every trace and live feed). */
  minT(): number {
    if (this.n === 0) return Infinity;
    if (this.ordered) return this.t(0);
    let min = Infinity;
    for (let i = 0; i < this.n; i++) min = Math.min(min, this.t(i));
    return min;
  }

  push(id: number, t: number): void {
    if (t < this.lastT) this.ordered = false;
    this.lastT = t;
    let buf = this.buf;
    if (2 * this.n === buf.length) {
      // Full: double, oldest first at 0 (the capacity stays a power of two for the index mask).
      const grown = new Float64Array(Math.max(16, 2 * buf.length));
      for (let i = 0; i < 2 * this.n; i++) grown[i] = buf[(this.head + i) & (buf.length - 1)]!;
      this.buf = buf = grown;
      this.head = 0;
    }
    const at = (this.head + 2 * this.n) & (buf.length - 1);
    buf[at] = id;
    buf[at + 1] = t;
    this.n++;
  }

  /** Drops the oldest id (none held: nothing). */
  shift(): void {
    if (this.n === 0) return;
    this.head = (this.head + 2) & (this.buf.length - 1);
    if (--this.n === 0) this.clear();
  }

  clear(): void {
    this.head = 0;
    this.n = 0;
    this.lastT = -Infinity;
    this.ordered = true;
  }

  /** The ids held, oldest first. */
  ids(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.n; i++) out.push(this.id(i));
    return out;
  }
}

/** What {@link ProtonModel.input} returns when it finds nothing (most events): one shared, frozen empty list. */
const NO_VIOLATIONS: readonly Violation[] = Object.freeze([]);

/** The act judged by {@link ProtonModel.judged}, in words, from the item it answers (functions made once, not per act). */
const ackText = (id: number | undefined): string => `ack ${itemHex(id!)}`;
const answerText = (id: number | undefined): string => `answer ${itemHex(commitAnswer(id!))}`;
const actionText = (item: number | undefined): string => `action item ${item!}`;

/** Keys of the decoded frames ({@link ProtonModel.decoded}): one key per frame object. */
type FrameKey = 'discriminator' | 'ignored' | 'unexpected' | 'event' | 'commit' | 'partial' | 'ack' | 'answer' | 'action';

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
  /** Last server answer (ack, commit answer) (µs), for the idle-request-stream receive timeout. */
  lastAnswer: number;
  /** When the server could first see the stream (µs): a frame of it or of a higher-numbered stream of its kind (PROTON-3.4 `stream`). */
  visibleAt: number | undefined;
  /** The client sent STOP_SENDING and `stopSending` is `ends-stream`: nothing more is owed or allowed on the server side (PROTON-8.6). */
  sendStopped: boolean;
  /** A client abort ended the stream under an `ends-stream` reading; the server's end is owed since then (µs, PROTON-8.7). */
  endOwedSince: number | undefined;
  /** The server sent STOP_SENDING on it: a client RESET_STREAM that follows is the QUIC stack's answer (RFC 9000 §3.5), not the client's act. */
  serverStopped: boolean;
  /** Event: last id received (0 before the first). */
  lastId: number;
  /** Event: ids received and not yet acknowledged, with arrival times. */
  readonly acks: AckQueue;
  /** StateCommit: the outstanding request. */
  commit: { id: number; t: number } | undefined;
  /** Action: next counter value owed, and when the previous item (or identification) was. */
  counter: number;
  lastItemAt: number;
  /** Time the owed server FIN became owed (µs). */
  finOwedSince: number | undefined;
  /** Monitor: rules of SHOULD obligations on this stream already reported late (reported once). */
  readonly reportedLate: Set<string>;
  /**
   * The horizon look's cache ({@link ProtonModel.scanArmed} without `out`):
   * the earliest close-timer nominal time and deadline (µs) the stream's
   * own state arms, valid while `hFresh`. Every change to a stream is made
   * through a reference from `ProtonModel.find` (or `stream`, `see`, which
   * use it), and `find` clears `hFresh`: so an event re-reads only the
   * streams it touched (`reportedLate`, which the horizon does not read, excepted).
   */
  hFresh: boolean;
  hClose: number;
  hDeadline: number;
}

/** Per-connection state. */
interface ConnState {
  readonly id: number;
  readonly openedAt: number;
  identified: boolean;
  readonly streams: Map<number, StreamState>;
  /** The values of {@link streams}, in the same order (streams are never removed): walked at every event without an iterator. */
  readonly streamList: StreamState[];
  /** Latest stream of each type. */
  readonly byKind: Map<StreamKind, StreamState>;
  /** Highest client stream id the server can see, per id type (id & 3): opening one opens every lower one (RFC 9000 §3.2). */
  readonly visibleUpTo: (number | undefined)[];
  /** The stream last looked up ({@link ProtonModel.find}): most events are on the stream of the event before. */
  last: StreamState | undefined;
  /** The close owed (its nominal time reached, or owed at once), if any. */
  close: ProtonArmed | undefined;
  closed: boolean;
  /**
   * A server stream abort no rule allows, held for `toleranceMs`: a QUIC
   * stack closing the connection may abort its streams just before the
   * close, which is then judged instead (PROTON-8.4 otherwise).
   */
  strayAbort: Violation | undefined;
}

const US = 1000;

/**
 * The close `a` owes: its code, and the exact reason phrase required (on
 * the connection that asked for a reset, PROTON-9.1), if any.
 * @throws Error when the record owes no close (a model bug).
 */
function owedClose(a: ProtonArmed): { readonly code: number; readonly reason: string | undefined } {
  const owed = a.record.owed;
  if (owed.kind !== 'close') throw new Error(`Proton model: ${a.record.rule} owes no close`);
  return { code: owed.code, reason: a.subject.exactReason ? owed.reason : undefined };
}

/** The close timer among `armed` that fires first (the first of equals), if any. */
function firstClose(armed: readonly ProtonArmed[]): ProtonArmed | undefined {
  let first: ProtonArmed | undefined;
  for (const a of armed) if (a.record.owed.kind === 'close' && (first === undefined || nominalAt(a) < nominalAt(first))) first = a;
  return first;
}

/** Rules whose violation or timer makes the server owe a close (labels `transition:close-owed-<rule>`). */
const CLOSE_RULES = ['PROTON-2.2', 'PROTON-3.2', 'PROTON-3.3', 'PROTON-3.4', 'PROTON-3.5', 'PROTON-4.2', 'PROTON-4.6', 'PROTON-5.2', 'PROTON-5.5', 'PROTON-6.1', 'PROTON-7.1', 'PROTON-8.3', 'PROTON-8.6', 'PROTON-9.1'] as const;

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
 * `ioTimeoutScope: idle-request-stream`, an idle stream) left for `ioTimeoutMs`;
 * `transition:close-owed-PROTON-8.3` / `-8.6` the `violation` readings of
 * `resetStream` / `stopSending` (their `ends-stream` readings count as `transition:client-abort`).
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

/** Index of a coverage label in {@link COVERAGE_LABELS}. @throws Error when it is not one (a model bug). */
function labelIndex(label: string): number {
  const i = COVERAGE_LABELS.indexOf(label);
  if (i < 0) throw new Error(`Proton model: ${label} is not a coverage label`);
  return i;
}

/** The labels reached at every item (ProtonModel.coverHot). */
const L_EVENT_ID = labelIndex('transition:event-id');
const L_PIPELINED = labelIndex('state:acks-pipelined');
const L_ACK = labelIndex('transition:ack');
const L_COMMIT_REQUEST = labelIndex('transition:commit-request');
const L_COMMIT_ANSWER = labelIndex('transition:commit-answer');
const L_ACTION_ITEM = labelIndex('transition:action-item');
const L_PARTIAL = labelIndex('state:partial-item');

/**
 * The Proton state machine. See the module docstring for the two modes.
 * Methods return violations instead of throwing; an event that cannot be
 * interpreted at all (bad hex) is reported as a violation of PROTON-1.3.
 */
export class ProtonModel {
  private readonly conns = new Map<number, ConnState>();
  /** The values of {@link conns} in order, made when {@link advanceInto} needs them after a change (walked at every event without an iterator). */
  private connList: ConnState[] | undefined;
  /** The connection last looked up ({@link live}), if it is still in {@link conns}. */
  private lastConn: ConnState | undefined;
  /** The timed obligations, from the profile ({@link protonObligations}). */
  readonly table: ObligationTable<ProtonTrigger>;
  private now = 0;
  /**
   * Frames decoded from the last data event fed (for trace files), as
   * (key, value) pairs: {@link decoded} makes the objects, only when asked
   * (validation never asks: no object per frame on its path).
   */
  private readonly frameKeys: FrameKey[] = [];
  private readonly frameValues: (number | string)[] = [];
  /** Frames of the last data event in {@link frameKeys} / {@link frameValues} (entries beyond are stale; no array resized per event). */
  private frameCount = 0;
  /** {@link decoded}'s objects of the last data event, once made. */
  private frameObjects: Record<string, unknown>[] | undefined;
  /** Coverage labels reached so far ({@link COVERAGE_LABELS}), in the order reached. */
  private readonly covered = new Set<string>();
  /** Per index of {@link COVERAGE_LABELS}, 1 once {@link coverHot} put it in {@link covered}. */
  private readonly coveredBits = new Uint8Array(COVERAGE_LABELS.length);
  /** The triggers of a connection's state, with their records and least offsets. */
  private readonly tr: StateTriggers;
  /** Profile `ioTimeoutStreams`, per request stream type (PROTON-7.1). */
  private readonly ioTimeoutOn: { readonly event: boolean; readonly commit: boolean };
  /** Violations found by the event being fed ({@link input}, {@link advance}); reused: copied out only when not empty. */
  private readonly found: Violation[] = [];
  /** Bytes of the data event being fed, when they fit (decoded in place: they never outlive the event). */
  private readonly hexBuf = new Uint8Array(32);
  /** Items the data event being fed completed (entries beyond its count are stale). */
  private readonly items: number[] = [];
  /** Horizon of the last {@link scanArmed} without `out`: earliest close-timer nominal time (µs). */
  private hClose = Infinity;
  /** Horizon of the last {@link scanArmed} without `out`: earliest deadline (µs). */
  private hDeadline = Infinity;

  /**
   * @param options.fullLook for tests: `true` makes {@link advance} build the armed obligations of
   *   every live connection at every call, as before the horizon look (the two must agree).
   */
  constructor(
    readonly profile: ProtonProfile,
    readonly mode: ModelMode,
    private readonly options: { readonly fullLook?: boolean } = {},
  ) {
    this.table = protonObligations(profile);
    const tr = (t: ProtonTrigger) => this.table.trigger(t);
    this.tr = {
      handshake: tr('handshake'), streamVisible: tr('stream-visible'), eventId: tr('event-id'), commitRequest: tr('commit-request'), actionItem: tr('action-item'),
      eventFin: tr('event-fin'), commitFin: tr('commit-fin'), abortedEnd: tr('aborted-end'), partialItem: tr('partial-item'), idleRequestStream: tr('idle-request-stream'),
    };
    this.ioTimeoutOn = { event: profile.ioTimeoutStreams.includes('event'), commit: profile.ioTimeoutStreams.includes('commit') };
  }

  // ---------------------------------------------------------------- inputs

  /**
   * Feeds one trace event. In monitor mode first advances time to `ev.t`.
   * @returns violations the event (or the time before it) reveals: a new
   *   array, or, when there are none, one shared frozen empty array (not to
   *   be written to).
   */
  input(ev: TraceEvent, index: number): readonly Violation[] {
    const out = this.begin(ev.t);
    switch (ev.type) {
      case 'data': {
        // (first: most events are data)
        let bytes: Uint8Array;
        try {
          bytes = fromHexInto(ev.hex, this.hexBuf);
        } catch {
          out.push(this.violation('PROTON-1.3', 'must', index, ev.t, 'bytes as hex', `unreadable bytes ${JSON.stringify(ev.hex.slice(0, 16))}`, ev.conn, false));
          break;
        }
        const n = ev.hex.length >> 1; // (`bytes` may be the longer reused buffer)
        this.onData(ev.conn, ev.stream, ev.dir, bytes, n, ev.t, index, out);
        break;
      }
      case 'conn_open':
        this.onConnOpen(ev.conn, ev.t, out);
        break;
      case 'conn_close':
        this.onConnClose(ev.conn, ev.by, ev.isApp, ev.code, ev.reason, ev.t, index, out);
        break;
      case 'stream_open':
        this.onStreamOpen(ev.conn, ev.stream, ev.by, ev.t, index, out);
        break;
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
    return out.length === 0 ? NO_VIOLATIONS : out.slice();
  }

  /**
   * {@link input} of a data event whose payload is already decoded (a
   * {@link DataBytes} from the trace reader, `bytes[0..length)`): the same
   * result as `input(dataEventOf(d), index)`, with no hex string decoded.
   */
  inputData(d: DataBytes, index: number): readonly Violation[] {
    const out = this.begin(d.t);
    this.onData(d.conn, d.stream, d.dir, d.bytes, d.length, d.t, index, out);
    return out.length === 0 ? NO_VIOLATIONS : out.slice();
  }

  /** A data event's first `n` bytes, by direction. */
  private onData(conn: number, stream: number, dir: Direction, bytes: Uint8Array, n: number, t: number, index: number, out: Violation[]): void {
    if (dir === 'c2s') this.onClientData(conn, stream, bytes, n, t, index, out);
    else this.onServerData(conn, stream, bytes, n, t, index, out);
  }

  /** What {@link input} does first for every event: time advanced to `t` ({@link advanceInto}), its violations put in the reused array (emptied first), which is returned; the last event's decoded frames forgotten. */
  private begin(t: number): Violation[] {
    const out = this.found;
    if (out.length !== 0) out.length = 0;
    this.advanceInto(t, out);
    if (this.frameCount > 1024 || this.items.length > 1024) {
      // A data event of many items grew them: memory stays bounded by recent events.
      this.frameKeys.length = 0;
      this.frameValues.length = 0;
      this.items.length = 0;
    }
    this.frameCount = 0;
    this.frameObjects = undefined;
    return out;
  }

  /**
   * Moves time to `t` (µs): fires timers (identification, receive timeout),
   * and in monitor mode reports reactions that are overdue.
   * @returns the violations, as {@link input} returns them.
   */
  advance(t: number): readonly Violation[] {
    const out = this.found;
    if (out.length !== 0) out.length = 0;
    this.advanceInto(t, out);
    return out.length === 0 ? NO_VIOLATIONS : out.slice();
  }

  /** {@link advance}, appending to `out`. */
  private advanceInto(t: number, out: Violation[]): void {
    if (t > this.now) this.now = t;
    // The list stays as made while a connection closes below (a Map's iteration would still visit the ones after it, as this does).
    const conns = (this.connList ??= [...this.conns.values()]);
    for (let i = 0; i < conns.length; i++) {
      const c = conns[i]!;
      if (c.closed) continue;
      if (c.strayAbort && this.now > c.strayAbort.t + this.profile.toleranceMs * US) {
        out.push(c.strayAbort);
        c.strayAbort = undefined;
      }
      let armed: ProtonArmed[] | undefined;
      if (c.close === undefined) {
        // Most events change nothing that is due: a look at the horizon (no object per obligation) says so.
        if (this.options.fullLook !== true) {
          this.hClose = Infinity;
          this.hDeadline = Infinity;
          this.scanArmed(c, undefined);
          if (this.now < this.hClose && (this.mode !== 'monitor' || !(this.now > this.hDeadline))) continue;
        }
        armed = this.armedOn(c);
        const timer = firstClose(armed);
        if (timer !== undefined && nominalAt(timer) <= this.now) this.owe(c, timer);
      }
      if (this.mode === 'monitor') this.checkOverdue(c, c.close ? [c.close] : armed!, out);
    }
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
    const closing = [...this.conns.values()].filter((c) => !c.closed && c.close !== undefined && nominalAt(c.close) <= t);
    closing.sort((a, b) => Number(a.close!.subject.exactReason === true) - Number(b.close!.subject.exactReason === true));
    for (const c of closing) {
      const cl = c.close!;
      const { code, reason } = owedClose(cl);
      acts.push({ type: 'close', conn: c.id, code, reason: reason ?? `${cl.record.rule} ${this.why(cl)}`, rule: cl.record.rule });
    }
    for (const c of this.conns.values()) {
      if (c.closed || c.close !== undefined) continue;
      for (const a of dueBy(this.armedOn(c), t)) {
        const act = this.act(c, a);
        if (act) acts.push(act);
      }
    }
    return acts;
  }

  /** Server mode: the earliest time (µs) at which {@link due} will have something new. */
  nextDue(): number | undefined {
    let next: number | undefined;
    for (const c of this.conns.values()) {
      if (c.closed) continue;
      const x = nextDueOf(c.close ? [c.close] : this.armedOn(c), this.now);
      if (x !== undefined && (next === undefined || x < next)) next = x;
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
    this.owe(c, this.armOne('send-stalled', t, { why: `send on stream ${stream} stalled for ${this.profile.ioTimeoutMs} ms` }));
  }

  // --------------------------------------------------------------- monitor

  /** Monitor mode: earliest time (µs) at which {@link advance} could report or change something. */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    const at = (x: number | undefined) => (next = x === undefined ? next : next === undefined ? x : Math.min(next, x));
    for (const c of this.conns.values()) {
      if (c.closed) continue;
      if (c.strayAbort) at(c.strayAbort.t + this.profile.toleranceMs * US + 1);
      if (c.close) {
        at(nextDeadlineOf([c.close]));
        continue;
      }
      const armed = this.armedOn(c);
      const timer = firstClose(armed);
      if (timer) at(nominalAt(timer)); // The close becomes owed then: what follows is read differently.
      at(nextDeadlineOf(armed));
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
      if (c.close) return false;
      for (const a of this.armedOn(c)) if (a.trigger !== 'idle-request-stream') return false;
    }
    return true;
  }

  /** What the codec decoded from the last data event fed, or undefined. */
  decoded(): readonly Record<string, unknown>[] | undefined {
    if (this.frameCount === 0) return undefined;
    if (this.frameObjects === undefined) {
      this.frameObjects = [];
      for (let i = 0; i < this.frameCount; i++) this.frameObjects.push({ [this.frameKeys[i]!]: this.frameValues[i] });
    }
    return this.frameObjects;
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
    const c: ConnState = { id, openedAt: t, identified: false, streams: new Map(), streamList: [], byKind: new Map(), visibleUpTo: [undefined, undefined, undefined, undefined], last: undefined, close: undefined, closed: false, strayAbort: undefined };
    this.covered.add('transition:conn-open').add('state:conn-unidentified');
    const live = [...this.conns.values()].filter((o) => !o.closed && o.close === undefined);
    this.conns.set(id, c);
    this.connList = undefined;
    this.lastConn = undefined;
    if (live.length > 0) {
      // PROTON-2.2: both the live connection and the new one are closed.
      for (const o of [...live, c]) {
        this.owe(o, this.armOne('second-connection', t, { why: `connection ${id} opened while connection ${live[0]!.id} was live` }));
      }
    }
    void out;
  }

  private onConnClose(id: number, by: 'client' | 'server' | 'transport', isApp: boolean, code: number, reason: string, t: number, index: number, out: Violation[]): void {
    const c = this.conns.get(id);
    if (!c || c.closed) return;
    this.covered.add(`transition:close-by-${by}`);
    if (c.strayAbort && by !== 'server') out.push(c.strayAbort); // No server close came with it.
    c.strayAbort = undefined;
    // Only a violation says what was seen (most closes are fine).
    const seen = (): string => `${by} closed the connection (${isApp ? 'application' : 'transport'} code ${closeCodeName(code)}${reason ? `, reason ${JSON.stringify(reason)}` : ''})`;
    if (by === 'server') {
      const due = c.close ?? this.pendingClose(c, isApp, code, t);
      const owed = due && owedClose(due);
      const verdict = due && judge(due, t);
      if (due === undefined || owed === undefined) {
        out.push(this.violation('PROTON-2.7', 'must', index, t, `no close: ${this.pendingText(c)}`, seen(), id, false));
      } else if (!isApp || code !== owed.code) {
        out.push(this.violation(due.record.rule, 'must', index, t, this.closeText(c, due), seen(), id, false));
      } else if (verdict) {
        out.push(this.violation(due.record.rule, verdict.severity, index, t, this.closeText(c, due), `${seen()} too ${verdict.when}, at ${this.rel(c, t)}`, id, false));
      } else if (owed.reason !== undefined && reason !== owed.reason) {
        out.push(this.violation(due.record.rule, 'must', index, t, this.closeText(c, due), seen(), id, false));
      } else if (reason === '' && owed.code !== CloseCode.RESET_OK) {
        out.push(this.violation('PROTON-8.1', 'should', index, t, 'a reason phrase naming the rule broken', seen(), id, false));
      }
    } else if (by === 'transport' && this.mode === 'monitor') {
      const expected = c.close ? this.closeText(c, c.close) : 'the connection to stay up (QUIC keep-alive)';
      out.push(this.violation(c.close ? c.close.record.rule : 'PROTON-2.4', 'must', index, t, expected, seen(), id, false));
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

  /** The client's bytes `bytes[0..n)` on `stream` (`bytes` may be longer: the model's reused buffer). */
  private onClientData(conn: number, stream: number, bytes: Uint8Array, n: number, t: number, index: number, out: Violation[]): void {
    const c = this.live(conn);
    if (!c || n === 0) return;
    const s = this.see(c, stream, t);
    s.lastRx = t;
    let from = 0;
    if (s.kind === undefined) {
      const disc = bytes[0]!;
      from = 1;
      this.frame('discriminator', streamKindOf(disc) ?? `0x${disc.toString(16).padStart(2, '0')}`);
      if (!this.identify(c, s, disc, t)) return;
    }
    const rest = n - from;
    switch (s.kind) {
      case 'reset':
        if (rest > 0) this.frame('ignored', rest);
        return; // PROTON-9.2: bytes after the reset discriminator are ignored.
      case 'action':
        if (rest > 0) {
          this.frame('unexpected', rest);
          this.clientViolation(c, 'PROTON-6.1', `client wrote ${rest} byte(s) on the Action stream ${stream}`, t);
        }
        return;
      case 'event':
      case 'commit': {
        const items = this.items;
        const count = s.rx.pushInto(bytes, from, n, items);
        for (let i = 0; i < count; i++) {
          const item = items[i]!;
          if (c.close) return;
          this.frame(s.kind === 'event' ? 'event' : 'commit', item);
          if (s.kind === 'event') {
            if (item <= s.lastId) {
              this.clientViolation(c, 'PROTON-4.2', s.lastId === 0 ? `first event id ${item} is not ≥ 1` : `event id ${item} is not greater than ${s.lastId}`, t);
              return;
            }
            s.lastId = item;
            if (s.sendStopped) continue; // PROTON-8.6 ends-stream: nothing is answered on a stopped stream.
            s.acks.push(item, t);
            this.coverHot(s.acks.length > 1 ? L_PIPELINED : L_EVENT_ID);
          } else {
            if (s.sendStopped) continue;
            if (s.commit) {
              this.clientViolation(c, 'PROTON-5.2', `commit ${item} sent while commit ${s.commit.id} is outstanding`, t);
              return;
            }
            s.commit = { id: item, t };
            this.coverHot(L_COMMIT_REQUEST);
          }
        }
        s.partialSince = s.rx.partial > 0 ? (s.partialSince ?? t) : undefined;
        if (s.rx.partial > 0) {
          this.frame('partial', s.rx.partial);
          this.coverHot(L_PARTIAL);
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
        this.owe(o, this.armOne('reset-requested', t, { why: `reset requested on connection ${c.id}` }));
      }
      this.owe(c, this.armOne('reset-requested', t, { why: 'reset requested', exactReason: true }));
    }
    return true;
  }

  private onClientFin(conn: number, stream: number, t: number, index: number, out: Violation[]): void {
    const c = this.live(conn);
    if (!c) return;
    const s = this.see(c, stream, t);
    s.clientFin = true;
    if (s.kind === undefined) {
      this.clientViolation(c, 'PROTON-3.5', `stream ${stream} ended before its discriminator`, t);
    } else if ((s.kind === 'event' || s.kind === 'commit') && s.rx.partial > 0) {
      this.clientViolation(c, s.kind === 'event' ? 'PROTON-4.6' : 'PROTON-5.5', `stream ${stream} ended inside an item (${s.rx.partial} of 4 bytes)`, t);
    } else {
      this.covered.add(`transition:client-fin-${s.kind}`);
      s.partialSince = undefined;
      if (s.acks.length === 0 && !s.commit && !s.sendStopped) s.finOwedSince = t;
    }
    void index;
    void out;
  }

  private onClientAbort(conn: number, stream: number, kind: 'reset' | 'stop_sending', code: number, t: number, index: number, out: Violation[]): void {
    const c = this.live(conn);
    if (!c) return;
    const s = this.see(c, stream, t);
    if (s.kind === 'reset') return;
    if (kind === 'reset' && s.serverStopped) return; // The client's stack answering the server's STOP_SENDING (RFC 9000 §3.5).
    const what = kind === 'reset' ? 'RESET_STREAM' : 'STOP_SENDING';
    this.covered.add('transition:client-abort');
    const why = `client sent ${what} (code ${code}) on stream ${stream}`;
    if (s.kind === undefined) this.clientViolation(c, 'PROTON-3.5', why, t);
    else if (kind === 'reset') {
      if (this.profile.resetStream === 'violation') this.clientViolation(c, 'PROTON-8.3', why, t);
      else this.endedByReset(s, t);
    } else if (this.profile.stopSending === 'violation') this.clientViolation(c, 'PROTON-8.6', why, t);
    else this.stoppedByClient(s, t);
    void index;
    void out;
  }

  /**
   * PROTON-8.3 `ends-stream`: a client RESET_STREAM ends the client's side
   * where its bytes stopped. A partial item is dropped; what was received
   * is still answered, then the server's FIN is owed (4.5/5.4; on the
   * Action stream at once, 8.7).
   */
  private endedByReset(s: StreamState, t: number): void {
    if (s.clientFin) return; // The client's side had ended already: nothing changes.
    s.clientFin = true;
    s.rx.clear();
    s.partialSince = undefined;
    if (s.serverFin || s.sendStopped) return;
    if (s.kind === 'action') s.endOwedSince = t;
    else if (s.acks.length === 0 && !s.commit) s.finOwedSince = t;
  }

  /**
   * PROTON-8.6 `ends-stream`: a client STOP_SENDING: nothing more is owed
   * (or allowed) on the server's side; its end is owed (8.7).
   */
  private stoppedByClient(s: StreamState, t: number): void {
    if (s.sendStopped || s.serverFin) return;
    s.sendStopped = true;
    s.acks.clear();
    s.commit = undefined;
    s.finOwedSince = undefined;
    s.endOwedSince = t;
  }

  /** The server's bytes `bytes[0..n)` on `stream` (`bytes` may be longer: the model's reused buffer). */
  private onServerData(conn: number, stream: number, bytes: Uint8Array, n: number, t: number, index: number, out: Violation[]): void {
    const c = this.live(conn);
    if (!c || c.close) return; // After a close is owed, stray bytes are tolerated.
    const s = this.find(c, stream);
    if (!s || s.kind === undefined || s.kind === 'reset') {
      out.push(this.violation('PROTON-3.1', 'must', index, t, 'no server bytes on a stream before its discriminator', `server wrote ${n} byte(s) on stream ${stream}`, conn, false));
      return;
    }
    if (s.serverFin) {
      out.push(this.violation('PROTON-2.1', 'must', index, t, 'no bytes after the server FIN', `server wrote on stream ${stream} after its FIN`, conn, false));
      return;
    }
    if (s.sendStopped) {
      out.push(this.violation('PROTON-8.6', 'must', index, t, `nothing more on stream ${stream} (the client sent STOP_SENDING)`, `server wrote ${n} byte(s) on it`, conn, false));
      return;
    }
    const items = this.items;
    const count = s.tx.pushInto(bytes, 0, n, items);
    for (let i = 0; i < count; i++) {
      const item = items[i]!;
      this.frame(s.kind === 'event' ? 'ack' : s.kind === 'commit' ? 'answer' : 'action', item);
      const v = this.onServerItem(c, s, item, t, index);
      if (v) {
        out.push(v);
        if (v.severity === 'must') return;
      }
    }
  }

  private onServerItem(c: ConnState, s: StreamState, item: number, t: number, index: number): Violation | undefined {
    switch (s.kind) {
      case 'event': {
        if (s.acks.length === 0) return this.violation('PROTON-4.3', 'must', index, t, 'no ack (no event outstanding)', `ack ${itemHex(item)} on stream ${s.id}`, c.id, false);
        const headId = s.acks.id(0);
        const headT = s.acks.t(0);
        if (item !== headId) return this.violation('PROTON-4.3', 'must', index, t, `ack ${itemHex(headId)} on stream ${s.id}`, `ack ${itemHex(item)}`, c.id, false);
        s.acks.shift();
        s.lastAnswer = t;
        this.coverHot(L_ACK);
        if (s.clientFin && s.acks.length === 0) s.finOwedSince = t;
        return this.judged(c, this.tr.eventId, headT, s, headId, t, index, ackText);
      }
      case 'commit': {
        const req = s.commit;
        if (!req) return this.violation('PROTON-5.1', 'must', index, t, 'no answer (no commit outstanding)', `answer ${itemHex(item)} on stream ${s.id}`, c.id, false);
        const want = commitAnswer(req.id);
        if (item !== want) return this.violation('PROTON-5.1', 'must', index, t, `answer ${itemHex(want)} (2 × ${req.id} mod 2^32) on stream ${s.id}`, `answer ${itemHex(item)}`, c.id, false);
        s.commit = undefined;
        s.lastAnswer = t;
        this.coverHot(L_COMMIT_ANSWER);
        if (s.clientFin) s.finOwedSince = t;
        return this.judged(c, this.tr.commitRequest, req.t, s, req.id, t, index, answerText);
      }
      case 'action': {
        if (item !== s.counter) return this.violation('PROTON-6.2', 'must', index, t, `action item ${s.counter}`, `action item ${item}`, c.id, false);
        const since = s.lastItemAt;
        s.counter = (s.counter + 1) % 0x1_0000_0000;
        this.coverHot(L_ACTION_ITEM);
        s.lastItemAt = t;
        // After a RESET_STREAM that ends the stream (8.3 ends-stream) no item is owed: one still sent only has to continue the counter.
        if (s.endOwedSince !== undefined) return undefined;
        return this.judged(c, this.tr.actionItem, since, s, item, t, index, actionText);
      }
      default:
        return undefined;
    }
  }

  /**
   * Judges the time `t` (µs) of an act the obligations of `trigger`
   * (armed at `since`) asked for: the first early or late verdict, as a
   * violation of the record's rule. `stream` and `item` are the subject; `whatText(item)` names the act (called only for a verdict).
   */
  private judged(c: ConnState, trigger: TriggerRecords<ProtonTrigger>, since: number, stream: StreamState, item: number | undefined, t: number, index: number, whatText: (item: number | undefined) => string): Violation | undefined {
    for (const r of trigger.records) {
      if (inTime(r, since, t)) continue; // (the common case: no armed object)
      const a = arm(r, trigger.trigger, since, item === undefined ? { stream } : { stream, item });
      const v = judge(a, t);
      // The act in words only for a verdict (built lazily: every ack on a long trace comes here).
      const what = v ? whatText(item) : '';
      if (v) return this.violation(r.rule, v.severity, index, t, `${r.summary}: ${what} ${windowText(v.window, (x) => this.rel(c, x))}`, `${what} at ${this.rel(c, t)} (too ${v.when})`, c.id, false);
    }
    return undefined;
  }

  private onServerFin(conn: number, stream: number, t: number, index: number, out: Violation[]): void {
    const c = this.live(conn);
    if (!c || c.close) return;
    const s = this.find(c, stream);
    if (!s || (s.sendStopped && s.serverFin)) return; // A FIN after the abort that ended a stopped stream changes nothing.
    if (s.endOwedSince !== undefined) {
      this.endJudged(c, s, t, index, `FIN on stream ${stream}`, out);
    } else if (s.kind === 'action') {
      out.push(this.violation('PROTON-6.2', 'must', index, t, `action item ${s.counter} (the push goes on while the connection lives)`, `server ended action stream ${stream}`, conn, false));
    } else if (s.kind === 'event' || s.kind === 'commit') {
      if (!s.clientFin || s.acks.length > 0 || s.commit) {
        const rule = s.kind === 'event' ? 'PROTON-4.5' : 'PROTON-5.4';
        out.push(this.violation(rule, 'must', index, t, s.clientFin ? `${this.pendingText(c)} before the FIN` : 'no FIN before the client’s FIN', `server ended stream ${stream}`, conn, false));
      } else if (s.finOwedSince !== undefined && this.mode === 'monitor') {
        const trigger = s.kind === 'event' ? this.tr.eventFin : this.tr.commitFin;
        const late = trigger.records.some((r) => s.reportedLate.has(r.rule));
        const v = late ? undefined : this.judged(c, trigger, s.finOwedSince, s, undefined, t, index, () => `FIN on stream ${stream}`);
        if (v) out.push(v);
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
    const s = this.find(c, stream);
    if (s && kind === 'stop_sending') s.serverStopped = true;
    if (s?.sendStopped) {
      // PROTON-8.4's exception: the server's abort answers a client STOP_SENDING (8.6 ends-stream, RFC 9000 §3.5).
      if (kind === 'reset' && !s.serverFin) this.endJudged(c, s, t, index, `${what} on stream ${stream}`, out);
      s.serverFin = true;
      return;
    }
    // A QUIC stack may abort the streams of a connection it is closing just before the close: once a close timer's window has opened, an abort is part of that close.
    if (this.armedOn(c).some((a) => a.record.owed.kind === 'close' && t >= windowOf(a, 'must').lo)) return;
    // Otherwise held for toleranceMs: a server close that follows is judged instead (e.g. PROTON-2.7 for a close nothing owes).
    // Reported like a missing reaction (index -1): it is known only once toleranceMs passed with no close.
    c.strayAbort ??= this.violation('PROTON-8.4', 'must', -1, t, 'no stream abort (a fatal error closes the connection)', `server sent ${what} (code ${code}) on stream ${stream} at ${this.rel(c, t)}, and no close within ${this.profile.toleranceMs} ms`, conn, false);
    void index;
    void out;
  }

  /** The server ended a stream whose end a client abort made owed (PROTON-8.7): judged in monitor mode, then nothing more is owed on it. */
  private endJudged(c: ConnState, s: StreamState, t: number, index: number, what: string, out: Violation[]): void {
    if (this.mode === 'monitor' && s.endOwedSince !== undefined && !s.reportedLate.has('PROTON-8.7')) {
      const v = this.judged(c, this.tr.abortedEnd, s.endOwedSince, s, undefined, t, index, () => what);
      if (v) out.push(v);
    }
    s.endOwedSince = undefined;
    s.serverFin = true;
  }

  // --------------------------------------------------------------- helpers

  /** Marks coverage label `COVERAGE_LABELS[i]` reached; once it is, at no more cost than a bit test (hot labels are reached at every item). */
  private coverHot(i: number): void {
    if (this.coveredBits[i] === 1) return;
    this.coveredBits[i] = 1;
    this.covered.add(COVERAGE_LABELS[i]!);
  }

  /** Notes one decoded frame of the data event being fed (see {@link decoded}). */
  private frame(key: FrameKey, value: number | string): void {
    this.frameKeys[this.frameCount] = key;
    this.frameValues[this.frameCount++] = value;
  }

  /** Marks a connection closed and forgets it: memory stays bounded over long traces. */
  private closeConn(c: ConnState): void {
    c.closed = true;
    this.conns.delete(c.id);
    this.connList = undefined;
    this.lastConn = undefined;
  }

  private live(conn: number): ConnState | undefined {
    let c = this.lastConn;
    if (c === undefined || c.id !== conn) this.lastConn = c = this.conns.get(conn);
    return c && !c.closed ? c : undefined;
  }

  /**
   * Stream `id` of `c`, if it has one (`c.streams.get`, the stream of the
   * last look first), marked for a fresh horizon look: the caller may change it.
   */
  private find(c: ConnState, id: number): StreamState | undefined {
    let s = c.last;
    if (s === undefined || s.id !== id) {
      s = c.streams.get(id);
      if (s === undefined) return undefined;
      c.last = s;
    }
    s.hFresh = false;
    return s;
  }

  private stream(c: ConnState, id: number, t: number): StreamState {
    let s = this.find(c, id);
    if (!s) {
      s = {
        id, kind: undefined, rx: new ItemDecoder(), tx: new ItemDecoder(), partialSince: undefined,
        clientFin: false, serverFin: false, lastRx: t, lastAnswer: t, visibleAt: undefined, sendStopped: false, endOwedSince: undefined, serverStopped: false,
        lastId: 0, acks: new AckQueue(), commit: undefined, counter: 1, lastItemAt: t, finOwedSince: undefined, reportedLate: new Set(),
        hFresh: false, hClose: Infinity, hDeadline: Infinity,
      };
      c.streams.set(id, s);
      c.streamList.push(s);
    }
    return s;
  }

  /**
   * A frame of client stream `id` reached the server at `t` (µs): the stream
   * and every lower-numbered stream of its type become visible (RFC 9000
   * §3.2), which starts their identification timers under
   * `identTimeoutScope: stream` (PROTON-3.4).
   * @returns the stream's state.
   */
  private see(c: ConnState, id: number, t: number): StreamState {
    const type = id & 3;
    const upTo = c.visibleUpTo[type];
    if (upTo === undefined || id > upTo) {
      for (let lower = upTo === undefined ? type : upTo + 4; lower < id; lower += 4) {
        const s = this.stream(c, lower, t);
        s.visibleAt ??= t;
      }
      c.visibleUpTo[type] = id;
    }
    const s = this.stream(c, id, t);
    s.visibleAt ??= t;
    return s;
  }

  /** The client broke a rule: the connection is owed PROTOCOL_VIOLATION now (PROTON-8.1). */
  private clientViolation(c: ConnState, rule: ViolationRule, why: string, t: number): void {
    this.owe(c, this.armOne(`violation:${rule}`, t, { why }));
  }

  /**
   * Arms the record of an event trigger (the first, when a profile gives
   * one trigger several).
   * @throws Error when no record has the trigger (a model bug: every event trigger has a record).
   */
  private armOne(trigger: ProtonTrigger, t: number, subject: Subject): ProtonArmed {
    const r = this.table.byTrigger(trigger)[0];
    if (!r) throw new Error(`Proton model: no obligation record is armed by ${trigger}`);
    return arm(r, trigger, t, subject);
  }

  private owe(c: ConnState, due: ProtonArmed): void {
    if (c.close) return;
    owedClose(due); // Only a close can be owed through `c.close`.
    c.close = due;
    this.covered.add(`transition:close-owed-${due.record.rule}`).add('state:conn-closing');
  }

  /**
   * The obligations armed on a connection with no close owed, from its
   * state: per trigger instance, every record that trigger arms. Order:
   * the connection's, then per stream (acks, commit answer, action item,
   * FIN, receive timeouts). Monitor mode leaves out a SHOULD already
   * reported late.
   */
  private armedOn(c: ConnState): ProtonArmed[] {
    const out: ProtonArmed[] = [];
    this.scanArmed(c, out);
    return out;
  }

  /**
   * The one reading of which obligations a connection's state arms
   * ({@link armedOn}). With `out`, appends them; without, only lowers
   * {@link hClose} and {@link hDeadline} to the earliest close-timer
   * nominal time and deadline among them (µs), with no object per
   * obligation: what {@link advance} asks at every event. A stream's part
   * of that is read again only when the stream changed (StreamState.hFresh).
   */
  private scanArmed(c: ConnState, out: ProtonArmed[] | undefined): void {
    // Only the records of the profile's readings exist: `handshake` or `stream-visible`, `partial-item` or `idle-request-stream`.
    if (!c.identified) this.putArmed(out, this.tr.handshake, c.openedAt, undefined, undefined);
    const streams = c.streamList;
    if (out !== undefined) {
      for (let i = 0; i < streams.length; i++) this.scanStream(streams[i]!, out);
      return;
    }
    let close = this.hClose;
    let deadline = this.hDeadline;
    for (let i = 0; i < streams.length; i++) {
      const s = streams[i]!;
      if (!s.hFresh) {
        // The stream's own horizon, kept until it changes (see StreamState.hFresh); the minimum of minima is the same minimum.
        this.hClose = Infinity;
        this.hDeadline = Infinity;
        this.scanStream(s, undefined);
        s.hClose = this.hClose;
        s.hDeadline = this.hDeadline;
        s.hFresh = true;
      }
      if (s.hClose < close) close = s.hClose;
      if (s.hDeadline < deadline) deadline = s.hDeadline;
    }
    this.hClose = close;
    this.hDeadline = deadline;
  }


  /** {@link scanArmed} for one stream's state. */
  private scanStream(s: StreamState, out: ProtonArmed[] | undefined): void {
    const tr = this.tr;
    if (s.kind === undefined) {
      if (s.visibleAt !== undefined) this.putArmed(out, tr.streamVisible, s.visibleAt, s, undefined);
      return;
    }
    const request = s.kind === 'event' || s.kind === 'commit';
    if (!s.serverFin) {
      if (s.kind === 'event') {
        // The horizon needs only the earliest id's time; the full look arms every id.
        if (out === undefined) {
          if (s.acks.length > 0) this.putArmed(undefined, tr.eventId, s.acks.minT(), s, undefined);
        } else for (let i = 0; i < s.acks.length; i++) this.putArmed(out, tr.eventId, s.acks.t(i), s, s.acks.id(i));
      }
      if (s.kind === 'commit' && s.commit) this.putArmed(out, tr.commitRequest, s.commit.t, s, s.commit.id);
      if (s.kind === 'action' && s.endOwedSince === undefined) this.putArmed(out, tr.actionItem, s.lastItemAt, s, s.counter);
      if (request && s.finOwedSince !== undefined && s.clientFin && s.acks.length === 0 && !s.commit && s.rx.partial === 0) {
        this.putArmed(out, s.kind === 'event' ? tr.eventFin : tr.commitFin, s.finOwedSince, s, undefined);
      }
      if (s.endOwedSince !== undefined) this.putArmed(out, tr.abortedEnd, s.endOwedSince, s, undefined);
    }
    // PROTON-7.1 on the kinds of `ioTimeoutStreams`; not on a stream the client stopped (8.6 ends-stream): nothing is read there any more.
    if ((s.kind !== 'event' && s.kind !== 'commit') || !(s.kind === 'event' ? this.ioTimeoutOn.event : this.ioTimeoutOn.commit) || s.sendStopped) return; // (named loads: a keyed load by the kind's string was this look's costliest line)
    if (s.partialSince !== undefined) this.putArmed(out, tr.partialItem, s.partialSince, s, undefined);
    if (!s.clientFin && s.acks.length === 0 && !s.commit) this.putArmed(out, tr.idleRequestStream, Math.max(s.lastRx, s.lastAnswer), s, undefined);
  }

  /**
   * With `out`: appends every record `trigger` arms at `since` on `stream`
   * (and `item`), a SHOULD already reported late on the stream left out.
   * Without: lowers the horizon ({@link hClose}, {@link hDeadline}) by the
   * trigger's records, all of them (a SHOULD reported late included: an
   * earlier horizon only costs a full look).
   */
  private putArmed(out: ProtonArmed[] | undefined, trigger: TriggerRecords<ProtonTrigger>, since: number, stream: StreamState | undefined, item: number | undefined): void {
    if (out === undefined) {
      // `since + min(offsets)` is the least of the `since + offset` the full look computes (rounding is monotonic); no record: both Infinity.
      const close = since + trigger.closeUs;
      const deadline = since + trigger.deadlineUs;
      if (close < this.hClose) this.hClose = close;
      if (deadline < this.hDeadline) this.hDeadline = deadline;
      return;
    }
    const subject: Subject = stream === undefined ? NO_SUBJECT : item === undefined ? { stream } : { stream, item };
    for (const r of trigger.records) {
      if (stream?.reportedLate.has(r.rule)) continue;
      out.push(arm(r, trigger.trigger, since, subject));
    }
  }

  /** Monitor: the close timer (not yet owed) that a server close at `t` (µs) with `code` answers, if any. */
  private pendingClose(c: ConnState, isApp: boolean, code: number, t: number): ProtonArmed | undefined {
    const timers = this.armedOn(c).filter((a) => a.record.owed.kind === 'close');
    // The timer whose code it carries (judged early or in time), else one whose window it falls in (a wrong code).
    return timers.find((a) => isApp && owedClose(a).code === code) ?? timers.find((a) => t >= windowOf(a, 'must').lo);
  }

  /** Server mode: what performing `a` is on the wire. */
  private act(c: ConnState, a: ProtonArmed): ServerAction | undefined {
    const s = a.subject.stream;
    if (!s) return undefined;
    switch (a.trigger) {
      case 'event-id':
        return { type: 'send', conn: c.id, stream: s.id, bytes: encodeItem(a.subject.item!) };
      case 'commit-request':
        return { type: 'send', conn: c.id, stream: s.id, bytes: encodeItem(commitAnswer(a.subject.item!)) };
      case 'action-item':
        return { type: 'send', conn: c.id, stream: s.id, bytes: encodeItem(a.subject.item!) };
      case 'event-fin':
      case 'commit-fin':
        return { type: 'fin', conn: c.id, stream: s.id };
      case 'aborted-end':
        // After STOP_SENDING a QUIC stack answers with RESET_STREAM (RFC 9000 §3.5); after a RESET_STREAM, FIN.
        return s.sendStopped ? { type: 'reset', conn: c.id, stream: s.id, code: 0 } : { type: 'fin', conn: c.id, stream: s.id };
      default:
        return undefined; // Closes are owed through `c.close`.
    }
  }

  /** Why a close is owed, in words. */
  private why(a: ProtonArmed): string {
    if (a.subject.why !== undefined) return a.subject.why;
    const ms = a.record.nominalMs;
    const s = a.subject.stream;
    switch (a.trigger) {
      case 'handshake':
        return `no stream identified within ${ms} ms`;
      case 'stream-visible':
        return `stream ${s?.id ?? '?'} not identified within ${ms} ms`;
      case 'partial-item':
        return `item on stream ${s?.id ?? '?'} incomplete for ${ms} ms`;
      case 'idle-request-stream':
        return `no byte on stream ${s?.id ?? '?'} for ${ms} ms`;
      default:
        return a.record.summary;
    }
  }

  /** What `a` owes, in words, with its deadline. */
  private owedText(c: ConnState, a: ProtonArmed): string {
    if (a.record.owed.kind === 'close') return this.closeText(c, a);
    const s = a.subject.stream!;
    const by = this.rel(c, deadlineOf(a)?.t ?? nominalAt(a));
    const item = a.subject.item ?? 0;
    switch (a.trigger) {
      case 'event-id':
        return `ack ${itemHex(item)} on stream ${s.id} by ${by}`;
      case 'commit-request':
        return `answer ${itemHex(commitAnswer(item))} on stream ${s.id} by ${by}`;
      case 'action-item':
        return `action item ${item} on stream ${s.id} by ${by}`;
      case 'aborted-end':
        return `end of stream ${s.id} (${s.sendStopped ? 'RESET_STREAM or FIN' : 'FIN'}) by ${by}`;
      default:
        return `FIN on stream ${s.id} by ${by}`;
    }
  }

  private checkOverdue(c: ConnState, armed: readonly ProtonArmed[], out: Violation[]): void {
    for (const o of overdueAt(armed, this.now)) {
      const a = o.armed;
      out.push(this.violation(a.record.rule, o.severity, -1, o.deadline, this.owedText(c, a), a === c.close ? 'no close' : 'nothing', c.id, true));
      if (o.severity === 'should' && a.subject.stream) a.subject.stream.reportedLate.add(a.record.rule); // Reported once; still owed.
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

  private closeText(c: ConnState, a: ProtonArmed): string {
    const { code, reason } = owedClose(a);
    return `close ${closeCodeName(code)}${reason !== undefined ? ` reason ${JSON.stringify(reason)}` : ''} ${windowText(windowOf(a, 'must'), (x) => this.rel(c, x))} (${this.why(a)})`;
  }

  private pendingText(c: ConnState): string {
    const obs = this.armedOn(c).filter((a) => a.record.owed.kind !== 'close').map((a) => this.owedText(c, a));
    return obs.length ? obs.join(', ') : 'nothing owed';
  }

  /** Time relative to the connection's open, e.g. `+412.0ms`. */
  private rel(c: ConnState, t: number): string {
    return `+${((t - c.openedAt) / US).toFixed(1)}ms`;
  }

  private describeConn(c: ConnState): string {
    const state = c.closed ? 'closed' : c.close ? `closing(${closeCodeName(owedClose(c.close).code)})` : c.identified ? 'open' : 'unidentified';
    const streams = [...c.streams.values()].map((s) => {
      const bits: string[] = [];
      if (s.kind === 'event') bits.push(`lastId=${s.lastId}`, `acksOwed=[${s.acks.ids().join(',')}]`);
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
