/** Small arbitraries shared by the Theta generators. */
import fc from 'fast-check';
import { chunkings } from '../../../harness/fuzz/chunking.js';
import type { ControlMessage, HeartbeatMsg, SessionHelloMsg } from '../messages.js';

export { aroundTimer, chunkingText, cut, type Chunking } from '../../../harness/fuzz/chunking.js';

/** Chunking strategies, offsets inside the first frame (harness/fuzz/chunking.ts). */
export const chunking = chunkings(48);

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.tuple(fc.nat(0xffff), fc.nat(0xffff)).map(([hi, lo]) => hi * 0x1_0000 + lo);
const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });

/** Any SessionHello the runtime can encode (fields at random, lengths of any size). */
export const anyHello: fc.Arbitrary<SessionHelloMsg> = fc.record({
  type: fc.constant('SessionHello' as const),
  protocolVersion: u16,
  schemaHash: u64,
  clientNonce: fc.uint8Array({ maxLength: 40 }),
  capabilities: fc.array(u16, { maxLength: 12 }),
  authToken: fc.string({ maxLength: 24 }),
  publicKey: fc.uint8Array({ maxLength: 40 }),
});

/** Any Heartbeat. */
export const anyHeartbeat: fc.Arbitrary<HeartbeatMsg> = fc.record({
  type: fc.constant('Heartbeat' as const),
  seq: u32,
  sentAtUs: u64,
  echoSeq: u32,
  echoSentAtUs: u64,
  rttUs: u32,
  jitterUs: u32,
});

/** Any control message (the four union members). */
export const controlMessage: fc.Arbitrary<ControlMessage> = fc.oneof(
  anyHello,
  anyHeartbeat,
  fc.record({
    type: fc.constant('SessionAcknowledge' as const),
    protocolVersion: u16,
    schemaHash: u64,
    serverNonce: fc.uint8Array({ maxLength: 40 }),
    sessionId: u64,
    role: u32,
    capabilities: fc.array(u16, { maxLength: 12 }),
    publicKey: fc.uint8Array({ maxLength: 40 }),
  }),
  fc.record({ type: fc.constant('SessionError' as const), code: u16, reason: fc.string({ maxLength: 40 }) }),
);

/** Opaque payload bytes for replication and asset frames (small, with an occasional empty one). */
export const payload: fc.Arbitrary<Uint8Array> = fc.oneof({ arbitrary: fc.uint8Array({ minLength: 1, maxLength: 64 }), weight: 4 }, { arbitrary: fc.constant(new Uint8Array(0)), weight: 1 });
