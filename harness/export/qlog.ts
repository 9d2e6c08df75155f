/**
 * Traces as qlog, so that QUIC tools (qvis and others) open them: the
 * sequential file format (JSON Text Sequences, RFC 7464: each record is
 * 0x1E, a JSON text, a line feed; `.sqlog`) of the qlog main schema
 * (draft-ietf-quic-qlog-main-schema-14 §5, `urn:ietf:params:qlog:file:sequential`)
 * with the QUIC event definitions (draft-ietf-quic-qlog-quic-events-13, event
 * schema `urn:ietf:params:qlog:events:quic-13`, as its §2.1 asks draft
 * implementations to name it) and wirecheck's own events in a private event schema
 * ({@link WIRECHECK_EVENT_SCHEMA}, namespace `wirecheck`).
 *
 * The harness records at stream level (no packets), from the client's seat:
 *
 * | trace event  | qlog events                                                                 |
 * |--------------|-----------------------------------------------------------------------------|
 * | conn_open    | `quic:connection_started` (remote address), `quic:alpn_information` (chosen ALPN) |
 * | conn_fail    | `wirecheck:connection_failed` (message)                                     |
 * | conn_close   | `quic:connection_closed` (initiator, transport/application error, reason, trigger) |
 * | stream_open  | `quic:stream_state_updated` `open` (one per side the stream has)            |
 * | data         | `quic:stream_data_moved` (offset, bytes), then `wirecheck:frame_created` (sent) / `wirecheck:frame_parsed` (received) per decoded frame |
 * | stream_fin   | `quic:stream_data_moved` `fin_set`, `quic:stream_state_updated` (`data_sent` / `size_known`) |
 * | stream_reset | `quic:stream_state_updated` (`reset_sent` / `reset_received` for RESET_STREAM), `wirecheck:stream_aborted` (frame type, error code) |
 * | dgram        | `quic:datagram_data_moved`, then the decoded frames as above                |
 * | impair       | `wirecheck:impairment`                                                      |
 * | note         | `wirecheck:note`                                                            |
 *
 * and the case's outcome as `wirecheck:verdict` (after the violating event,
 * or at the missed deadline, or at the end). Times are milliseconds since
 * the trace origin on a monotonic clock (`reference_time` `monotonic`,
 * epoch `unknown`, with the trace's wall-clock origin when known). Each
 * connection is a group (`group_id` `conn-N`); harness events belong to the
 * connection last seen.
 *
 * Pure: no I/O (see `index.ts` for files).
 */
import type { Direction, TraceEvent } from '../engine/trace.js';
import type { CaseFinding, Verdict, Violation } from '../engine/types.js';
import { isViolation } from '../reports/finding.js';

/** The qlog drafts this code follows. */
export const QLOG_MAIN_SCHEMA_DRAFT = 'draft-ietf-quic-qlog-main-schema-14';
export const QLOG_QUIC_EVENTS_DRAFT = 'draft-ietf-quic-qlog-quic-events-13';
/** `file_schema` of a sequential qlog file (main schema §5). */
export const QLOG_FILE_SCHEMA_SEQ = 'urn:ietf:params:qlog:file:sequential';
/** `serialization_format` of JSON-SEQ (main schema §11.2). */
export const QLOG_JSON_SEQ_MEDIA_TYPE = 'application/qlog+json-seq';
/** Event schema URI of the QUIC events, as a draft implementation must name it (quic-events-13 §2.1). */
export const QUIC_EVENT_SCHEMA = 'urn:ietf:params:qlog:events:quic-13';
/** Private event schema of wirecheck's events (main schema §8.1: a URI with a domain and mmyyyy). */
export const WIRECHECK_EVENT_SCHEMA = 'https://wirecheck.dev/122026/qlog-events';

/** What a trace is of, for the qlog header. */
export interface QlogTraceInfo {
  readonly protocol: string;
  /** Case or fixture id. */
  readonly case?: string;
  readonly description?: string;
  readonly target?: string;
  /** Wall-clock time (ISO 8601) of t = 0, when known. */
  readonly origin?: string;
  /** Who recorded the trace (default client: the harness). */
  readonly recordedBy?: 'client' | 'server' | 'converted';
}

/** The outcome drawn as `wirecheck:verdict`. */
export interface QlogVerdict {
  readonly verdict: Verdict;
  readonly violation?: Violation | CaseFinding;
  readonly message?: string;
}

/** One qlog record: the header (first) or an event. */
export type QlogRecord = Readonly<Record<string, unknown>>;

/** Transport error names by code (RFC 9000 §20.1; quic-events-13 `TransportError`). */
const TRANSPORT_ERRORS: readonly string[] = [
  'no_error', 'internal_error', 'connection_refused', 'flow_control_error', 'stream_limit_error', 'stream_state_error',
  'final_size_error', 'frame_encoding_error', 'transport_parameter_error', 'connection_id_limit_error', 'protocol_violation',
  'invalid_token', 'application_error', 'crypto_buffer_exceeded', 'key_update_error', 'aead_limit_reached', 'no_viable_path',
];

/** `connection_error` of a transport close code: its name, `crypto_error_0x1XX`, or `unknown` (with `error_code`). */
export function transportError(code: number): { connection_error: string; error_code?: number } {
  const name = TRANSPORT_ERRORS[code];
  if (name !== undefined) return { connection_error: name };
  if (code >= 0x100 && code <= 0x1ff) return { connection_error: `crypto_error_0x${code.toString(16)}` };
  return { connection_error: 'unknown', error_code: code };
}

/** `host:port` / `[v6]:port` as a qlog TupleEndpointInfo (the address only when it is an IP literal). */
export function endpointInfo(remote: string): Record<string, unknown> {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(remote) ?? /^([^:]+):(\d+)$/.exec(remote);
  if (!m) return {};
  const host = m[1]!;
  const port = Number(m[2]);
  if (remote.startsWith('[')) return { ip_v6: host.toLowerCase(), port_v6: port };
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) return { ip_v4: host, port_v4: port };
  return {};
}

/** Milliseconds (qlog `time`) from trace µs. */
const ms = (tUs: number): number => tUs / 1000;

/** `stream_type` from a trace v2 `dir` (absent: bidi) or, failing that, the QUIC stream id (RFC 9000 §2.1: bit 0x2). */
function streamType(stream: number, dir: 'bidi' | 'uni' | undefined): 'bidirectional' | 'unidirectional' {
  const kind = dir ?? ((stream & 0x2) !== 0 ? 'uni' : 'bidi');
  return kind === 'uni' ? 'unidirectional' : 'bidirectional';
}

/**
 * The qlog records of one trace: the header, then its events in trace order
 * (one trace event may give several records), with the verdict marker.
 * `events` may carry decoded `frames` (trace files written by runs do).
 */
export function traceToQlog(info: QlogTraceInfo, events: readonly TraceEvent[], verdict?: QlogVerdict): QlogRecord[] {
  const conns = [...new Set(events.flatMap((e) => (e.type === 'note' ? [] : [e.conn])))];
  const single = conns.length <= 1;
  const group = (conn: number): string => `conn-${conn}`;
  const title = `wirecheck ${info.protocol}${info.case !== undefined ? ` ${info.case}` : ''}`;
  const header: QlogRecord = {
    file_schema: QLOG_FILE_SCHEMA_SEQ,
    serialization_format: QLOG_JSON_SEQ_MEDIA_TYPE,
    // qlog 0.3 markers (JSON-SEQ) as quic-go writes them beside the draft's: qvis picks its loader by them.
    qlog_version: '0.3',
    qlog_format: 'JSON-SEQ',
    title,
    description: [info.description, info.target !== undefined ? `target ${info.target}` : undefined].filter((x) => x !== undefined).join('; ') || title,
    trace: {
      title,
      ...(info.description !== undefined ? { description: info.description } : {}),
      common_fields: {
        time_format: 'relative_to_epoch',
        reference_time: { clock_type: 'monotonic', epoch: 'unknown', ...(info.origin !== undefined ? { wall_clock_time: info.origin } : {}) },
        ...(single ? { group_id: group(conns[0] ?? 0) } : {}),
      },
      vantage_point: info.recordedBy === 'server' ? { name: 'wirecheck', type: 'server' } : info.recordedBy === 'converted' ? { name: 'wirecheck (converted trace)', type: 'network', flow: 'client' } : { name: 'wirecheck', type: 'client' },
      event_schemas: [QUIC_EVENT_SCHEMA, WIRECHECK_EVENT_SCHEMA],
    },
  };

  // The client's view (a converted trace: an observer with client flow semantics), unless a server recorded it.
  const local: 'client' | 'server' = info.recordedBy === 'server' ? 'server' : 'client';
  const sentBy = (dir: Direction): boolean => (local === 'client' ? dir === 'c2s' : dir === 's2c');
  const offsets = new Map<string, number>();
  const out: { index: number; t: number; rec: QlogRecord }[] = [];
  let lastConn = conns[0] ?? 0;
  const push = (index: number, t: number, conn: number, name: string, data: Record<string, unknown>): void => {
    out.push({ index, t, rec: { time: ms(t), name, data, ...(single ? {} : { group_id: group(conn) }) } });
  };
  const frames = (index: number, t: number, conn: number, dir: Direction, list: readonly Readonly<Record<string, unknown>>[] | undefined, where: Record<string, unknown>): void => {
    for (const f of list ?? []) push(index, t, conn, sentBy(dir) ? 'wirecheck:frame_created' : 'wirecheck:frame_parsed', { ...where, protocol: info.protocol, frame: f });
  };

  for (const [index, ev] of events.entries()) {
    const t = ev.t;
    if (ev.type !== 'note') lastConn = ev.conn;
    switch (ev.type) {
      case 'conn_open':
        push(index, t, ev.conn, 'quic:connection_started', { local: {}, remote: endpointInfo(ev.remote) });
        if (ev.alpn !== undefined) push(index, t, ev.conn, 'quic:alpn_information', { chosen_alpn: { string_value: ev.alpn, byte_value: Buffer.from(ev.alpn, 'utf8').toString('hex') } });
        break;
      case 'conn_fail':
        push(index, t, ev.conn, 'wirecheck:connection_failed', { message: ev.message });
        break;
      case 'conn_close': {
        const initiator = ev.by === 'transport' ? undefined : ev.by === local ? 'local' : 'remote';
        const error = ev.isApp ? { application_error: 'unknown', error_code: ev.code } : transportError(ev.code);
        const trigger = ev.by === 'transport' ? (/idle/i.test(ev.reason) ? 'idle_timeout' : 'unspecified') : ev.isApp ? 'application' : ev.code === 0 ? 'unspecified' : 'error';
        push(index, t, ev.conn, 'quic:connection_closed', { ...(initiator ? { initiator } : {}), ...error, ...(ev.reason !== '' ? { reason: ev.reason } : {}), trigger });
        break;
      }
      case 'stream_open': {
        const type = streamType(ev.stream, ev.dir);
        const trigger = ev.by === local ? 'local' : 'remote';
        const sides: ('sending' | 'receiving')[] = type === 'bidirectional' ? ['sending', 'receiving'] : [ev.by === local ? 'sending' : 'receiving'];
        for (const side of sides) push(index, t, ev.conn, 'quic:stream_state_updated', { stream_id: ev.stream, stream_type: type, new: 'open', stream_side: side, trigger });
        break;
      }
      case 'data': {
        const key = `${ev.conn}/${ev.stream}/${ev.dir}`;
        const offset = offsets.get(key) ?? 0;
        const length = ev.hex.length >> 1;
        offsets.set(key, offset + length);
        const [from, to] = sentBy(ev.dir) ? ['application', 'transport'] : ['transport', 'application'];
        push(index, t, ev.conn, 'quic:stream_data_moved', { stream_id: ev.stream, offset, from, to, raw: { length, data: ev.hex.toLowerCase() } });
        frames(index, t, ev.conn, ev.dir, ev.frames, { stream_id: ev.stream });
        break;
      }
      case 'stream_fin': {
        const key = `${ev.conn}/${ev.stream}/${ev.dir}`;
        const sent = sentBy(ev.dir);
        push(index, t, ev.conn, 'quic:stream_data_moved', { stream_id: ev.stream, offset: offsets.get(key) ?? 0, from: sent ? 'application' : 'transport', to: sent ? 'transport' : 'application', additional_info: 'fin_set', raw: { length: 0 } });
        push(index, t, ev.conn, 'quic:stream_state_updated', { stream_id: ev.stream, new: sent ? 'data_sent' : 'size_known', stream_side: sent ? 'sending' : 'receiving', trigger: sent ? 'local' : 'remote' });
        break;
      }
      case 'stream_reset': {
        // dir is the direction of the data aborted (trace.ts): RESET_STREAM comes from its writer, STOP_SENDING from its reader.
        const ourData = sentBy(ev.dir);
        const byUs = ev.kind === 'reset' ? ourData : !ourData;
        if (ev.kind === 'reset') {
          push(index, t, ev.conn, 'quic:stream_state_updated', { stream_id: ev.stream, new: byUs ? 'reset_sent' : 'reset_received', stream_side: byUs ? 'sending' : 'receiving', trigger: byUs ? 'local' : 'remote' });
          if (!byUs) push(index, t, ev.conn, 'quic:stream_data_moved', { stream_id: ev.stream, from: 'transport', to: 'application', additional_info: 'stream_reset' });
        }
        push(index, t, ev.conn, 'wirecheck:stream_aborted', { stream_id: ev.stream, frame_type: ev.kind === 'reset' ? 'reset_stream' : 'stop_sending', error_code: ev.code, initiator: byUs ? 'local' : 'remote' });
        break;
      }
      case 'dgram': {
        const [from, to] = sentBy(ev.dir) ? ['application', 'transport'] : ['transport', 'application'];
        push(index, t, ev.conn, 'quic:datagram_data_moved', { from, to, raw: { length: ev.hex.length >> 1, data: ev.hex.toLowerCase() } });
        frames(index, t, ev.conn, ev.dir, ev.frames, { datagram: true });
        break;
      }
      case 'impair':
        push(index, t, ev.conn, 'wirecheck:impairment', { kind: ev.kind, ...(ev.detail !== undefined ? { detail: ev.detail } : {}) });
        break;
      case 'note':
        push(index, t, lastConn, 'wirecheck:note', { text: ev.text });
        break;
      default: {
        // A trace file's event of a type this code does not know: kept as a note, never dropped silently.
        const unknown: unknown = ev satisfies never;
        push(index, (unknown as { t?: number }).t ?? 0, lastConn, 'wirecheck:note', { text: `unknown trace event ${JSON.stringify(unknown)}` });
      }
    }
  }

  if (verdict !== undefined) {
    const v = verdict.violation;
    const where = v !== undefined && isViolation(v) ? v : undefined;
    const data: Record<string, unknown> = {
      ...(info.case !== undefined ? { case: info.case } : {}),
      verdict: verdict.verdict,
      ...(v !== undefined ? { rule: v.rule, severity: v.severity, expected: v.expected, seen: v.seen } : {}),
      ...(where !== undefined ? { state: where.state, trace_index: where.index, missing: where.missing } : {}),
      ...(verdict.message !== undefined ? { message: verdict.message } : {}),
    };
    const lastT = events.at(-1)?.t ?? 0;
    let at = out.length;
    let t = lastT;
    if (where !== undefined && where.index >= 0) {
      // Right after the records of the violating event.
      const after = out.findLastIndex((r) => r.index === where.index);
      at = after >= 0 ? after + 1 : out.length;
      t = events[where.index]?.t ?? where.t;
    } else if (where !== undefined) {
      // A missed deadline: where its time falls.
      const first = out.findIndex((r) => r.t > where.t);
      at = first >= 0 ? first : out.length;
      t = where.t;
    }
    const conn = where !== undefined && where.index >= 0 ? (events[where.index] as { conn?: number } | undefined)?.conn ?? lastConn : lastConn;
    out.splice(at, 0, { index: -1, t, rec: { time: ms(t), name: 'wirecheck:verdict', data, ...(single ? {} : { group_id: group(conn) }) } });
  }
  return [header, ...out.map((r) => r.rec)];
}

/** Serialises records as JSON Text Sequences (RFC 7464): each is 0x1E, the JSON text, 0x0A. */
export function toJsonSeq(records: readonly QlogRecord[]): string {
  return records.map((r) => `\x1e${JSON.stringify(r)}\n`).join('');
}

/**
 * Parses a JSON Text Sequence (RFC 7464 §2.1): records start with 0x1E; a
 * record that is not valid JSON is an error naming its position.
 * @throws SyntaxError `record N: …` for a malformed record, or for text before the first 0x1E.
 */
export function parseJsonSeq(text: string): unknown[] {
  const parts = text.split('\x1e');
  if (parts[0]!.trim() !== '') throw new SyntaxError('record 0: text before the first record separator (0x1E)');
  return parts.slice(1).map((p, i) => {
    try {
      return JSON.parse(p) as unknown;
    } catch (err) {
      throw new SyntaxError(`record ${i + 1}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
    }
  });
}
