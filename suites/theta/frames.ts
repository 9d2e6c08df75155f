/**
 * Theta frames for fixtures (harness/fixtures): what a fixture's `write`
 * step may say instead of hex, and how the server's bytes on a stream are
 * split for a `frames` expectation. Wire: SPEC.md §2 (`[len:u32 BE][payload]`
 * on every stream), control payloads FlatBuffers (messages.ts).
 *
 * Control messages are written by name with their fields; what a fixture
 * leaves out takes the default profile's value (version 1, the hash of the
 * manifest `theta-components-v1`, a 24-byte nonce, a 32-byte key), so a
 * fixture's valid hello holds against the reference server's defaults and
 * `--fast`. u64 values are decimal strings (JSON numbers lose precision).
 */
import { encodeFrame, FrameDecoder, schemaHash } from './codec.js';
import { encodeControl, decodeControl, type ControlMessage } from './messages.js';
import { describeMessage, KEY_BYTES, NONCE_BYTES } from './model.js';
import { defaultProfile } from './profile.js';

/**
 * A client frame, one of:
 * `{"hello": {protocolVersion?, schemaHash?, manifest?, clientNonce?, capabilities?, authToken?, publicKey?}}`,
 * `{"heartbeat": {seq, sentAtUs?, echoSeq?, echoSentAtUs?, rttUs?, jitterUs?}}`,
 * `{"error": {code, reason?}}`, or `{"data": HEX}` (an opaque payload: a
 * replication or asset frame, or any control payload). Each is one whole
 * frame with its length prefix.
 */
export type ThetaFixtureFrame =
  | { readonly hello: HelloFields }
  | { readonly heartbeat: HeartbeatFields }
  | { readonly error: { readonly code: number; readonly reason?: string } }
  | { readonly data: string };

interface HelloFields {
  readonly protocolVersion?: number;
  /** u64 as a decimal string; default the SipHash of `manifest`. */
  readonly schemaHash?: string;
  /** Manifest whose hash to send (default the default profile's). */
  readonly manifest?: string;
  /** Hex; default 24 bytes 0x01. */
  readonly clientNonce?: string;
  readonly capabilities?: readonly number[];
  readonly authToken?: string;
  /** Hex; default 32 bytes 0x02. */
  readonly publicKey?: string;
}

interface HeartbeatFields {
  readonly seq: number;
  readonly sentAtUs?: string;
  readonly echoSeq?: number;
  readonly echoSentAtUs?: string;
  readonly rttUs?: number;
  readonly jitterUs?: number;
}

const hex = { type: 'string', pattern: '^([0-9a-fA-F]{2})*$' } as const;
const u64 = { type: 'string', pattern: '^[0-9]{1,20}$' } as const;
const u32 = { type: 'integer', minimum: 0, maximum: 0xffff_ffff } as const;
const u16 = { type: 'integer', minimum: 0, maximum: 0xffff } as const;

/** JSON Schema (draft 2020-12) of a {@link ThetaFixtureFrame}. */
export const frameSchema: object = {
  oneOf: [
    {
      type: 'object', additionalProperties: false, required: ['hello'],
      properties: {
        hello: {
          description: 'SessionHello (THETA-3.1); missing fields take the default profile\u2019s valid values.',
          type: 'object', additionalProperties: false,
          properties: { protocolVersion: u16, schemaHash: u64, manifest: { type: 'string' }, clientNonce: hex, capabilities: { type: 'array', items: u16 }, authToken: { type: 'string' }, publicKey: hex },
        },
      },
    },
    {
      type: 'object', additionalProperties: false, required: ['heartbeat'],
      properties: {
        heartbeat: {
          description: 'Heartbeat (THETA-5); times are µs since the Unix epoch as decimal strings.',
          type: 'object', additionalProperties: false, required: ['seq'],
          properties: { seq: u32, sentAtUs: u64, echoSeq: u32, echoSentAtUs: u64, rttUs: u32, jitterUs: u32 },
        },
      },
    },
    {
      type: 'object', additionalProperties: false, required: ['error'],
      properties: { error: { type: 'object', additionalProperties: false, required: ['code'], properties: { code: u16, reason: { type: 'string' } } } },
    },
    { type: 'object', additionalProperties: false, required: ['data'], properties: { data: { ...hex, description: 'An opaque payload, framed (replication, assets, or raw control bytes).' } } },
  ],
};

const bytes = (h: string | undefined, fallback: Uint8Array): Uint8Array => (h === undefined ? fallback : new Uint8Array(Buffer.from(h, 'hex')));

/** The control message a fixture frame names, or undefined for `data`. */
function messageOf(f: ThetaFixtureFrame): ControlMessage | undefined {
  if ('hello' in f) {
    const h = f.hello;
    return {
      type: 'SessionHello',
      protocolVersion: h.protocolVersion ?? defaultProfile.protocolVersion,
      schemaHash: h.schemaHash !== undefined ? BigInt(h.schemaHash) : schemaHash(h.manifest ?? defaultProfile.manifest),
      clientNonce: bytes(h.clientNonce, new Uint8Array(NONCE_BYTES).fill(1)),
      capabilities: h.capabilities ?? [],
      authToken: h.authToken ?? '',
      publicKey: bytes(h.publicKey, new Uint8Array(KEY_BYTES).fill(2)),
    };
  }
  if ('heartbeat' in f) {
    const b = f.heartbeat;
    return { type: 'Heartbeat', seq: b.seq, sentAtUs: BigInt(b.sentAtUs ?? '0'), echoSeq: b.echoSeq ?? 0, echoSentAtUs: BigInt(b.echoSentAtUs ?? '0'), rttUs: b.rttUs ?? 0, jitterUs: b.jitterUs ?? 0 };
  }
  if ('error' in f) return { type: 'SessionError', code: f.error.code, reason: f.error.reason ?? '' };
  return undefined;
}

/**
 * Encodes a fixture frame to the bytes a client writes: one whole frame.
 * @throws TypeError when `frame` is not a {@link ThetaFixtureFrame} (callers validate against {@link frameSchema} first).
 */
export function encodeFixtureFrame(frame: unknown): Uint8Array {
  if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) throw new TypeError('theta frame: must be an object');
  const f = frame as ThetaFixtureFrame;
  const m = messageOf(f);
  if (m !== undefined) return encodeFrame(encodeControl(m));
  if (!('data' in f) || typeof f.data !== 'string') throw new TypeError('theta frame: one of hello, heartbeat, error, data');
  return encodeFrame(new Uint8Array(Buffer.from(f.data, 'hex')));
}

/**
 * Splits bytes the server sent on a stream into whole frames; a trailing
 * partial frame is left out. Each frame is `{data: HEX}`, plus `message`
 * (the decoded control message, bigints and bytes as strings) when the
 * payload is a sound control FlatBuffer: on the control stream, e.g.
 * `{"var": "value.message.type"}` is `"Heartbeat"`.
 */
export function decodeFixtureFrames(bytesIn: Uint8Array): { readonly frame: { readonly data: string; readonly message?: Record<string, unknown> }; readonly bytes: number }[] {
  const d = new FrameDecoder(0xffff_ffff);
  return d.push(bytesIn).map((f) => {
    const r = decodeControl(f);
    const data = Buffer.from(f).toString('hex');
    return { frame: r.ok ? { data, message: describeMessage(r.msg) } : { data }, bytes: f.length + 4 };
  });
}
