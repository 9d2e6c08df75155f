/**
 * Malformed FlatBuffers on the control stream (SPEC THETA-2.3): a valid
 * control message, built by the official runtime, is changed by one
 * structural mutation (fuzz/flatbuffers.ts: offsets, vtables, fields,
 * vectors, strings, unions, identifier, size), or replaced by random bytes,
 * and sent as the first control frame (in place of the SessionHello) or,
 * after a valid handshake, in place of a heartbeat; the frame is cut into
 * writes (whole, bytewise, split). A conforming server closes with 0x5.
 */
import fc from 'fast-check';
import type { FuzzProgram } from '../../../harness/fuzz/types.js';
import { encodeFrame } from '../codec.js';
import type { ControlMessage, HeartbeatMsg, SessionHelloMsg } from '../messages.js';
import type { ThetaProfile } from '../profile.js';
import { anyHeartbeat, anyHello, chunking, chunkingText, controlMessage, cut, type Chunking } from './_arbs.js';
import { mutateStructure, STRUCTURAL_MUTATIONS, type StructuralMutation } from './flatbuffers.js';
import { ThetaProgramBuilder, validHello } from './program.js';

/** Byte-by-byte cutting stops after the length prefix and the root offset and identifier (12 bytes). */
const BYTEWISE = { max: 16, head: 12, headName: 'length prefix, root offset and identifier' } as const;

interface Spec {
  /** Before the handshake (the first control frame) or after it (in place of a heartbeat). */
  readonly when: 'first-frame' | 'after-handshake';
  /** The message mutated: the profile's valid hello / a heartbeat, or any message. */
  readonly base: 'natural' | 'any';
  readonly any: ControlMessage;
  readonly hello: SessionHelloMsg;
  readonly heartbeat: HeartbeatMsg;
  readonly mutation: { readonly type: 'structural'; readonly m: StructuralMutation; readonly pick: number } | { readonly type: 'random'; readonly bytes: Uint8Array };
  readonly chunking: Chunking;
}

const spec: fc.Arbitrary<Spec> = fc.record({
  when: fc.constantFrom('first-frame' as const, 'after-handshake' as const),
  base: fc.constantFrom('natural' as const, 'natural' as const, 'any' as const),
  any: controlMessage,
  hello: anyHello,
  heartbeat: anyHeartbeat,
  mutation: fc.oneof(
    { arbitrary: fc.record({ type: fc.constant('structural' as const), m: fc.constantFrom(...STRUCTURAL_MUTATIONS), pick: fc.integer({ min: -20, max: 20 }) }), weight: 6 },
    { arbitrary: fc.record({ type: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 48 }) }), weight: 1 },
  ),
  chunking,
});

function build(profile: ThetaProfile, s: Spec): FuzzProgram {
  const b = new ThetaProgramBuilder(profile, 'malformed-flatbuffers');
  const c = b.connect();
  if (s.when === 'after-handshake') {
    b.hello(c);
    b.heartbeat(c);
  }
  // The message mutated: the one expected here (the valid hello, or a heartbeat), or any message.
  const natural: ControlMessage = s.when === 'first-frame' ? (s.base === 'natural' ? validHello(profile) : s.hello) : s.heartbeat;
  const base = s.base === 'any' ? s.any : natural;
  let payload: Uint8Array;
  let what: string;
  if (s.mutation.type === 'random') {
    payload = s.mutation.bytes;
    what = `${payload.length} random bytes`;
  } else {
    const r = mutateStructure(base, s.mutation.m, s.mutation.pick) ?? mutateStructure(base, 'identifier', s.mutation.pick)!;
    payload = r.bytes;
    what = `a ${base.type} with ${r.what}`;
  }
  const frame = encodeFrame(payload);
  const pieces = cut(frame, s.chunking, BYTEWISE);
  pieces.forEach((p, i) => b.writeRaw(c, 'control', p, `${pieces.length > 1 ? `piece ${i + 1}/${pieces.length} of ` : ''}${what} (THETA-2.3)`));
  b.exercises('THETA-2.3');
  return b.build(`Sends ${what} ${s.when === 'first-frame' ? 'as the first control frame' : 'after a valid handshake'}, ${chunkingText(s.chunking, pieces.length, frame.length, BYTEWISE)}.`);
}

/** Malformed FlatBuffers for a profile (name `malformed-flatbuffers`). */
export function malformedFlatBuffers(profile: ThetaProfile): fc.Arbitrary<FuzzProgram> {
  return spec.map((s) => build(profile, s));
}
