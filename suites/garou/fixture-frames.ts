/**
 * Garou's fixture frame objects (harness/fixtures: a `write` or `dgram`
 * step's `frame`, a `frames` expectation's decoded values). A frame object
 * is one of:
 *
 *  - `{ "name": "SendMessage", "payload": {…} }`: a frame by name, its JSON
 *    payload as given (not checked against its schema, so fixtures can send
 *    wrong field types);
 *  - `{ "type": 255, "raw": "text", "len": 9 }`: any type code with a raw
 *    UTF-8 payload (or `payload` as JSON) and, optionally, a lying length;
 *  - `{ "streamType": "commands" }` (or a byte 0–255): a unidirectional
 *    stream's type byte (GAROU-3.2);
 *
 * and the same with `streamType` and a frame together (the header first).
 * Decoded server output is `{ "name", "payload" }` per frame, or
 * `{ "stream": "shard", "shard": N }` / `{ "stream": "hot", "room_id": N }`
 * for a server stream's header.
 */
import { encodeFrameHeader, encodeRawFrame, FRAME_HEADER_SIZE } from './codec.js';
import { FRAME_CODES, FRAME_NAMES, frameName, streamTypeOf, type FrameName } from './frames.js';

/** JSON Schema (2020-12) of a fixture frame object. */
export const fixtureFrameSchema: object = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    streamType: { description: 'A unidirectional stream type byte first (GAROU-3.2): a client kind or a byte.', anyOf: [{ enum: ['commands', 'acks', 'upload'] }, { type: 'integer', minimum: 0, maximum: 255 }] },
    name: { description: 'Frame type by name (GAROU-2.2).', enum: [...FRAME_NAMES] },
    type: { description: 'Frame type code 0-255, defined or not (GAROU-2.2).', type: 'integer', minimum: 0, maximum: 255 },
    payload: { description: 'The JSON payload, sent as given (unchecked).' },
    raw: { description: 'The payload as raw UTF-8 text instead of JSON.', type: 'string' },
    len: { description: 'A length field other than the payload length (a lying length, GAROU-2.3).', type: 'integer', minimum: 0, maximum: 4294967295 },
  },
  not: { required: ['name', 'type'] },
};

interface FixtureFrame {
  readonly streamType?: 'commands' | 'acks' | 'upload' | number;
  readonly name?: FrameName;
  readonly type?: number;
  readonly payload?: unknown;
  readonly raw?: string;
  readonly len?: number;
}

/**
 * Encodes a fixture frame object to the bytes a client writes.
 * @throws TypeError when it is not an object of {@link fixtureFrameSchema}'s shape.
 */
export function encodeFixtureFrame(frame: unknown): Uint8Array {
  if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) throw new TypeError('garou frame: must be an object');
  const f = frame as FixtureFrame;
  const parts: Uint8Array[] = [];
  if (f.streamType !== undefined) parts.push(Uint8Array.of(typeof f.streamType === 'number' ? f.streamType : streamTypeOf(f.streamType).byte));
  const type = f.name !== undefined ? FRAME_CODES[f.name] : f.type;
  if (f.name !== undefined && type === undefined) throw new TypeError(`garou frame: unknown frame name ${JSON.stringify(f.name)}`);
  if (type !== undefined) {
    const body = f.raw ?? JSON.stringify(f.payload ?? {});
    const enc = encodeRawFrame(type, body);
    if (f.len !== undefined) enc.set(encodeFrameHeader(type, f.len));
    parts.push(enc);
  } else if (f.payload !== undefined || f.raw !== undefined) {
    throw new TypeError('garou frame: a payload needs a name or a type');
  }
  return Uint8Array.from(Buffer.concat(parts));
}

/**
 * Splits bytes a server sent on a stream into whole frames (and a server
 * stream's header), decoded for fixture expectations; a trailing partial
 * frame is left out. Bytes that are no frame end the list.
 */
export function decodeFrames(bytes: Uint8Array): { readonly frame: unknown; readonly bytes: number }[] {
  const out: { frame: unknown; bytes: number }[] = [];
  let i = 0;
  // A server stream's header: 0x10 and 0x11 are never frame types a server sends (GAROU-3.2).
  if (bytes[0] === 0x10 && bytes.length >= 2) {
    out.push({ frame: { stream: 'shard', shard: bytes[1] }, bytes: 2 });
    i = 2;
  } else if (bytes[0] === 0x11 && bytes.length >= 5) {
    out.push({ frame: { stream: 'hot', room_id: Buffer.from(bytes.subarray(1, 5)).readUInt32BE(0) }, bytes: 5 });
    i = 5;
  }
  while (bytes.length - i >= FRAME_HEADER_SIZE) {
    const type = bytes[i]!;
    const len = Buffer.from(bytes.subarray(i + 1, i + 5)).readUInt32BE(0);
    if (bytes.length - i - FRAME_HEADER_SIZE < len) break;
    const text = Buffer.from(bytes.subarray(i + FRAME_HEADER_SIZE, i + FRAME_HEADER_SIZE + len)).toString('utf8');
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      payload = text;
    }
    out.push({ frame: { name: frameName(type) ?? type, payload }, bytes: FRAME_HEADER_SIZE + len });
    i += FRAME_HEADER_SIZE + len;
  }
  return out;
}
