/**
 * Frame-length lies on every stream (SPEC § 2, THETA-1.2): on the control,
 * replication or assets stream, before or after the handshake, or on a
 * stream Theta does not use (a fourth bidirectional stream, a
 * unidirectional one), a frame whose length field says something else than
 * the bytes that follow:
 *  - **over the limit**: a length above `maxFrameBytes` (just above, or up
 *    to 2^32 − 1), with a few payload bytes or none: the server must close
 *    0x5 without waiting for the payload (THETA-2.2);
 *  - **longer, then FIN**: a length above the bytes sent, then FIN: the
 *    stream ends inside a frame (THETA-2.4);
 *  - **longer, then completed**: the rest sent later, after a pause: one
 *    whole frame (2.1), judged as such;
 *  - **shorter**: a length below the payload, so that the rest is read as
 *    the next frame's header (on the control stream a malformed FlatBuffer,
 *    2.3; elsewhere other frames);
 *  - **zero**: an empty frame (control: not a FlatBuffer, 2.3; replication:
 *    an empty echo, 6.1; assets: an empty asset frame, 7.1).
 * The bytes are cut into writes (whole, bytewise, split).
 */
import fc from 'fast-check';
import type { FuzzProgram } from '../../../harness/fuzz/types.js';
import { encodeFrame, FRAME_HEADER } from '../codec.js';
import { encodeControl } from '../messages.js';
import type { ThetaProfile } from '../profile.js';
import { chunking, chunkingText, cut, type Chunking } from './_arbs.js';
import { ThetaProgramBuilder, type StreamName } from './program.js';

type Lie =
  | { readonly type: 'over-limit'; readonly excess: number; readonly tail: number }
  | { readonly type: 'longer-fin'; readonly missing: number }
  | { readonly type: 'longer-completed'; readonly missing: number; readonly pauseMs: number }
  | { readonly type: 'shorter'; readonly cutBy: number }
  | { readonly type: 'zero' };

interface Spec {
  readonly stream: StreamName | 'stray-bidi' | 'stray-uni';
  readonly handshake: boolean;
  readonly lie: Lie;
  readonly payload: Uint8Array;
  readonly chunking: Chunking;
}

const lie: fc.Arbitrary<Lie> = fc.oneof(
  fc.record({ type: fc.constant('over-limit' as const), excess: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 2 ** 31 })), tail: fc.integer({ min: 0, max: 8 }) }),
  fc.record({ type: fc.constant('longer-fin' as const), missing: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ type: fc.constant('longer-completed' as const), missing: fc.integer({ min: 1, max: 64 }), pauseMs: fc.constantFrom(0, 5, 30) }),
  fc.record({ type: fc.constant('shorter' as const), cutBy: fc.integer({ min: 1, max: 16 }) }),
  fc.constant<Lie>({ type: 'zero' }),
);

const spec: fc.Arbitrary<Spec> = fc.record({
  stream: fc.constantFrom<Spec['stream']>('control', 'replication', 'assets', 'control', 'replication', 'assets', 'stray-bidi', 'stray-uni'),
  handshake: fc.boolean(),
  lie,
  payload: fc.uint8Array({ minLength: 1, maxLength: 48 }),
  chunking,
});

const BYTEWISE = { max: 16, head: 8, headName: 'length prefix' } as const;

function lengthPrefixed(len: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER + body.length);
  new DataView(out.buffer).setUint32(0, len >>> 0, false);
  out.set(body, FRAME_HEADER);
  return out;
}

function build(profile: ThetaProfile, s: Spec): FuzzProgram {
  const b = new ThetaProgramBuilder(profile, 'frame-lengths');
  const c = b.connect();
  if (s.handshake) {
    b.hello(c);
    b.heartbeat(c);
  }
  // The honest payload: on the control stream a heartbeat (or the hello when none was sent).
  const honest = s.stream === 'control' ? encodeControl(s.handshake ? b.nextHeartbeat(c) : { type: 'SessionHello', protocolVersion: profile.protocolVersion, schemaHash: 0n, clientNonce: new Uint8Array(24), capabilities: [], authToken: '', publicKey: new Uint8Array(32) }) : s.payload;
  let bytes: Uint8Array;
  let what: string;
  let rest: Uint8Array | undefined;
  const L = s.lie;
  switch (L.type) {
    case 'over-limit': {
      const len = Math.min(0xffff_ffff, profile.maxFrameBytes + L.excess);
      bytes = lengthPrefixed(len, honest.subarray(0, L.tail));
      what = `a length of ${len} (limit ${profile.maxFrameBytes}: THETA-2.2)`;
      b.exercises('THETA-2.2');
      break;
    }
    case 'longer-fin':
    case 'longer-completed':
      bytes = lengthPrefixed(honest.length + L.missing, honest);
      rest = new Uint8Array(L.missing).fill(0xa5);
      what = `a length ${L.missing} bytes longer than the payload`;
      b.exercises(L.type === 'longer-fin' ? 'THETA-2.4' : 'THETA-2.1');
      break;
    case 'shorter': {
      const len = Math.max(0, honest.length - L.cutBy);
      bytes = lengthPrefixed(len, honest);
      what = `a length ${honest.length - len} bytes shorter than the payload (the rest read as the next frame)`;
      b.exercises('THETA-2.1');
      break;
    }
    case 'zero':
      bytes = encodeFrame(new Uint8Array(0));
      what = 'an empty frame';
      b.exercises('THETA-2.1');
      break;
  }
  const stray = s.stream === 'stray-bidi' || s.stream === 'stray-uni';
  const pieces = stray ? [bytes] : cut(bytes, s.chunking, BYTEWISE);
  const label = (i: number) => `${pieces.length > 1 ? `piece ${i + 1}/${pieces.length} of ` : ''}${what}`;
  if (stray) {
    b.strayStream(c, s.stream === 'stray-bidi' ? 'bidi' : 'uni', bytes, `${what} on a stream Theta does not use (THETA-1.2)`);
  } else {
    const st = s.stream;
    pieces.forEach((p, i) => {
      if (b.isLive(c)) b.writeRaw(c, st, p, label(i));
    });
    if (rest !== undefined && b.isLive(c) && L.type === 'longer-fin') b.fin(c, st, 'FIN inside the frame (THETA-2.4)');
    if (rest !== undefined && b.isLive(c) && L.type === 'longer-completed') {
      if (L.pauseMs > 0) b.wait(L.pauseMs, `pause ${L.pauseMs} ms inside the frame`);
      if (b.isLive(c)) b.writeRaw(c, st, rest, `the ${rest.length} bytes the length announced`);
    }
  }
  const where = s.stream.startsWith('stray') ? `a ${s.stream === 'stray-uni' ? 'unidirectional' : 'fourth bidirectional'} stream` : `the ${s.stream} stream`;
  return b.build(`Sends ${what} on ${where} ${s.handshake ? 'after' : 'before'} the handshake, ${stray ? 'in one write' : chunkingText(s.chunking, pieces.length, bytes.length, BYTEWISE)}.`);
}

/** Frame-length lies for a profile (name `frame-lengths`). */
export function frameLengths(profile: ThetaProfile): fc.Arbitrary<FuzzProgram> {
  return spec.map((s) => build(profile, s));
}
