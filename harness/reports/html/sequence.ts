/**
 * The sequence diagram of a case's trace, as data: lanes (one per client
 * connection, then the server) and rows (one arrow per decoded frame, stream
 * signal, datagram, connection open and close; marks for stream opens and
 * impairments; notes). Pure: the SVG is drawn from this by `svg.ts`, so the
 * layout is tested without a browser.
 *
 * Directions follow the trace's (harness/engine/trace.ts): `c2s` goes from
 * a connection's client lane to the server lane. A RESET_STREAM travels in
 * the direction of the data it aborts, a STOP_SENDING against it (RFC 9000
 * §19.4, §19.5).
 */
import type { Direction, TraceEvent } from '../../engine/trace.js';
import type { CaseFinding, Violation } from '../../engine/types.js';
import { isViolation } from '../finding.js';

/** One vertical lifeline. */
export interface Lane {
  /** `conn:N` for a client connection, `server` for the server. */
  readonly key: string;
  /** Heading: the client's role (or `client`) and its connection, or `server`. */
  readonly label: string;
  /** Connection index, for client lanes. */
  readonly conn?: number;
}

/** How a row is drawn (a CSS class of the SVG). */
export type RowStyle = 'data' | 'open' | 'close' | 'fin' | 'reset' | 'dgram' | 'fail' | 'stream' | 'impair' | 'note' | 'deadline';

/** One row of the diagram (top to bottom in trace order). */
export type SequenceRow =
  | {
      /** An arrow between two lanes. */
      readonly kind: 'arrow';
      /** Index of the trace event it draws (several rows may share one: one per frame). */
      readonly index: number;
      /** µs since the trace origin. */
      readonly t: number;
      /** Lane indices. */
      readonly from: number;
      readonly to: number;
      readonly label: string;
      /** Second line: stream, size. */
      readonly detail: string;
      readonly style: RowStyle;
      /** Dashed (unreliable: a datagram; or a close by the transport). */
      readonly dashed: boolean;
    }
  | {
      /** A mark on one lane (stream opened, impairment, failed connect). */
      readonly kind: 'mark';
      readonly index: number;
      readonly t: number;
      readonly lane: number;
      readonly label: string;
      readonly style: RowStyle;
    }
  | {
      /** A harness note across all lanes, or the missed deadline of a violation (`index` -1). */
      readonly kind: 'note';
      readonly index: number;
      readonly t: number;
      readonly label: string;
      readonly style: 'note' | 'deadline';
    };

/** The diagram of one trace. */
export interface SequenceLayout {
  readonly lanes: readonly Lane[];
  readonly rows: readonly SequenceRow[];
  /** Index of the violating event (-1: a missed deadline, drawn as the last row); undefined when none. */
  readonly violationIndex?: number;
  /** Events left out before / after the window drawn (long traces). */
  readonly omittedBefore: number;
  readonly omittedAfter: number;
}

/** Options of {@link layoutSequence}. */
export interface LayoutOptions {
  /** Most trace events drawn (default 300); a window around the violation is kept. */
  readonly maxEvents?: number;
  /** Most payload bytes shown in hex when a data event has no decoded frames (default 12). */
  readonly hexBytes?: number;
}

/** `0x1d`-style code. */
export function hexCode(c: number): string {
  return Number.isInteger(c) && c >= 0 ? `0x${c.toString(16)}` : String(c);
}

/** Renders one decoded frame (`{event: 3}` → `event 3`, `{discriminator: 'event'}` → `discriminator event`). */
export function frameLabel(frame: Readonly<Record<string, unknown>>): string {
  const parts = Object.entries(frame).map(([k, v]) => {
    const val = typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' ? String(v) : JSON.stringify(v);
    return `${k} ${val}`;
  });
  return parts.length ? parts.join(', ') : '{}';
}

/** Hex of a payload cut to `max` bytes (`00000001… (+12 B)`), or `(empty)`. */
export function hexExcerpt(hex: string, max: number): string {
  const bytes = hex.length >> 1;
  if (bytes === 0) return '(empty)';
  return bytes > max ? `${hex.slice(0, max * 2)}… (+${bytes - max} B)` : hex;
}

const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;

/**
 * Lays out a trace as a sequence diagram.
 * @param trace the case's events (data events may carry decoded `frames`)
 * @param violation the case's finding: a monitor violation's event is highlighted, a missed deadline is added as the last row
 */
export function layoutSequence(trace: readonly TraceEvent[], violation?: Violation | CaseFinding, opts: LayoutOptions = {}): SequenceLayout {
  const maxEvents = Math.max(1, opts.maxEvents ?? 300);
  const hexBytes = Math.max(1, opts.hexBytes ?? 12);
  const vIndex = violation !== undefined && isViolation(violation) ? violation.index : undefined;

  // The window drawn: the whole trace, or maxEvents around the violation (the end when none).
  let start = 0;
  let end = trace.length;
  if (trace.length > maxEvents) {
    const centre = vIndex !== undefined && vIndex >= 0 && vIndex < trace.length ? vIndex : trace.length - 1;
    start = Math.min(Math.max(0, centre - Math.floor(maxEvents / 2)), trace.length - maxEvents);
    end = start + maxEvents;
  }

  // Lanes: one per connection, in order of first appearance, with its role when the trace names one.
  const connLane = new Map<number, number>();
  const lanes: Lane[] = [];
  const roles = new Map<number, string>();
  for (const ev of trace) {
    if (ev.type === 'note') continue;
    if (ev.role !== undefined && !roles.has(ev.conn)) roles.set(ev.conn, ev.role);
    if (!connLane.has(ev.conn)) {
      connLane.set(ev.conn, lanes.length);
      lanes.push({ key: `conn:${ev.conn}`, label: '', conn: ev.conn });
    }
  }
  for (const [i, l] of lanes.entries()) lanes[i] = { ...l, label: `${roles.get(l.conn!) ?? 'client'} · conn ${l.conn}` };
  if (lanes.length === 0) lanes.push({ key: 'conn:0', label: 'client', conn: 0 });
  const server = lanes.length;
  lanes.push({ key: 'server', label: 'server' });

  const laneOf = (conn: number): number => connLane.get(conn) ?? 0;
  /** Lane pair of something travelling in `dir` on `conn`. */
  const ends = (conn: number, dir: Direction): { from: number; to: number } =>
    dir === 'c2s' ? { from: laneOf(conn), to: server } : { from: server, to: laneOf(conn) };
  const against = (dir: Direction): Direction => (dir === 'c2s' ? 's2c' : 'c2s');

  const rows: SequenceRow[] = [];
  for (let index = start; index < end; index++) {
    const ev = trace[index]!;
    const t = ev.t;
    switch (ev.type) {
      case 'conn_open':
        rows.push({ kind: 'arrow', index, t, ...ends(ev.conn, 'c2s'), label: `connection open${ev.alpn !== undefined ? ` (ALPN ${ev.alpn})` : ''}`, detail: ev.remote, style: 'open', dashed: false });
        break;
      case 'conn_fail':
        rows.push({ kind: 'mark', index, t, lane: laneOf(ev.conn), label: `connect failed: ${ev.message}`, style: 'fail' });
        break;
      case 'conn_close': {
        const what = `${ev.isApp ? 'CONNECTION_CLOSE (application)' : 'connection close (transport)'} code ${hexCode(ev.code)}`;
        const detail = ev.reason !== '' ? `reason ${JSON.stringify(ev.reason)}` : 'no reason';
        if (ev.by === 'transport') rows.push({ kind: 'arrow', index, t, from: laneOf(ev.conn), to: server, label: `${what} by the transport`, detail, style: 'close', dashed: true });
        else rows.push({ kind: 'arrow', index, t, ...ends(ev.conn, ev.by === 'client' ? 'c2s' : 's2c'), label: what, detail, style: 'close', dashed: false });
        break;
      }
      case 'stream_open':
        rows.push({ kind: 'mark', index, t, lane: ev.by === 'client' ? laneOf(ev.conn) : server, label: `opens stream ${ev.stream}${ev.dir === 'uni' ? ' (uni)' : ''}`, style: 'stream' });
        break;
      case 'data': {
        const bytes = ev.hex.length >> 1;
        const detail = `stream ${ev.stream} · ${plural(bytes, 'byte')}`;
        if (ev.frames !== undefined && ev.frames.length > 0) {
          const n = ev.frames.length;
          for (const [i, f] of ev.frames.entries()) rows.push({ kind: 'arrow', index, t, ...ends(ev.conn, ev.dir), label: frameLabel(f), detail: n > 1 ? `${detail} · frame ${i + 1}/${n}` : detail, style: 'data', dashed: false });
        } else {
          rows.push({ kind: 'arrow', index, t, ...ends(ev.conn, ev.dir), label: hexExcerpt(ev.hex, hexBytes), detail, style: 'data', dashed: false });
        }
        break;
      }
      case 'stream_fin':
        rows.push({ kind: 'arrow', index, t, ...ends(ev.conn, ev.dir), label: 'FIN', detail: `stream ${ev.stream}`, style: 'fin', dashed: false });
        break;
      case 'stream_reset':
        rows.push({
          kind: 'arrow',
          index,
          t,
          // RESET_STREAM goes with the aborted data, STOP_SENDING against it.
          ...ends(ev.conn, ev.kind === 'reset' ? ev.dir : against(ev.dir)),
          label: `${ev.kind === 'reset' ? 'RESET_STREAM' : 'STOP_SENDING'} code ${hexCode(ev.code)}`,
          detail: `stream ${ev.stream}`,
          style: 'reset',
          dashed: false,
        });
        break;
      case 'dgram': {
        const bytes = ev.hex.length >> 1;
        const detail = `datagram · ${plural(bytes, 'byte')}`;
        if (ev.frames !== undefined && ev.frames.length > 0) {
          for (const f of ev.frames) rows.push({ kind: 'arrow', index, t, ...ends(ev.conn, ev.dir), label: frameLabel(f), detail, style: 'dgram', dashed: true });
        } else {
          rows.push({ kind: 'arrow', index, t, ...ends(ev.conn, ev.dir), label: hexExcerpt(ev.hex, hexBytes), detail, style: 'dgram', dashed: true });
        }
        break;
      }
      case 'impair':
        rows.push({ kind: 'mark', index, t, lane: laneOf(ev.conn), label: `network ${ev.kind}${ev.detail !== undefined ? `: ${ev.detail}` : ''}`, style: 'impair' });
        break;
      case 'note':
        rows.push({ kind: 'note', index, t, label: ev.text, style: 'note' });
        break;
      default: {
        // An event of a type this code does not know (a trace read from a file): shown as a note, never dropped silently.
        const unknown: unknown = ev satisfies never;
        rows.push({ kind: 'note', index, t: (unknown as { t?: number }).t ?? 0, label: `unknown event ${JSON.stringify(unknown)}`, style: 'note' });
      }
    }
  }
  if (violation !== undefined && isViolation(violation) && violation.index < 0) {
    rows.push({ kind: 'note', index: -1, t: violation.t, label: `deadline passed: ${violation.seen}`, style: 'deadline' });
  }
  return {
    lanes,
    rows,
    ...(vIndex !== undefined ? { violationIndex: vIndex } : {}),
    omittedBefore: start,
    omittedAfter: trace.length - end,
  };
}
