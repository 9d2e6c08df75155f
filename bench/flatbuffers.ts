/**
 * Cost of verifying Theta control buffers (`npm run bench:flatbuffers`):
 * verify + read (`decodeControl`, what wirecheck does with every buffer a
 * peer sends) against read alone (`readVerifiedControl`, the flatc-generated
 * accessors on a buffer known to be sound), for a SessionHello and a
 * Heartbeat. Prints the median ns per buffer over K rounds and the ratio
 * (issue 11's target: verify + read ≤ 2× read).
 *
 * Options: --iterations N (per round, default 200,000), --runs K (default 7).
 */
import { decodeControl, encodeControl, readVerifiedControl, type ControlMessage } from '../suites/theta/messages.js';
import { intArg, median } from './_stats.js';

const iterations = intArg('iterations', 200_000);
const runs = intArg('runs', 7);

/** ns per call of `fn(buf)`, median over `runs` rounds of `iterations` calls. */
function measure(buf: Uint8Array, fn: (b: Uint8Array) => unknown): number {
  const per: number[] = [];
  let sink = 0;
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) if (fn(buf) !== undefined) sink++;
    per.push(Number(process.hrtime.bigint() - t0) / iterations);
  }
  if (sink === 0) throw new Error('nothing decoded');
  return median(per);
}

const samples: ControlMessage[] = [
  { type: 'SessionHello', protocolVersion: 1, schemaHash: 0x1234n, clientNonce: new Uint8Array(24).fill(1), capabilities: [1, 2, 3, 4], authToken: 'bench-token', publicKey: new Uint8Array(32).fill(2) },
  { type: 'Heartbeat', seq: 42, sentAtUs: 1_700_000_000_000_000n, echoSeq: 41, echoSentAtUs: 1_699_999_999_500_000n, rttUs: 350, jitterUs: 20 },
];

console.log(`FlatBuffers verifier cost: ${iterations} buffers × ${runs} rounds, medians`);
console.log('message             bytes   read ns   verify+read ns   ratio');
for (const m of samples) {
  const buf = encodeControl(m);
  if (!decodeControl(buf).ok) throw new Error(`${m.type} does not verify`);
  measure(buf, readVerifiedControl); // warm-up
  measure(buf, decodeControl);
  const read = measure(buf, readVerifiedControl);
  const both = measure(buf, decodeControl);
  console.log(`${m.type.padEnd(18)} ${String(buf.length).padStart(6)} ${read.toFixed(0).padStart(9)} ${both.toFixed(0).padStart(16)} ${(both / read).toFixed(2).padStart(7)}×`);
}
