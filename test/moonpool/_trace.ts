/** Builders of trace events for the Moonpool tests (times in ms, converted to µs). */
import type { TraceEvent } from '../../harness/engine/trace.js';
import { toHex } from '../../harness/engine/trace.js';
import type { Violation } from '../../harness/engine/types.js';
import { encodeEnvelope, encodeEnvelopes, PING, PONG, type Envelope } from '../../suites/moonpool/codec.js';
import { createMoonpoolMonitor } from '../../suites/moonpool/monitor.js';
import type { MoonpoolProfile } from '../../suites/moonpool/profile.js';

const us = (ms: number) => Math.round(ms * 1000);

/** An envelope. */
export const envl = (id: bigint | number, payload: Uint8Array | string): Envelope => ({
  correlationId: BigInt(id),
  payload: typeof payload === 'string' ? new TextEncoder().encode(payload) : payload,
});
export const ping = (id: bigint | number) => encodeEnvelope(envl(id, PING));
export const pong = (id: bigint | number) => encodeEnvelope(envl(id, PONG));
export const frames = (...envs: Envelope[]) => encodeEnvelopes(envs);

export const ev = {
  open: (conn: number, ms: number): TraceEvent => ({ type: 'conn_open', t: us(ms), conn, remote: '127.0.0.1:1' }),
  c2s: (conn: number, bytes: Uint8Array, ms: number): TraceEvent => ({ type: 'data', t: us(ms), conn, stream: 0, dir: 'c2s', hex: toHex(bytes) }),
  s2c: (conn: number, bytes: Uint8Array, ms: number): TraceEvent => ({ type: 'data', t: us(ms), conn, stream: 0, dir: 's2c', hex: toHex(bytes) }),
  cfin: (conn: number, ms: number): TraceEvent => ({ type: 'stream_fin', t: us(ms), conn, stream: 0, dir: 'c2s' }),
  sfin: (conn: number, ms: number): TraceEvent => ({ type: 'stream_fin', t: us(ms), conn, stream: 0, dir: 's2c' }),
  cclose: (conn: number, ms: number): TraceEvent => ({ type: 'conn_close', t: us(ms), conn, by: 'client', isApp: false, code: 0, reason: 'fin' }),
  creset: (conn: number, ms: number): TraceEvent => ({ type: 'stream_reset', t: us(ms), conn, stream: 0, dir: 'c2s', kind: 'reset', code: 0 }),
  sclose: (conn: number, ms: number, reason = 'fin'): TraceEvent => ({ type: 'conn_close', t: us(ms), conn, by: 'server', isApp: false, code: 0, reason }),
  note: (text: string, ms: number): TraceEvent => ({ type: 'note', t: us(ms), text }),
};

/** Runs a monitor over a whole trace and then to `endMs`; returns every violation in order. */
export function check(profile: MoonpoolProfile, trace: readonly TraceEvent[], endMs?: number): Violation[] {
  const m = createMoonpoolMonitor(profile);
  const out: Violation[] = [];
  trace.forEach((e, i) => out.push(...m.feed(e, i)));
  const end = endMs !== undefined ? us(endMs) : (trace.at(-1)?.t ?? 0);
  out.push(...m.advance(end));
  return out;
}
