/**
 * Compact, one-line renderings of trace events, shared by the TAP and the
 * terminal reporters. Every line starts with the event time in milliseconds
 * since the trace origin (`+12.345ms`), then the connection, direction and
 * stream where the event has them, e.g.
 *
 *     +12.345ms conn0 s2c stream 0 data 00000001
 *     +13.002ms conn0 close by server app code 0x3 reason "bad item"
 */
import type { TraceEvent } from '../engine/trace.js';

/** Options of {@link formatTraceEvent}. */
export interface TraceFormatOptions {
  /**
   * Most payload bytes shown for a `data` event (default 32); longer payloads
   * are cut and followed by `… (+N B)` saying how many bytes were left out.
   */
  readonly maxDataBytes?: number;
  /** Most characters shown of a free-text field (note, reason, message; default 160). */
  readonly maxTextChars?: number;
}

/** Options of {@link traceExcerpt}. */
export interface TraceExcerptOptions extends TraceFormatOptions {
  /**
   * Text appended to the line of the centre event (default `'  <-- here'`);
   * nothing is appended when the centre is not an index of the trace.
   */
  readonly mark?: string;
}

/** Default radius of an excerpt: 6 events either side, 13 lines at most. */
export const DEFAULT_EXCERPT_RADIUS = 6;

/**
 * Formats a trace time (integer µs since the trace origin) as `+12.345ms`
 * (milliseconds, three decimals, always signed).
 */
export function formatTraceTime(tUs: number): string {
  const ms = tUs / 1000;
  return `${ms < 0 ? '-' : '+'}${Math.abs(ms).toFixed(3)}ms`;
}

/** Formats an error or stream code as hex (`0x1d`); QUIC codes are conventionally hex. */
function code(c: number): string {
  return Number.isInteger(c) && c >= 0 ? `0x${c.toString(16)}` : String(c);
}

/** Quotes free text on one line (JSON string escapes), cut to `max` characters. */
function text(s: string, max: number): string {
  const cut = s.length > max ? `${s.slice(0, max)}…` : s;
  return JSON.stringify(cut);
}

/**
 * Renders one trace event as a single line (no line breaks, whatever the
 * event holds): time, connection, direction, stream, event kind, details.
 * Payloads are shown as hex, cut to {@link TraceFormatOptions.maxDataBytes};
 * free text is JSON-quoted.
 *
 * | type         | rendering                                                       |
 * |--------------|-----------------------------------------------------------------|
 * | conn_open    | `+0.120ms conn0 open remote 127.0.0.1:4433 alpn proton/1`       |
 * | conn_fail    | `+5.000ms conn1 fail "connect ECONNREFUSED"`                    |
 * | conn_close   | `+9.000ms conn0 close by server app code 0x3 reason "bye"`      |
 * | stream_open  | `+0.200ms conn0 stream 0 open by client`                        |
 * | data         | `+0.300ms conn0 c2s stream 0 data 00000001`                     |
 * | stream_fin   | `+0.400ms conn0 c2s stream 0 fin`                               |
 * | stream_reset | `+0.500ms conn0 s2c stream 0 reset code 0x2` (or `stop_sending`) |
 * | note         | `+0.600ms note "sending two requests"`                          |
 */
export function formatTraceEvent(ev: TraceEvent, opts: TraceFormatOptions = {}): string {
  const maxBytes = Math.max(0, opts.maxDataBytes ?? 32);
  const maxText = Math.max(1, opts.maxTextChars ?? 160);
  const at = formatTraceTime(ev.t);
  switch (ev.type) {
    case 'conn_open':
      return `${at} conn${ev.conn} open remote ${ev.remote}${ev.alpn !== undefined ? ` alpn ${ev.alpn}` : ''}`;
    case 'conn_fail':
      return `${at} conn${ev.conn} fail ${text(ev.message, maxText)}`;
    case 'conn_close':
      return (
        `${at} conn${ev.conn} close by ${ev.by} ${ev.isApp ? 'app' : 'transport'} code ${code(ev.code)}` +
        (ev.reason !== '' ? ` reason ${text(ev.reason, maxText)}` : '')
      );
    case 'stream_open':
      return `${at} conn${ev.conn} stream ${ev.stream} open by ${ev.by}${ev.dir === 'uni' ? ' (uni)' : ''}`;
    case 'data': {
      const bytes = ev.hex.length >> 1;
      const shown = bytes > maxBytes ? `${ev.hex.slice(0, maxBytes * 2)}… (+${bytes - maxBytes} B)` : ev.hex;
      return `${at} conn${ev.conn} ${ev.dir} stream ${ev.stream} data ${bytes === 0 ? '(empty)' : shown}`;
    }
    case 'stream_fin':
      return `${at} conn${ev.conn} ${ev.dir} stream ${ev.stream} fin`;
    case 'stream_reset':
      return `${at} conn${ev.conn} ${ev.dir} stream ${ev.stream} ${ev.kind} code ${code(ev.code)}`;
    case 'dgram': {
      const bytes = ev.hex.length >> 1;
      const shown = bytes > maxBytes ? `${ev.hex.slice(0, maxBytes * 2)}… (+${bytes - maxBytes} B)` : ev.hex;
      return `${at} conn${ev.conn} ${ev.dir} datagram ${bytes === 0 ? '(empty)' : shown}`;
    }
    case 'impair':
      return `${at} conn${ev.conn} impair ${ev.kind}${ev.detail !== undefined ? ` ${text(ev.detail, maxText)}` : ''}`;
    case 'note':
      return `${at} note ${text(ev.text, maxText)}`;
    default: {
      // Not a known event (a trace read from an untrusted file): show it raw.
      const unknown: unknown = ev satisfies never;
      return `${at} ${JSON.stringify(unknown)}`;
    }
  }
}

/**
 * An excerpt of a trace as formatted lines: a window of at most
 * `2 * radius + 1` consecutive events containing `centreIndex`, moved
 * inwards at either end of the trace so that it stays full. When
 * `centreIndex` is not an index of the trace (e.g. -1, a violation raised
 * by a missed deadline, or undefined), the window is the last events.
 *
 * Events left out are summarised by a line such as `(12 earlier events)` /
 * `(3 later events)`; the centre event's line ends with
 * {@link TraceExcerptOptions.mark}. An empty trace gives `['(empty trace)']`.
 *
 * @param trace the trace events, in order
 * @param centreIndex index of the event of interest (a violation's `index`)
 * @param radius events shown either side (default {@link DEFAULT_EXCERPT_RADIUS})
 */
export function traceExcerpt(
  trace: readonly TraceEvent[],
  centreIndex: number | undefined,
  radius: number = DEFAULT_EXCERPT_RADIUS,
  opts: TraceExcerptOptions = {},
): string[] {
  if (trace.length === 0) return ['(empty trace)'];
  const r = Math.max(0, Math.floor(radius));
  const size = Math.min(trace.length, 2 * r + 1);
  const hasCentre =
    centreIndex !== undefined && Number.isInteger(centreIndex) && centreIndex >= 0 && centreIndex < trace.length;
  let start: number;
  if (hasCentre) {
    start = Math.min(Math.max(0, centreIndex - r), trace.length - size);
  } else {
    start = trace.length - size;
  }
  const end = start + size;
  const mark = opts.mark ?? '  <-- here';
  const lines: string[] = [];
  if (start > 0) lines.push(`(${start} earlier event${start === 1 ? '' : 's'})`);
  for (let i = start; i < end; i++) {
    const ev = trace[i];
    if (ev === undefined) continue;
    const line = formatTraceEvent(ev, opts);
    lines.push(hasCentre && i === centreIndex ? `${line}${mark}` : line);
  }
  const later = trace.length - end;
  if (later > 0) lines.push(`(${later} later event${later === 1 ? '' : 's'})`);
  return lines;
}
