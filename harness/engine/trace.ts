/**
 * The trace: everything the harness saw on the wire, in the order it saw it.
 *
 * Directions are named by protocol role, not by who recorded the trace:
 * `c2s` is client to server, `s2c` server to client. Times `t` are integer
 * microseconds (µs) since the trace's origin, read from a monotonic clock.
 * Bytes are lower-case hex strings so that a trace is plain JSON.
 */

/** Who ended a connection: one of the peers, or the transport itself (idle timeout, handshake failure). */
export type CloseInitiator = 'client' | 'server' | 'transport';

/** Direction of bytes or of a stream signal, by protocol role. */
export type Direction = 'c2s' | 's2c';

/** Version of the trace format this code writes (JSON Lines header `version`); 1 still validates. */
export const TRACE_FORMAT_VERSION = 2;

/** Whether a stream carries data both ways or only from its opener (RFC 9000 §2.1). */
export type StreamKind = 'bidi' | 'uni';

/** Fields every trace event carries. */
interface TraceEventBase {
  /** Microseconds since the trace origin (monotonic). */
  readonly t: number;
  /**
   * Trace v2: name of the client (fixture connection name, load client,
   * choreography role) the event belongs to, when one trace holds several
   * clients. Informative: monitors key on `conn`, which is unique per trace.
   */
  readonly role?: string;
}

/** A connection finished its handshake (QUIC) or its connect (TCP). */
export interface ConnOpenEvent extends TraceEventBase {
  readonly type: 'conn_open';
  /** Connection index within the trace, from 0. */
  readonly conn: number;
  /** `host:port` of the server. */
  readonly remote: string;
  /** ALPN negotiated, when the transport has one. */
  readonly alpn?: string;
}

/** A connection attempt that failed before it opened. */
export interface ConnFailEvent extends TraceEventBase {
  readonly type: 'conn_fail';
  readonly conn: number;
  /** Human-readable cause (timeout, refused, TLS alert ...). */
  readonly message: string;
}

/** A connection ended (RFC 9000 §10: CONNECTION_CLOSE, idle timeout, or a TCP FIN/RST). */
export interface ConnCloseEvent extends TraceEventBase {
  readonly type: 'conn_close';
  readonly conn: number;
  readonly by: CloseInitiator;
  /** True for an application close (CONNECTION_CLOSE type 0x1d), false for a transport close. */
  readonly isApp: boolean;
  /** Application or transport error code; 0 when none was given. */
  readonly code: number;
  /** Reason phrase, decoded as UTF-8 (may be empty). */
  readonly reason: string;
}

/** A stream became known to the recorder (opened locally, or first frame from the peer). */
export interface StreamOpenEvent extends TraceEventBase {
  readonly type: 'stream_open';
  readonly conn: number;
  /** Transport stream id (RFC 9000 §2.1 for QUIC). */
  readonly stream: number;
  /** Which role opened the stream. */
  readonly by: 'client' | 'server';
  /**
   * Trace v2: bidirectional or unidirectional (RFC 9000 §2.1: bit 0x2 of a
   * QUIC stream id). Absent (v1 traces) means `bidi`.
   */
  readonly dir?: StreamKind;
}

/** Bytes on a stream. */
export interface DataEvent extends TraceEventBase {
  readonly type: 'data';
  readonly conn: number;
  readonly stream: number;
  readonly dir: Direction;
  /** Payload, lower-case hex. */
  readonly hex: string;
  /** What the protocol's codec decoded from these bytes (informative; monitors ignore it). */
  readonly frames?: readonly Readonly<Record<string, unknown>>[];
  /**
   * Set when the trace was over its byte budget ({@link TraceRecorder}): this
   * many bytes (of one or more consecutive chunks on this stream and
   * direction) were seen by the monitor but not recorded; `hex` is then empty.
   */
  readonly elided?: number;
}

/** The sending side of a stream ended cleanly (STREAM frame with FIN). */
export interface StreamFinEvent extends TraceEventBase {
  readonly type: 'stream_fin';
  readonly conn: number;
  readonly stream: number;
  readonly dir: Direction;
}

/**
 * A stream was aborted. `dir` is always the direction of the data that is
 * aborted, never the direction the frame travels:
 * - RESET_STREAM (`kind: 'reset'`, RFC 9000 §19.4) is sent by the writer of
 *   `dir`: a client RESET_STREAM is `dir: 'c2s'`;
 * - STOP_SENDING (`kind: 'stop_sending'`, §19.5) is sent by the reader of
 *   `dir`: a client STOP_SENDING is `dir: 's2c'`.
 */
export interface StreamResetEvent extends TraceEventBase {
  readonly type: 'stream_reset';
  readonly conn: number;
  readonly stream: number;
  readonly dir: Direction;
  readonly kind: 'reset' | 'stop_sending';
  readonly code: number;
}

/**
 * Trace v2: one QUIC DATAGRAM frame's payload (RFC 9221 §4), unreliable and
 * unordered: a datagram sent may never arrive.
 */
export interface DatagramEvent extends TraceEventBase {
  readonly type: 'dgram';
  readonly conn: number;
  readonly dir: Direction;
  /** Payload, lower-case hex. */
  readonly hex: string;
  /** What the protocol's codec decoded from the payload (informative; monitors ignore it). */
  readonly frames?: readonly Readonly<Record<string, unknown>>[];
  /** As {@link DataEvent.elided}: bytes of consecutive datagrams seen but not recorded. */
  readonly elided?: number;
}

/**
 * Kinds of deliberate network impairment a harness announces to monitors:
 * - `stall`: from here the connection's bytes are held (both ways) until a `restore`;
 * - `restore`: the stall on the connection ended;
 * - `cut`: the harness is about to lose the connection on purpose (reset, data limit);
 *   from here any end of it is expected and nothing more is owed on it.
 */
export type ImpairKind = 'stall' | 'restore' | 'cut';

/**
 * Trace v2: a network impairment the harness made on purpose (chaos proxy,
 * or a fuzz program's declared silence), replacing v1's `moonpool:stall
 * conn=N` notes. Monitors use it to suspend or end obligations.
 */
export interface ImpairEvent extends TraceEventBase {
  readonly type: 'impair';
  readonly kind: ImpairKind;
  /** Connection impaired. */
  readonly conn: number;
  /** Free text: why (the case step, the proxy toxic). */
  readonly detail?: string;
}

/** A harness annotation (what a case is about to do); ignored by monitors. */
export interface NoteEvent extends TraceEventBase {
  readonly type: 'note';
  readonly text: string;
}

/** One event of a trace (discriminated on `type`). */
export type TraceEvent =
  | ConnOpenEvent
  | ConnFailEvent
  | ConnCloseEvent
  | StreamOpenEvent
  | DataEvent
  | StreamFinEvent
  | StreamResetEvent
  | DatagramEvent
  | ImpairEvent
  | NoteEvent;

/**
 * A data event read with its payload already decoded: what the trace
 * reader's fast path hands a monitor that has {@link Monitor.feedData}
 * (harness/engine/types.ts) instead of a {@link DataEvent}, for a compact
 * line of a data event's keys in any order, with `frames` or not (no
 * `elided`). One record is reused from line to line: its fields, the
 * payload (`bytes[0..length)`) and the line are valid only during the call.
 */
export interface DataBytes {
  /** Time (µs). */
  t: number;
  conn: number;
  stream: number;
  dir: Direction;
  /** The payload is its first {@link length} bytes. */
  readonly bytes: Uint8Array;
  /** Bytes of payload. */
  length: number;
  /** The line's keys in order: {@link DATA_EVENT_KEYS} itself for a line in `JSON.stringify`'s layout of a DataEvent; may hold `frames`. */
  keys: readonly string[];
  /** With `frames` among the keys: its JSON text is `line[framesStart..framesEnd)` (checked, not parsed). */
  line: Uint8Array;
  framesStart: number;
  framesEnd: number;
}

/** A data event's keys as `JSON.stringify` writes a {@link DataEvent} with no `frames` or `elided`. */
export const DATA_EVENT_KEYS: readonly string[] = Object.freeze(['type', 't', 'conn', 'stream', 'dir', 'hex']);

/** The {@link DataEvent} of a {@link DataBytes}: a new object, what `JSON.parse` gives of the line it was read from (its keys in order, `frames` parsed). */
export function dataEventOf(d: DataBytes): DataEvent {
  const hex = toHex(d.bytes.subarray(0, d.length));
  if (d.keys === DATA_EVENT_KEYS) return { type: 'data', t: d.t, conn: d.conn, stream: d.stream, dir: d.dir, hex };
  const ev: Record<string, unknown> = {};
  for (const k of d.keys) {
    if (k === 'frames') ev[k] = JSON.parse(Buffer.from(d.line.buffer, d.line.byteOffset + d.framesStart, d.framesEnd - d.framesStart).toString('utf8'));
    else ev[k] = k === 'type' ? 'data' : k === 'hex' ? hex : d[k as 't' | 'conn' | 'stream' | 'dir'];
  }
  return ev as unknown as DataEvent;
}

/** Encodes bytes as lower-case hex. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Decodes a hex string; throws `TypeError` on odd length or a non-hex digit. */
export function fromHex(hex: string): Uint8Array {
  if (hex.length <= SHORT_HEX) return fromShortHex(hex);
  // Buffer's decoder stops at the first pair that is not hex: a short result is the check (no regex pass).
  const buf = hex.length % 2 === 0 ? Buffer.from(hex, 'hex') : undefined;
  if (buf === undefined || buf.length * 2 !== hex.length) {
    throw new TypeError(`fromHex: not a hex string: ${JSON.stringify(hex.slice(0, 40))}`);
  }
  // A view of the decoded bytes (no second copy); a plain Uint8Array, not a Buffer.
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

/** Hex strings up to this many digits are decoded in JavaScript: cheaper than a call into Buffer's decoder (most chunks are a few bytes). */
const SHORT_HEX = 64;
/** Value of each character code as a hex digit (either case), 255 for others. */
export const HEX_VALUE = new Uint8Array(256).fill(255).map((v, c) => (c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : v));
/**
 * Value of each pair of character codes below 256 (`first << 8 | second`)
 * as a byte written in hex, -1 for a pair that is not two hex digits: one
 * look-up per byte decoded (128 KiB; made in about 0.2 ms).
 */
const HEX_PAIR = ((): Int16Array => {
  const table = new Int16Array(65536).fill(-1);
  const digits = [...'0123456789abcdefABCDEF'].map((d) => d.charCodeAt(0));
  for (const a of digits) for (const b of digits) table[(a << 8) | b] = (HEX_VALUE[a]! << 4) | HEX_VALUE[b]!;
  return table;
})();

/** {@link fromHex} for short strings, with the same result and the same error. */
function fromShortHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0) throw new TypeError(`fromHex: not a hex string: ${JSON.stringify(hex.slice(0, 40))}`);
  const out = new Uint8Array(hex.length >> 1);
  decodeShortHex(hex, out);
  return out;
}

/**
 * {@link fromHex} with no allocation when the bytes fit in `scratch`: for a
 * caller that decodes at every event and does not keep the bytes.
 * @returns `scratch` when `hex.length / 2` bytes fit in it (they are its
 *   first `hex.length / 2` bytes, valid until `scratch` is used again), else
 *   a new array of exactly those bytes.
 * @throws TypeError as {@link fromHex} does.
 */
export function fromHexInto(hex: string, scratch: Uint8Array): Uint8Array {
  if (hex.length > 2 * scratch.length || hex.length > SHORT_HEX) return fromHex(hex);
  if (hex.length % 2 !== 0) throw new TypeError(`fromHex: not a hex string: ${JSON.stringify(hex.slice(0, 40))}`);
  decodeShortHex(hex, scratch);
  return scratch;
}

/** Decodes `hex` (of even length) into the start of `out`, in JavaScript. @throws TypeError as {@link fromHex} does. */
function decodeShortHex(hex: string, out: Uint8Array): void {
  const n = hex.length;
  for (let i = 0; i < n; i += 2) {
    const a = hex.charCodeAt(i);
    const b = hex.charCodeAt(i + 1);
    const v = (a | b) < 256 ? HEX_PAIR[(a << 8) | b]! : -1;
    if (v < 0) throw new TypeError(`fromHex: not a hex string: ${JSON.stringify(hex.slice(0, 40))}`);
    out[i >> 1] = v;
  }
}

/** Monotonic clock in µs (integer), from `performance.now()`. */
export function nowUs(): number {
  return Math.round(performance.now() * 1000);
}

/** Listener told of every event appended to a {@link TraceRecorder}. */
export type TraceListener = (ev: TraceEvent, index: number) => void;

/** Events a server host's recorder keeps (the last ones; {@link TraceRecorder} `retainEvents`): a host lives as long as its server. */
export const HOST_TRACE_RETAIN_EVENTS = 10_000;

/** Default byte budget of one case's trace (8 MiB), whatever the profile: `--max-trace-bytes`. */
export const DEFAULT_CASE_TRACE_BYTES = 8 * 1024 * 1024;

/** Bytes each recorded event is charged besides its payload (its fields, as stored). */
export const TRACE_EVENT_OVERHEAD_BYTES = 64;

/** How many of the last bytes beyond the budget a truncated trace keeps ({@link TraceTruncation.lastHex}). */
export const TRUNCATION_TAIL_BYTES = 64;

/** What a trace over its byte budget left out (a case result's `traceTruncated`). */
export interface TraceTruncation {
  /** The budget in force, bytes. */
  readonly budgetBytes: number;
  /** Index of the first event recorded without its bytes (a `data`/`dgram` event with `elided`). */
  readonly firstIndex: number;
  /** Data and datagram chunks whose bytes were not recorded. */
  readonly chunks: number;
  /** Payload bytes seen by the monitor but not recorded. */
  readonly bytes: number;
  /** The last bytes not recorded (up to {@link TRUNCATION_TAIL_BYTES}), lower-case hex. */
  readonly lastHex: string;
}

/**
 * Append-only, in-memory trace with a time origin, listeners and a byte
 * budget. Drivers append; monitors and waiting cases listen.
 *
 * Budget: every event is charged its payload bytes plus
 * {@link TRACE_EVENT_OVERHEAD_BYTES}. Once the budget is spent, listeners
 * (the monitor) still get every event whole, but `data` and `dgram` events
 * are stored without their bytes (`hex: ''`, `elided: n`; consecutive
 * chunks of one stream and direction merged into one such event, so that
 * a flood costs one event), a note marks the point, and {@link truncation}
 * says what was left out.
 */
export class TraceRecorder {
  /** Monotonic µs value of `t = 0`. */
  readonly originUs: number;
  /** Wall-clock time of the origin (ISO 8601), for reports. */
  readonly originWall: string;
  readonly events: TraceEvent[] = [];
  private readonly listeners = new Set<TraceListener>();
  private nextConn = 0;
  private used = 0;
  /** Events dropped from the front of {@link events} (retention): an event's index is `dropped` + its position. */
  private dropped = 0;
  private cut: { firstIndex: number; chunks: number; bytes: number; tail: Buffer } | undefined;

  /**
   * @param originUs monotonic µs value of `t = 0` (default: now)
   * @param clock source of monotonic µs (default {@link nowUs}; a virtual clock for in-process runs)
   * @param maxBytes byte budget of the stored trace (default {@link DEFAULT_CASE_TRACE_BYTES})
   * @param retainEvents keep only about the last this many events in
   *   {@link events} (between this many and twice as many; older ones are
   *   dropped, their bytes given back to the budget, indices stay absolute):
   *   for a recorder that lives as long as a server does (the hosts), whose
   *   events are fed on and need not all be kept. Default: keep every event.
   */
  constructor(
    originUs: number = nowUs(),
    private readonly clock: () => number = nowUs,
    readonly maxBytes: number = DEFAULT_CASE_TRACE_BYTES,
    readonly retainEvents: number = Infinity,
  ) {
    this.originUs = originUs;
    this.originWall = new Date().toISOString();
  }

  /** Current time relative to the origin, µs. */
  now(): number {
    return this.clock() - this.originUs;
  }

  /** Allocates the next connection index. */
  allocConn(): number {
    return this.nextConn++;
  }

  /** Bytes charged to the budget so far (payloads and per-event overhead). */
  get recordedBytes(): number {
    return this.used;
  }

  /** What was left out, once the budget was spent; undefined while the trace is whole. */
  get truncation(): TraceTruncation | undefined {
    const c = this.cut;
    if (!c) return undefined;
    return { budgetBytes: this.maxBytes, firstIndex: c.firstIndex, chunks: c.chunks, bytes: c.bytes, lastHex: c.tail.toString('hex') };
  }

  /**
   * Appends an event stamped with the current time and notifies listeners
   * (with the whole event, even when the stored one lost its bytes).
   * A listener that throws is isolated: the error is recorded as a note.
   */
  record<E extends TraceEvent>(ev: DistributiveOmit<E, 't'>): E {
    const full = { ...ev, t: this.now() } as unknown as E;
    const index = this.store(full);
    for (const l of this.listeners) {
      try {
        l(full, index);
      } catch (err) {
        this.store({ type: 'note', t: this.now(), text: `listener error: ${String(err)}` });
      }
    }
    return full;
  }

  /** Stores an event within the budget; returns its index. */
  private store(ev: TraceEvent): number {
    if (this.events.length >= 2 * this.retainEvents) this.forget(this.events.length - this.retainEvents);
    const payload = ev.type === 'data' || ev.type === 'dgram' ? ev.hex.length >> 1 : 0;
    if (payload === 0 || this.used + payload + TRACE_EVENT_OVERHEAD_BYTES <= this.maxBytes) {
      this.used += payload + TRACE_EVENT_OVERHEAD_BYTES;
      this.events.push(ev);
      return this.dropped + this.events.length - 1;
    }
    const ch = ev as DataEvent | DatagramEvent;
    if (!this.cut) {
      this.events.push({ type: 'note', t: ev.t, text: `trace truncated: over its ${this.maxBytes}-byte budget; from here data is seen by the monitor but its bytes are not recorded (events carry "elided")` });
      this.cut = { firstIndex: this.dropped + this.events.length, chunks: 0, bytes: 0, tail: Buffer.alloc(0) };
    }
    const c = this.cut;
    c.chunks++;
    c.bytes += payload;
    const tailHex = ch.hex.length > 2 * TRUNCATION_TAIL_BYTES ? ch.hex.slice(-2 * TRUNCATION_TAIL_BYTES) : ch.hex;
    const joined = Buffer.concat([c.tail, Buffer.from(tailHex, 'hex')]);
    c.tail = joined.subarray(Math.max(0, joined.length - TRUNCATION_TAIL_BYTES));
    const last = this.events[this.events.length - 1];
    if (last && last.type === ch.type && last.elided !== undefined && last.conn === ch.conn && last.dir === ch.dir && (last.type === 'dgram' || (last as DataEvent).stream === (ch as DataEvent).stream)) {
      this.events[this.events.length - 1] = { ...last, elided: last.elided + payload };
      return this.dropped + this.events.length - 1;
    }
    const { frames: _frames, ...rest } = ch;
    this.used += TRACE_EVENT_OVERHEAD_BYTES;
    this.events.push({ ...rest, hex: '', elided: payload } as TraceEvent);
    return this.dropped + this.events.length - 1;
  }

  /** Drops the first `n` stored events (retention), giving their bytes back to the budget. */
  private forget(n: number): void {
    for (let i = 0; i < n; i++) {
      const ev = this.events[i]!;
      this.used -= (ev.type === 'data' || ev.type === 'dgram' ? ev.hex.length >> 1 : 0) + TRACE_EVENT_OVERHEAD_BYTES;
    }
    this.events.splice(0, n);
    this.dropped += n;
  }

  /** Adds a harness annotation. */
  note(text: string): void {
    this.record<NoteEvent>({ type: 'note', text });
  }

  /** Subscribes to new events; returns the unsubscribe function. */
  listen(l: TraceListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}

/** `Omit` that distributes over a union. */
export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
