/** Builders of client-side trace events for the Proton tests (times in ms, converted to µs). */
import type { TraceEvent } from '../../harness/engine/trace.js';
import { toHex } from '../../harness/engine/trace.js';
import type { Violation } from '../../harness/engine/types.js';
import { streamBytes } from '../../suites/proton/codec.js';
import { createProtonMonitor } from '../../suites/proton/monitor.js';
import type { ProtonProfile } from '../../suites/proton/profile.js';

const us = (ms: number) => Math.round(ms * 1000);

export const ev = {
  open: (conn: number, ms: number): TraceEvent => ({ type: 'conn_open', t: us(ms), conn, remote: '127.0.0.1:1' }),
  stream: (conn: number, stream: number, ms: number): TraceEvent => ({ type: 'stream_open', t: us(ms), conn, stream, by: 'client' }),
  c2s: (conn: number, stream: number, bytes: Uint8Array, ms: number): TraceEvent => ({ type: 'data', t: us(ms), conn, stream, dir: 'c2s', hex: toHex(bytes) }),
  s2c: (conn: number, stream: number, bytes: Uint8Array, ms: number): TraceEvent => ({ type: 'data', t: us(ms), conn, stream, dir: 's2c', hex: toHex(bytes) }),
  typed: (conn: number, stream: number, disc: number, items: number[], ms: number): TraceEvent => ev.c2s(conn, stream, streamBytes(disc, items), ms),
  cfin: (conn: number, stream: number, ms: number): TraceEvent => ({ type: 'stream_fin', t: us(ms), conn, stream, dir: 'c2s' }),
  sfin: (conn: number, stream: number, ms: number): TraceEvent => ({ type: 'stream_fin', t: us(ms), conn, stream, dir: 's2c' }),
  creset: (conn: number, stream: number, code: number, ms: number): TraceEvent => ({ type: 'stream_reset', t: us(ms), conn, stream, dir: 'c2s', kind: 'reset', code }),
  /** The client's STOP_SENDING: it stops the server's (s2c) data. */
  cstop: (conn: number, stream: number, code: number, ms: number): TraceEvent => ({ type: 'stream_reset', t: us(ms), conn, stream, dir: 's2c', kind: 'stop_sending', code }),
  sreset: (conn: number, stream: number, code: number, ms: number): TraceEvent => ({ type: 'stream_reset', t: us(ms), conn, stream, dir: 's2c', kind: 'reset', code }),
  cclose: (conn: number, ms: number): TraceEvent => ({ type: 'conn_close', t: us(ms), conn, by: 'client', isApp: true, code: 0, reason: '' }),
  sclose: (conn: number, code: number, reason: string, ms: number): TraceEvent => ({ type: 'conn_close', t: us(ms), conn, by: 'server', isApp: true, code, reason }),
};

/** Runs a monitor over a whole trace and then to `endMs`; returns every violation in order. */
export function check(profile: ProtonProfile, trace: readonly TraceEvent[], endMs?: number): Violation[] {
  const m = createProtonMonitor(profile);
  const out: Violation[] = [];
  trace.forEach((e, i) => out.push(...m.feed(e, i)));
  const end = endMs !== undefined ? us(endMs) : (trace.at(-1)?.t ?? 0);
  out.push(...m.advance(end));
  return out;
}

/** The first MUST violation, if any. */
export const firstMust = (vs: Violation[]): Violation | undefined => vs.find((v) => v.severity === 'must');
