/**
 * Garou codec throughput (`node --import=tsx bench/garou-codec.ts`).
 *
 * One shard stream's worth of room events (RoomMessage, edits, reactions,
 * joins; bodies of 20–200 bytes, some non-ASCII), pushed in 16 KiB reads as
 * a QUIC driver would. Measures, per run: the incremental StreamDecoder with
 * schema validation (what the harness and the reference server run), the
 * same without validation, and as the baseline a bare loop that splits the
 * same bytes by their length fields and JSON.parses each payload (no typing,
 * no checks). Prints medians (frames/s, MB/s) and the ratio to the baseline
 * measured in the same run.
 *
 * Options: --frames N (default 200,000), --runs K (default 5).
 */
import { concatBytes, encodeStreamHeader, encodeFrameOf, StreamDecoder } from '../suites/garou/codec.js';
import type { Frame } from '../suites/garou/frames.js';
import { intArg, median } from './_stats.js';

const N = intArg('frames', 200_000);
const RUNS = intArg('runs', 5);
const CHUNK = 16 * 1024;

function frameAt(i: number): Frame {
  const room_id = 3 + 8 * (i % 50);
  const seq = i + 1;
  const body = `${i % 7 === 0 ? 'ünïcödé 👋 ' : ''}${'lorem ipsum '.repeat(2 + (i % 16))}`;
  switch (i % 10) {
    case 7:
      return { name: 'RoomMessageEdited', payload: { room_id, seq, message_id: `m${i - 1}`, body } };
    case 8:
      return { name: 'RoomReactionAdded', payload: { room_id, seq, message_id: `m${i - 2}`, user_id: `user-${i % 97}`, emoji: '👍' } };
    case 9:
      return { name: 'RoomUserJoined', payload: { room_id, seq, user_id: `user-${i % 97}`, role: 'member' } };
    default:
      return { name: 'RoomMessage', payload: { room_id, seq, message_id: `m${i}`, user_id: `user-${i % 97}`, body, ts: 1_764_000_000_000 + i } };
  }
}

const wire = concatBytes([encodeStreamHeader({ kind: 'shard', shard: 3 }), ...Array.from({ length: N }, (_, i) => encodeFrameOf(frameAt(i)))]);
const chunks: Uint8Array[] = [];
for (let at = 0; at < wire.length; at += CHUNK) chunks.push(wire.subarray(at, at + CHUNK));

function decoder(validate: boolean): number {
  const d = new StreamDecoder({ stream: 'uni', dir: 's2c', validate });
  let n = 0;
  for (const c of chunks) {
    const r = d.push(c);
    if (r.error) throw r.error;
    n += r.frames.length;
  }
  return n;
}

/** Baseline: length-prefixed split and JSON.parse, nothing else. */
function bare(): number {
  const td = new TextDecoder();
  let buf: Uint8Array = new Uint8Array(0);
  let n = 0;
  let first = true;
  for (const c of chunks) {
    buf = buf.length === 0 ? c : concatBytes([buf, c]);
    let at = first ? 2 : 0;
    first = false;
    while (buf.length - at >= 5) {
      const len = (buf[at + 1]! * 2 ** 24) + (buf[at + 2]! << 16) + (buf[at + 3]! << 8) + buf[at + 4]!;
      if (buf.length - at < 5 + len) break;
      JSON.parse(td.decode(buf.subarray(at + 5, at + 5 + len)));
      n++;
      at += 5 + len;
    }
    buf = buf.subarray(at);
  }
  return n;
}

const modes: [string, () => number][] = [
  ['baseline: split + JSON.parse', bare],
  ['StreamDecoder, no schema', () => decoder(false)],
  ['StreamDecoder + schemas', () => decoder(true)],
];
for (const [, fn] of modes) fn(); // warm-up (and schema compilation)
const times = new Map<string, number[]>(modes.map(([m]) => [m, []]));
for (let r = 0; r < RUNS; r++) {
  for (const [m, fn] of modes) {
    const t0 = performance.now();
    const n = fn();
    const ms = performance.now() - t0;
    if (n !== N) throw new Error(`${m}: decoded ${n} of ${N} frames`);
    times.get(m)!.push(ms);
  }
}
const base = median(times.get(modes[0]![0])!);
console.log(`garou codec: ${N} frames, ${(wire.length / 1e6).toFixed(1)} MB, ${CHUNK / 1024} KiB reads, ${RUNS} runs (medians)`);
for (const [m] of modes) {
  const ms = median(times.get(m)!);
  console.log(`  ${m.padEnd(30)} ${ms.toFixed(0).padStart(6)} ms  ${((N / ms) * 1000).toFixed(0).padStart(9)} frames/s  ${(wire.length / 1e3 / ms).toFixed(1).padStart(6)} MB/s  ×${(ms / base).toFixed(2)} baseline time`);
}
