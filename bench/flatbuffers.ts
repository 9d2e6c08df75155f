/**
 * Cost of verifying Theta control buffers (`npm run bench:flatbuffers`):
 * verify + read (`decodeControl`, what wirecheck does with every buffer a
 * peer sends) against read alone (`readVerifiedControl`, the flatc-generated
 * accessors on a buffer known to be sound), for a SessionHello and a
 * Heartbeat. Prints medians of ns per buffer and the median of the
 * per-round ratios (issue 11's target: verify + read ≤ 2× read).
 *
 * The two are measured in alternating rounds (read, then verify + read,
 * order swapped every round), and the ratio is taken per round pair: on a
 * shared machine a burst of load then hits both sides of one ratio instead
 * of only one side of the verdict, as two back-to-back blocks of rounds did.
 *
 * Options: --iterations N (per round, default 200,000), --runs K (round
 * pairs, default 7).
 */
import { decodeControl, encodeControl, readVerifiedControl, type ControlMessage } from '../suites/theta/messages.js';
import { intArg, median } from './_stats.js';

const iterations = intArg('iterations', 200_000);
const runs = intArg('runs', 7);

let sink = 0;

/** ns per call of `fn(buf)` over one round of `iterations` calls. */
function round(buf: Uint8Array, fn: (b: Uint8Array) => unknown): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) if (fn(buf) !== undefined) sink++;
  return Number(process.hrtime.bigint() - t0) / iterations;
}

/** Medians over `runs` alternating round pairs: read alone, verify + read, and their per-pair ratio. */
function measure(buf: Uint8Array): { read: number; both: number; ratio: number } {
  const reads: number[] = [];
  const boths: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < runs; r++) {
    let read: number;
    let both: number;
    if (r % 2 === 0) {
      read = round(buf, readVerifiedControl);
      both = round(buf, decodeControl);
    } else {
      both = round(buf, decodeControl);
      read = round(buf, readVerifiedControl);
    }
    reads.push(read);
    boths.push(both);
    ratios.push(both / read);
  }
  return { read: median(reads), both: median(boths), ratio: median(ratios) };
}

const samples: ControlMessage[] = [
  { type: 'SessionHello', protocolVersion: 1, schemaHash: 0x1234n, clientNonce: new Uint8Array(24).fill(1), capabilities: [1, 2, 3, 4], authToken: 'bench-token', publicKey: new Uint8Array(32).fill(2) },
  { type: 'Heartbeat', seq: 42, sentAtUs: 1_700_000_000_000_000n, echoSeq: 41, echoSentAtUs: 1_699_999_999_500_000n, rttUs: 350, jitterUs: 20 },
];

console.log(`FlatBuffers verifier cost: ${iterations} buffers × ${runs} rounds, medians`);
console.log('message             bytes   read ns   verify+read ns   ratio (median of per-round ratios)');
for (const m of samples) {
  const buf = encodeControl(m);
  if (!decodeControl(buf).ok) throw new Error(`${m.type} does not verify`);
  round(buf, readVerifiedControl); // warm-up
  round(buf, decodeControl);
  const { read, both, ratio } = measure(buf);
  console.log(`${m.type.padEnd(18)} ${String(buf.length).padStart(6)} ${read.toFixed(0).padStart(9)} ${both.toFixed(0).padStart(16)} ${ratio.toFixed(2).padStart(7)}×`);
}
if (sink === 0) throw new Error('nothing decoded');
