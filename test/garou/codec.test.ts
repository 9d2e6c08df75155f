import t from 'tap';
import fc from 'fast-check';
import { deepStrictEqual } from 'node:assert';
import {
  concatBytes,
  decodeDatagram,
  decodeStream,
  encodeDatagram,
  encodeFrame,
  encodeFrameHeader,
  encodeFrameOf,
  encodeRawFrame,
  encodeStreamHeader,
  explain,
  explainEnd,
  explainWrite,
  firstInvalidUtf8,
  GarouCodecError,
  SchemaError,
  StreamDecoder,
  validatePayload,
  type DecodedFrame,
  type StreamDecoderOptions,
  type StreamHeader,
} from '../../suites/garou/codec.js';
import { ALLOWED_FRAMES, FRAME_NAMES, FRAME_TYPES, type Carrier, type Direction, type Frame, type FrameName } from '../../suites/garou/frames.js';
import { frameArbitrary } from '../../suites/garou/arbitraries.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const utf8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));
const strip = (f: DecodedFrame): Frame => ({ name: f.name, payload: f.payload }) as Frame;

// (frame, exact bytes): header written out by hand, payload as its exact JSON text.
const table: { frame: Frame; header: string; json: string; stream: StreamDecoderOptions['stream']; dir: Direction }[] = [
  { frame: { name: 'Hello', payload: { version: 1, client: 'x' } }, header: '00 0000001a', json: '{"version":1,"client":"x"}', stream: 'control', dir: 'c2s' },
  { frame: { name: 'HelloAck', payload: { version: 1, session_id: 's1' } }, header: '01 0000001f', json: '{"version":1,"session_id":"s1"}', stream: 'control', dir: 's2c' },
  { frame: { name: 'Auth', payload: { username: 'alice' } }, header: '02 00000014', json: '{"username":"alice"}', stream: 'control', dir: 'c2s' },
  { frame: { name: 'Ping', payload: { nonce: 4294967295 } }, header: '05 00000014', json: '{"nonce":4294967295}', stream: 'control', dir: 'c2s' },
  { frame: { name: 'Error', payload: { cmd_id: 7, code: 3, message: 'no' } }, header: 'ff 00000024', json: '{"cmd_id":7,"code":3,"message":"no"}', stream: 'control', dir: 's2c' },
  { frame: { name: 'SendMessage', payload: { cmd_id: 1, room_id: 9, body: 'héllo 👋' } }, header: '10 0000002d', json: '{"cmd_id":1,"room_id":9,"body":"héllo 👋"}', stream: 'uni', dir: 'c2s' },
  { frame: { name: 'MessageRead', payload: { room_id: 0, seq: 1 } }, header: '61 00000015', json: '{"room_id":0,"seq":1}', stream: 'uni', dir: 'c2s' },
  { frame: { name: 'RoomUserLeft', payload: { room_id: 2, seq: 5, user_id: 'u' } }, header: '36 00000023', json: '{"room_id":2,"seq":5,"user_id":"u"}', stream: 'uni', dir: 's2c' },
];
const headers: Record<string, [StreamHeader, string]> = {
  c2s: [{ kind: 'commands' }, '01'],
  s2c: [{ kind: 'shard', shard: 2 }, '1002'],
};
const acksHeader: [StreamHeader, string] = [{ kind: 'acks' }, '02'];

t.test('frames: exact bytes, parsed whole, byte by byte and with trailing bytes', async (t) => {
  for (const row of table) {
    const json = utf8(row.json);
    const exact = concatBytes([bytes(row.header), json]);
    t.equal(hex(encodeFrameOf(row.frame)), hex(exact), `encode ${row.frame.name}`);
    t.equal(json.length, parseInt(row.header.slice(3).replace(/\s/g, ''), 16), `${row.frame.name}: len is the UTF-8 byte count`);
    const [hdr, hdrHex] = row.stream === 'control' ? [undefined, ''] : row.frame.name === 'MessageRead' ? acksHeader : headers[row.dir]!;
    const pre = bytes(hdrHex);
    const opts: StreamDecoderOptions = { stream: row.stream, dir: row.dir };
    const whole = new StreamDecoder(opts).push(concatBytes([pre, exact]));
    t.same(whole.frames.map(strip), [row.frame], `decode whole ${row.frame.name}`);
    t.same(whole.header, hdr, 'stream header');
    t.equal(whole.error, undefined);
    t.equal(whole.frames[0]!.offset, pre.length, 'frame offset');
    t.equal(whole.frames[0]!.size, exact.length, 'frame size');

    const d = new StreamDecoder(opts);
    const got: Frame[] = [];
    for (const b of concatBytes([pre, exact])) got.push(...d.push(new Uint8Array([b])).frames.map(strip));
    t.same(got, [row.frame], `decode byte by byte ${row.frame.name}`);
    t.ok(d.idle, 'nothing held after the frame');
    t.equal(d.finish(), undefined, 'FIN after whole frames is clean');

    const d2 = new StreamDecoder(opts);
    const r2 = d2.push(concatBytes([pre, exact, exact.subarray(0, 3)]));
    t.same(r2.frames.map(strip), [row.frame], `trailing bytes: ${row.frame.name} decoded`);
    t.notOk(d2.idle, 'trailing bytes held');
    t.same(d2.push(exact.subarray(3)).frames.map(strip), [row.frame], 'trailing bytes complete the next frame');
  }
});

t.test('stream headers: exact bytes, whole and byte by byte', async (t) => {
  const rows: [StreamHeader, Direction, string][] = [
    [{ kind: 'commands' }, 'c2s', '01'],
    [{ kind: 'acks' }, 'c2s', '02'],
    [{ kind: 'upload' }, 'c2s', '03'],
    [{ kind: 'shard', shard: 0 }, 's2c', '1000'],
    [{ kind: 'shard', shard: 255 }, 's2c', '10ff'],
    [{ kind: 'hot', roomId: 0xdeadbeef }, 's2c', '11deadbeef'],
    [{ kind: 'hot', roomId: 1 }, 's2c', '1100000001'],
  ];
  for (const [h, dir, hx] of rows) {
    t.equal(hex(encodeStreamHeader(h)), hx, `encode ${JSON.stringify(h)}`);
    t.same(new StreamDecoder({ stream: 'uni', dir }).push(bytes(hx)).header, h, `decode ${hx}`);
    const d = new StreamDecoder({ stream: 'uni', dir });
    const seen = [...bytes(hx)].map((b) => d.push(new Uint8Array([b])).header).filter((x) => x !== undefined);
    t.same(seen, [h], `byte by byte ${hx}: the header is reported once, at its last byte`);
    t.equal(d.carrier, h.kind);
  }
  t.throws(() => encodeStreamHeader({ kind: 'shard', shard: 256 }), RangeError);
  t.throws(() => encodeStreamHeader({ kind: 'hot', roomId: 2 ** 32 }), RangeError);
});

// PROTOCOLS.md § "Garou chat", written out independently of frames.ts.
const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const expectedAllowed: Record<string, number[]> = {
  'control c2s': [0x00, 0x02, 0x05, 0x06, 0x08],
  'control s2c': [0x01, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x50, 0x51, 0x52, 0x62, 0x74, 0xff],
  'commands c2s': range(0x10, 0x17),
  'acks c2s': [0x60, 0x61],
  'upload c2s': range(0x70, 0x73),
  'shard s2c': range(0x30, 0x38),
  'hot s2c': range(0x30, 0x38),
  'datagram c2s': range(0x80, 0x84),
  'datagram s2c': range(0x80, 0x84),
};
const defined = new Set([...range(0x00, 0x09), ...range(0x10, 0x17), ...range(0x30, 0x38), ...range(0x50, 0x52), ...range(0x60, 0x62), ...range(0x70, 0x74), ...range(0x80, 0x84), 0xff]);
const carrierHeader: Record<string, string> = { control: '', commands: '01', acks: '02', upload: '03', shard: '1003', hot: '1100000007' };

t.test('every type code on every stream and direction: defined, allowed or rejected at its first byte', async (t) => {
  t.equal(Object.keys(FRAME_TYPES).length, defined.size, 'the table defines exactly the codes of PROTOCOLS');
  for (const code of range(0, 255)) t.equal(FRAME_TYPES[code as keyof typeof FRAME_TYPES] !== undefined, defined.has(code), `code ${code} defined`);
  for (const carrier of Object.keys(ALLOWED_FRAMES) as Carrier[]) {
    for (const dir of ['c2s', 's2c'] as Direction[]) {
      const allowed = expectedAllowed[`${carrier} ${dir}`];
      if (!allowed) continue;
      for (const code of range(0, 255)) {
        const frame = encodeRawFrame(code, '{}');
        let error: GarouCodecError | undefined;
        let offset = 0;
        if (carrier === 'datagram') {
          try {
            decodeDatagram(frame, dir, { validate: false });
          } catch (e) {
            error = e as GarouCodecError;
          }
        } else {
          const pre = bytes(carrierHeader[carrier]!);
          offset = pre.length;
          // Only the type byte is pushed: the verdict must not wait for more.
          error = new StreamDecoder({ stream: carrier === 'control' ? 'control' : 'uni', dir, validate: false }).push(concatBytes([pre, frame.subarray(0, 1)])).error;
        }
        const want = !defined.has(code) ? 'UNKNOWN_FRAME_TYPE' : allowed.includes(code) ? undefined : 'FRAME_NOT_ALLOWED';
        if (error?.code !== want || (error && error.offset !== offset)) {
          t.fail(`${carrier} ${dir} code 0x${code.toString(16)}: want ${String(want)}, got ${error?.code ?? 'accepted'} at ${String(error?.offset)}`);
        }
      }
      t.pass(`${carrier} ${dir}: all 256 codes`);
    }
  }
});

const MAX = 64;
const hello = encodeFrame('Hello', { version: 1, client: 'x' }); // 31 bytes
interface ErrorCase {
  readonly what: string;
  readonly opts: StreamDecoderOptions;
  readonly input: Uint8Array;
  readonly code: string;
  readonly offset: number;
  readonly rule: string;
  readonly closeCode?: number;
  /** Only reported at FIN. */
  readonly atFin?: boolean;
}
const ctrl: StreamDecoderOptions = { stream: 'control', dir: 'c2s', maxFrameBytes: MAX };
const cmds: StreamDecoderOptions = { stream: 'uni', dir: 'c2s', maxFrameBytes: MAX };
const s2c: StreamDecoderOptions = { stream: 'uni', dir: 's2c', maxFrameBytes: MAX };
const errorCases: ErrorCase[] = [
  { what: 'unknown stream type', opts: cmds, input: bytes('04'), code: 'UNKNOWN_STREAM_TYPE', offset: 0, rule: 'GAROU-3.3' },
  { what: 'server stream type from the client', opts: cmds, input: bytes('1000'), code: 'STREAM_DIRECTION', offset: 0, rule: 'GAROU-3.3' },
  { what: 'client stream type from the server', opts: s2c, input: bytes('01'), code: 'STREAM_DIRECTION', offset: 0, rule: 'GAROU-3.3' },
  { what: 'unused code of the control range after a Hello', opts: ctrl, input: concatBytes([hello, bytes('0a')]), code: 'UNKNOWN_FRAME_TYPE', offset: 31, rule: 'GAROU-2.2' },
  { what: 'room event on the chat-commands stream', opts: cmds, input: concatBytes([bytes('01'), encodeFrame('RoomClose', { room_id: 1, seq: 1, reason: 'x' })]), code: 'FRAME_NOT_ALLOWED', offset: 1, rule: 'GAROU-3.3' },
  { what: 'command on the control stream', opts: ctrl, input: encodeFrame('JoinRoom', { cmd_id: 1, room_id: 1 }), code: 'FRAME_NOT_ALLOWED', offset: 0, rule: 'GAROU-3.3' },
  { what: 'length over the limit, reported at the header', opts: ctrl, input: concatBytes([hello, encodeFrameHeader(0x08, MAX + 1)]), code: 'FRAME_TOO_LARGE', offset: 31, rule: 'GAROU-2.3', closeCode: 4 },
  { what: 'length 2^32 − 1', opts: ctrl, input: encodeFrameHeader(0x00, 0xffffffff), code: 'FRAME_TOO_LARGE', offset: 0, rule: 'GAROU-2.3', closeCode: 4 },
  { what: 'invalid UTF-8 (0xff)', opts: ctrl, input: encodeRawFrame(0x08, concatBytes([utf8('{"reason":"a'), bytes('ff'), utf8('"}')])), code: 'INVALID_UTF8', offset: 5 + 12, rule: 'GAROU-2.4' },
  { what: 'overlong UTF-8 (c0 80)', opts: ctrl, input: concatBytes([hello, encodeRawFrame(0x08, concatBytes([utf8('{"reason":"'), bytes('c080'), utf8('"}')]))]), code: 'INVALID_UTF8', offset: 31 + 5 + 11, rule: 'GAROU-2.4' },
  { what: 'UTF-16 surrogate in UTF-8 (ed a0 80)', opts: ctrl, input: encodeRawFrame(0x08, concatBytes([utf8('{"reason":"'), bytes('eda080'), utf8('"}')])), code: 'INVALID_UTF8', offset: 16, rule: 'GAROU-2.4' },
  { what: 'UTF-8 cut at the end of the payload', opts: ctrl, input: encodeRawFrame(0x08, concatBytes([utf8('{"reason":"x"}'), bytes('e282')])), code: 'INVALID_UTF8', offset: 5 + 14, rule: 'GAROU-2.4' },
  { what: 'not JSON', opts: cmds, input: concatBytes([bytes('01'), encodeRawFrame(0x15, '{cmd_id:1}')]), code: 'INVALID_JSON', offset: 6, rule: 'GAROU-2.4' },
  { what: 'empty payload', opts: ctrl, input: encodeRawFrame(0x05, ''), code: 'INVALID_JSON', offset: 5, rule: 'GAROU-2.4' },
  { what: 'a BOM before the JSON', opts: ctrl, input: encodeRawFrame(0x05, concatBytes([bytes('efbbbf'), utf8('{"nonce":1}')])), code: 'INVALID_JSON', offset: 5, rule: 'GAROU-2.4' },
  { what: 'JSON array instead of an object', opts: ctrl, input: encodeRawFrame(0x05, '[1]'), code: 'SCHEMA', offset: 5, rule: 'GAROU-2.5' },
  { what: 'missing field', opts: cmds, input: concatBytes([bytes('01'), encodeRawFrame(0x10, '{"cmd_id":3,"room_id":1}')]), code: 'SCHEMA', offset: 6, rule: 'GAROU-2.5' },
  { what: 'u32 out of range', opts: ctrl, input: encodeRawFrame(0x05, '{"nonce":4294967296}'), code: 'SCHEMA', offset: 5, rule: 'GAROU-2.5' },
  { what: 'FIN inside the hot-room stream header', opts: s2c, input: bytes('110000'), code: 'TRUNCATED', offset: 0, rule: 'GAROU-2.7', atFin: true },
  { what: 'FIN inside a frame header', opts: ctrl, input: concatBytes([hello, bytes('0800')]), code: 'TRUNCATED', offset: 31, rule: 'GAROU-2.7', atFin: true },
  { what: 'FIN inside a payload', opts: cmds, input: concatBytes([bytes('01'), encodeFrame('JoinRoom', { cmd_id: 1, room_id: 1 }).subarray(0, 9)]), code: 'TRUNCATED', offset: 1, rule: 'GAROU-2.7', atFin: true },
];

t.test('every error kind, with its offset: whole, byte by byte, and nothing after it', async (t) => {
  for (const c of errorCases) {
    for (const mode of ['whole', 'byte by byte'] as const) {
      const d = new StreamDecoder(c.opts);
      let err: GarouCodecError | undefined;
      const chunks = mode === 'whole' ? [c.input] : [...c.input].map((b) => new Uint8Array([b]));
      for (const ch of chunks) err ??= d.push(ch).error;
      if (c.atFin) {
        t.equal(err, undefined, `${c.what} (${mode}): no error before FIN`);
        err = d.finish();
      }
      t.ok(err instanceof GarouCodecError, `${c.what} (${mode}): typed error`);
      t.equal(err?.code, c.code, `${c.what} (${mode}): code`);
      t.equal(err?.offset, c.offset, `${c.what} (${mode}): offset`);
      t.equal(err?.rule, c.rule, `${c.what}: rule`);
      t.equal(err?.closeCode, c.closeCode ?? 1, `${c.what}: close code`);
      t.match(err?.message, new RegExp(`at byte ${c.offset}:`), `${c.what}: message names the offset`);
      t.ok(err!.reason().startsWith(c.rule), 'close reason names the rule');
      if (!c.atFin) t.same(d.push(hello), { frames: [] }, `${c.what}: bytes after the error are ignored`);
    }
  }
});

t.test('frame too large: found at the header without the payload; the limit itself is accepted', async (t) => {
  const d = new StreamDecoder({ stream: 'control', dir: 'c2s', maxFrameBytes: MAX });
  t.equal(d.push(encodeFrameHeader(0x08, MAX)).error, undefined, 'len = max is fine');
  const reason = 'r'.repeat(MAX - '{"reason":""}'.length);
  const r = d.push(utf8(`{"reason":"${reason}"}`));
  t.same(r.frames.map(strip), [{ name: 'Goodbye', payload: { reason } }]);
  t.throws(() => encodeFrame('Goodbye', { reason: `${reason}x` }, { maxFrameBytes: MAX }), RangeError, 'encoding over the limit is local misuse');
});

t.test('schema errors carry the cmd_id and upload_id a refusal needs (GAROU-2.5)', async (t) => {
  const r1 = decodeStream(concatBytes([bytes('01'), encodeRawFrame(0x10, '{"cmd_id":42,"room_id":"1","body":"x"}')]), { stream: 'uni', dir: 'c2s' });
  t.ok(r1.error instanceof SchemaError);
  t.equal((r1.error as SchemaError).cmdId, 42);
  t.match((r1.error as SchemaError).problems, ['/room_id: must be integer; got "1"']);
  const r2 = decodeStream(concatBytes([bytes('01'), encodeRawFrame(0x10, '{"cmd_id":-1,"room_id":1}')]), { stream: 'uni', dir: 'c2s' });
  t.equal((r2.error as SchemaError).cmdId, undefined, 'no valid cmd_id: not refusable');
  const r3 = decodeStream(concatBytes([bytes('03'), encodeRawFrame(0x71, '{"upload_id":"u1","offset":0,"data":"not base64!"}')]), { stream: 'uni', dir: 'c2s' });
  t.equal((r3.error as SchemaError).uploadId, 'u1');
  t.match((r3.error as SchemaError).problems, [/^\/data: must match pattern/]);
});

t.test('datagrams: exact bytes and every error kind', async (t) => {
  const dg = encodeDatagram('Typing', { room_id: 3, user_id: 'u' });
  t.equal(hex(dg), hex(concatBytes([bytes('80 0000001b'), utf8('{"room_id":3,"user_id":"u"}')])));
  t.same(strip(decodeDatagram(dg, 'c2s')), { name: 'Typing', payload: { room_id: 3, user_id: 'u' } });
  t.same(strip(decodeDatagram(encodeDatagram('PresenceAway', { user_id: 'a' }), 's2c')), { name: 'PresenceAway', payload: { user_id: 'a' } });
  t.throws(() => encodeDatagram('SendMessage' as 'Typing', { room_id: 1, user_id: 'u' }), RangeError);
  const cases: [Uint8Array, string, number][] = [
    [new Uint8Array(0), 'TRUNCATED', 0],
    [bytes('8000'), 'TRUNCATED', 0],
    [encodeRawFrame(0x85, '{}'), 'UNKNOWN_FRAME_TYPE', 0],
    [encodeFrame('Ping', { nonce: 1 }), 'FRAME_NOT_ALLOWED', 0],
    [concatBytes([encodeFrameHeader(0x82, 2 ** 20 + 1)]), 'FRAME_TOO_LARGE', 0],
    [concatBytes([dg, bytes('00')]), 'DATAGRAM_LENGTH', 1],
    [dg.subarray(0, dg.length - 1), 'DATAGRAM_LENGTH', 1],
    [encodeRawFrame(0x82, bytes('7bfe7d')), 'INVALID_UTF8', 6],
    [encodeRawFrame(0x82, '{'), 'INVALID_JSON', 5],
    [encodeRawFrame(0x80, '{"room_id":3}'), 'SCHEMA', 5],
  ];
  for (const [b, code, offset] of cases) {
    try {
      decodeDatagram(b, 'c2s');
      t.fail(`${hex(b).slice(0, 20)}: accepted`);
    } catch (e) {
      t.ok(e instanceof GarouCodecError, `${code}: typed`);
      t.equal((e as GarouCodecError).code, code, `${hex(b).slice(0, 20)}: ${code}`);
      t.equal((e as GarouCodecError).offset, offset, `${code}: offset`);
    }
  }
});

// One valid payload per frame type, and which of its fields are optional (PROTOCOLS "?" fields).
const samples: Record<FrameName, { payload: Record<string, unknown>; optional?: string[] }> = {
  Hello: { payload: { version: 1, client: 'c' } },
  HelloAck: { payload: { version: 1, session_id: 's' } },
  Auth: { payload: { username: 'a', token: 't' }, optional: ['token'] },
  AuthOk: { payload: { user_id: 'u' } },
  AuthFailed: { payload: { reason: 'r' } },
  Ping: { payload: { nonce: 1 } },
  Pong: { payload: { nonce: 1 } },
  Throttle: { payload: { retry_after_ms: 100 } },
  Goodbye: { payload: { reason: 'bye' } },
  ServerCommand: { payload: { command: 'reload', args: { a: 1 } }, optional: ['args'] },
  SendMessage: { payload: { cmd_id: 1, room_id: 1, body: 'b' } },
  EditMessage: { payload: { cmd_id: 1, room_id: 1, message_id: 'm', body: 'b' } },
  DeleteMessage: { payload: { cmd_id: 1, room_id: 1, message_id: 'm' } },
  AddReaction: { payload: { cmd_id: 1, room_id: 1, message_id: 'm', emoji: '👍' } },
  RemoveReaction: { payload: { cmd_id: 1, room_id: 1, message_id: 'm', emoji: '👍' } },
  JoinRoom: { payload: { cmd_id: 1, room_id: 1 } },
  LeaveRoom: { payload: { cmd_id: 1, room_id: 1 } },
  CreateRoom: { payload: { cmd_id: 1, name: 'n', room_type: 'group', members: ['u2'] }, optional: ['members'] },
  RoomMessage: { payload: { room_id: 1, seq: 1, message_id: 'm', user_id: 'u', body: 'b', ts: 1700000000000 } },
  RoomMessageEdited: { payload: { room_id: 1, seq: 2, message_id: 'm', body: 'b2' } },
  RoomMessageDeleted: { payload: { room_id: 1, seq: 3, message_id: 'm' } },
  RoomReactionAdded: { payload: { room_id: 1, seq: 4, message_id: 'm', user_id: 'u', emoji: 'x' } },
  RoomReactionRemoved: { payload: { room_id: 1, seq: 5, message_id: 'm', user_id: 'u', emoji: 'x' } },
  RoomUserJoined: { payload: { room_id: 1, seq: 6, user_id: 'u', role: 'member' }, optional: ['role'] },
  RoomUserLeft: { payload: { room_id: 1, seq: 7, user_id: 'u', role: 'guest' }, optional: ['role'] },
  RoomInit: {
    payload: { room_id: 1, seq: 0, name: 'n', room_type: 'channel', members: [{ user_id: 'u', role: 'owner' }], history: [{ room_id: 1, seq: 1, message_id: 'm', user_id: 'u', body: 'b', ts: 1 }] },
  },
  RoomClose: { payload: { room_id: 1, seq: 8, reason: 'r' } },
  ShardAssignment: { payload: { num_shards: 8 } },
  RoomPromoted: { payload: { room_id: 1 } },
  RoomDemoted: { payload: { room_id: 1 } },
  MessageDelivered: { payload: { room_id: 1, seq: 1 } },
  MessageRead: { payload: { room_id: 1, seq: 1 } },
  MessageAck: { payload: { cmd_id: 1, room_id: 1, message_id: 'm', seq: 1 }, optional: ['room_id', 'message_id', 'seq'] },
  UploadStart: { payload: { upload_id: 'up', room_id: 1, name: 'f.txt', size: 3 } },
  UploadChunk: { payload: { upload_id: 'up', offset: 0, data: 'YWJj' } },
  UploadComplete: { payload: { upload_id: 'up' } },
  UploadCancel: { payload: { upload_id: 'up' } },
  UploadAck: { payload: { upload_id: 'up', received: 3, done: true } },
  Typing: { payload: { room_id: 1, user_id: 'u' } },
  StopTyping: { payload: { room_id: 1, user_id: 'u' } },
  PresenceOnline: { payload: { user_id: 'u' } },
  PresenceOffline: { payload: { user_id: 'u' } },
  PresenceAway: { payload: { user_id: 'u' } },
  Error: { payload: { cmd_id: 1, upload_id: 'up', code: 1, message: 'm' }, optional: ['cmd_id', 'upload_id'] },
};

function wrongType(v: unknown): unknown {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return 7;
  if (typeof v === 'boolean') return 'true';
  if (Array.isArray(v)) return {};
  return [];
}

t.test('every frame type: the schema accepts a valid payload and rejects each missing required field and each wrong type', async (t) => {
  t.same(Object.keys(samples).sort(), [...FRAME_NAMES].sort(), 'a sample for every frame type');
  for (const name of FRAME_NAMES) {
    const { payload, optional = [] } = samples[name];
    t.same(validatePayload(name, payload), [], `${name}: valid sample`);
    const minimal = Object.fromEntries(Object.entries(payload).filter(([k]) => !optional.includes(k)));
    t.same(validatePayload(name, minimal), [], `${name}: valid without its optional fields`);
    t.same(validatePayload(name, { ...payload, extra_field: 1 }), [], `${name}: unknown fields ignored (GAROU-2.6)`);
    for (const k of Object.keys(minimal)) {
      const { [k]: _gone, ...rest } = payload;
      t.same(validatePayload(name, rest), [`/${k}: required property is missing`], `${name}: missing ${k}`);
    }
    for (const [k, v] of Object.entries(payload)) {
      if (name === 'ServerCommand' && k === 'args') continue; // any JSON value
      const problems = validatePayload(name, { ...payload, [k]: wrongType(v) });
      t.ok(problems.length > 0 && problems.every((p) => p.startsWith(`/${k}`)), `${name}: wrong type of ${k} rejected (${problems.join('; ')})`);
    }
    t.ok(validatePayload(name, []).length > 0, `${name}: an array is not a payload`);
    // The sample survives the wire.
    t.same(strip(decodeDatagramOrStream(encodeFrame(name, payload as never), name)), { name, payload });
  }
});

function decodeDatagramOrStream(b: Uint8Array, name: FrameName): DecodedFrame {
  for (const [carrier, dirs] of Object.entries(ALLOWED_FRAMES) as [Carrier, Partial<Record<Direction, readonly FrameName[]>>][]) {
    for (const dir of ['c2s', 's2c'] as Direction[]) {
      if (!dirs[dir]?.includes(name)) continue;
      if (carrier === 'datagram') return decodeDatagram(b, dir);
      const pre = bytes(carrierHeader[carrier]!);
      const r = decodeStream(concatBytes([pre, b]), { stream: carrier === 'control' ? 'control' : 'uni', dir });
      if (r.error) throw r.error;
      return r.frames[0]!;
    }
  }
  throw new Error(`no carrier for ${name}`);
}

t.test('range checks of the schemas', async (t) => {
  t.ok(validatePayload('RoomMessage', { ...samples.RoomMessage.payload, seq: 0 }).length > 0, 'room event seq starts at 1');
  t.same(validatePayload('RoomInit', samples.RoomInit.payload), [], 'RoomInit seq may be 0');
  t.ok(validatePayload('JoinRoom', { cmd_id: 1, room_id: 2 ** 32 }).length > 0, 'room_id is a u32');
  t.ok(validatePayload('JoinRoom', { cmd_id: 1.5, room_id: 1 }).length > 0, 'cmd_id is an integer');
  t.ok(validatePayload('ShardAssignment', { num_shards: 0 }).length > 0, 'at least one shard');
  t.ok(validatePayload('ShardAssignment', { num_shards: 256 }).length > 0, 'shard index is a u8');
  t.ok(validatePayload('CreateRoom', { cmd_id: 1, name: 'n', room_type: 'public' }).length > 0, 'room types are an enum');
  t.ok(validatePayload('RoomUserJoined', { room_id: 1, seq: 1, user_id: 'u', role: 'king' }).length > 0, 'roles are an enum');
  t.ok(validatePayload('Error', { code: 6, message: 'm' }).length > 0, 'error codes 1–5');
  t.ok(validatePayload('AuthOk', { user_id: '' }).length > 0, 'ids are non-empty');
  t.throws(() => encodeFrame('Ping', { nonce: -1 }), RangeError, 'encoding an invalid payload is local misuse');
});

t.test('UTF-8 validation', async (t) => {
  const ok = ['', 'a', 'é', '€', '👋', 'a\u0000b', '\uffff'];
  for (const s of ok) t.equal(firstInvalidUtf8(utf8(s)), -1, JSON.stringify(s));
  const bad: [string, number][] = [['80', 0], ['61c0af', 1], ['e08080', 0], ['eda080', 0], ['f4908080', 0], ['f5', 0], ['61e282', 1], ['c3', 0], ['e2 28 a1', 0], ['ff', 0]];
  for (const [h, at] of bad) t.equal(firstInvalidUtf8(bytes(h)), at, h);
  const fatal = new TextDecoder('utf-8', { fatal: true });
  const agrees = (b: Uint8Array): boolean => {
    let native = true;
    try {
      fatal.decode(b);
    } catch {
      native = false;
    }
    return native === (firstInvalidUtf8(b) === -1);
  };
  const utf8ish = fc.array(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x80, 0xbf, 0xc2, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5)), { maxLength: 12 }).map((a) => new Uint8Array(a));
  fc.assert(fc.property(utf8ish, agrees), { numRuns: 5000 });
  fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => firstInvalidUtf8(utf8(s)) === -1));
  t.pass('agrees with the WHATWG decoder on random bytes');
});

t.test('explain: one line per write, never throws', async (t) => {
  t.equal(explain(hello), 'control (c2s): Hello {"version":1,"client":"x"}');
  t.equal(explain(concatBytes([bytes('01'), encodeFrame('JoinRoom', { cmd_id: 1, room_id: 2 }), bytes('2a')]), { on: 'uni' }), 'uni (c2s): stream 0x01 chat commands; JoinRoom {"cmd_id":1,"room_id":2}; then UNKNOWN_FRAME_TYPE at byte 30 (GAROU-2.2): unknown frame type 0x2a');
  t.equal(explain(hello.subarray(0, 3)), 'control (c2s): 3 of 5 bytes of a frame header of Hello (incomplete)');
  t.equal(explain(bytes('1100'), { on: 'uni', dir: 's2c' }), 'uni (s2c): 2 of 5 bytes of a stream header (incomplete)');
  t.equal(explain(encodeDatagram('Typing', { room_id: 1, user_id: 'u' }), { on: 'datagram' }), 'datagram (c2s): Typing {"room_id":1,"user_id":"u"}');
  t.equal(explain(new Uint8Array(0)), 'control (c2s): nothing');
  t.match(explain(encodeRawFrame(0x00, `{"version":${'['.repeat(100000)}${']'.repeat(100000)},"client":"x"}`)), /^control \(c2s\): SCHEMA at byte 5 \(GAROU-2.5\)/, 'deep nesting');
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.constantFrom('control', 'uni', 'datagram'), fc.constantFrom<Direction>('c2s', 's2c'), (b, on, dir) => {
    const line = explain(b, { on: on as 'control', dir });
    return typeof line === 'string' && !line.includes('\n');
  }));
});

/** Splits bytes into chunks at the given cut points. */
function chunk(b: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (b.length + 1)))].sort((x, y) => x - y);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of points) {
    out.push(b.subarray(at, p));
    at = p;
  }
  out.push(b.subarray(at));
  return out;
}

/** Decodes in chunks; returns frames, header and the first error (FIN included), or rethrows what is not a codec error. */
function run(opts: StreamDecoderOptions, chunks: readonly Uint8Array[]): { frames: Frame[]; header?: StreamHeader; error?: { code: string; offset: number } } {
  const d = new StreamDecoder(opts);
  const frames: Frame[] = [];
  let header: StreamHeader | undefined;
  let error: GarouCodecError | undefined;
  for (const c of chunks) {
    const r = d.push(c);
    frames.push(...r.frames.map(strip));
    header ??= r.header;
    error ??= r.error;
  }
  error ??= d.finish();
  if (error && !(error instanceof GarouCodecError)) throw error;
  return { frames, ...(header ? { header } : {}), ...(error ? { error: { code: error.code, offset: error.offset } } : {}) };
}

const streams: { opts: StreamDecoderOptions; header: string; carrier: Carrier }[] = [
  { opts: { stream: 'control', dir: 'c2s' }, header: '', carrier: 'control' },
  { opts: { stream: 'control', dir: 's2c' }, header: '', carrier: 'control' },
  { opts: { stream: 'uni', dir: 'c2s' }, header: '01', carrier: 'commands' },
  { opts: { stream: 'uni', dir: 'c2s' }, header: '02', carrier: 'acks' },
  { opts: { stream: 'uni', dir: 'c2s' }, header: '03', carrier: 'upload' },
  { opts: { stream: 'uni', dir: 's2c' }, header: '1001', carrier: 'shard' },
  { opts: { stream: 'uni', dir: 's2c' }, header: '11000000ff', carrier: 'hot' },
];

t.test('property: decode ∘ encode is the identity on valid frames, at any chunking', async (t) => {
  for (const s of streams) {
    const names = ALLOWED_FRAMES[s.carrier][s.opts.dir]!;
    fc.assert(
      fc.property(fc.array(frameArbitrary(names), { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 6 }), (frames, cuts) => {
        const wire = concatBytes([bytes(s.header), ...frames.map((f) => encodeFrameOf(f))]);
        const got = run(s.opts, chunk(wire, cuts));
        deepStrictEqual(got.error, undefined);
        deepStrictEqual(got.frames, frames);
        // and encode ∘ decode: the bytes come back exactly.
        deepStrictEqual(hex(concatBytes([bytes(s.header), ...got.frames.map((f) => encodeFrameOf(f))])), hex(wire));
      }),
      { numRuns: 60 },
    );
    t.pass(`${s.carrier} ${s.opts.dir}`);
  }
  fc.assert(
    fc.property(frameArbitrary(ALLOWED_FRAMES.datagram.c2s!), (f) => {
      deepStrictEqual(strip(decodeDatagram(encodeFrameOf(f), 'c2s')), f);
    }),
    { numRuns: 100 },
  );
  t.pass('datagrams');
});

const mutation = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), value: fc.constant(0) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat(), value: fc.constant(0) }),
);

function mutate(b: Uint8Array, ms: readonly { op: 'flip' | 'insert' | 'delete' | 'truncate'; at: number; value: number }[]): Uint8Array {
  let a = [...b];
  for (const m of ms) {
    const at = a.length === 0 ? 0 : m.at % (a.length + (m.op === 'insert' ? 1 : 0));
    if (m.op === 'flip' && a.length > 0) a[at] = m.value;
    else if (m.op === 'insert') a.splice(at, 0, m.value);
    else if (m.op === 'delete') a.splice(at, 1);
    else if (m.op === 'truncate') a = a.slice(0, at);
  }
  return new Uint8Array(a);
}

t.test('property: mutated bytes never throw anything but typed errors, and chunking never changes the verdict', async (t) => {
  for (const s of streams) {
    const names = ALLOWED_FRAMES[s.carrier][s.opts.dir]!;
    fc.assert(
      fc.property(fc.array(frameArbitrary(names), { minLength: 1, maxLength: 3 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 5 }), (frames, ms, cuts) => {
        const wire = mutate(concatBytes([bytes(s.header), ...frames.map((f) => encodeFrameOf(f))]), ms);
        const opts = { ...s.opts, maxFrameBytes: 256 };
        const whole = run(opts, [wire]);
        deepStrictEqual(run(opts, chunk(wire, cuts)), whole);
        if (whole.error) {
          if (whole.error.offset < 0 || whole.error.offset > wire.length) throw new Error(`offset ${whole.error.offset} outside the ${wire.length} bytes`);
        }
      }),
      { numRuns: 80 },
    );
    t.pass(`${s.carrier} ${s.opts.dir}`);
  }
  fc.assert(
    fc.property(frameArbitrary(ALLOWED_FRAMES.datagram.c2s!), fc.array(mutation, { minLength: 1, maxLength: 3 }), (f, ms) => {
      const b = mutate(encodeFrameOf(f), ms);
      try {
        decodeDatagram(b, 'c2s', { maxFrameBytes: 256 });
      } catch (e) {
        if (!(e instanceof GarouCodecError)) throw e;
      }
    }),
    { numRuns: 200 },
  );
  t.pass('datagrams');
});

t.test('a partial frame is copied: the caller may reuse its buffer', async (t) => {
  const wire = Buffer.from(encodeFrame('Goodbye', { reason: 'see you' }));
  const d = new StreamDecoder({ stream: 'control', dir: 'c2s' });
  const scratch = Buffer.alloc(wire.length);
  wire.copy(scratch, 0, 0, 12);
  t.same(d.push(scratch.subarray(0, 12)).frames, []);
  scratch.fill(0x41); // the driver reuses its read buffer
  wire.copy(scratch, 0, 12);
  t.same(d.push(scratch.subarray(0, wire.length - 12)).frames.map(strip), [{ name: 'Goodbye', payload: { reason: 'see you' } }]);
});

t.test('explainWrite and explainEnd: write by write, with the stream state before each write', async (t) => {
  const join = encodeFrame('JoinRoom', { cmd_id: 1, room_id: 2 });
  const d = new StreamDecoder({ stream: 'uni', dir: 'c2s' });
  t.same(explainWrite(d, bytes('01')).parts, ['stream 0x01 chat commands']);
  t.same(explainWrite(d, join.subarray(0, 3)).parts, ['3 of 5 bytes of a frame header of JoinRoom (incomplete)']);
  t.equal(explainEnd(d), 'FIN inside a frame header at byte 1, 3 of 5 bytes (GAROU-2.7)');
  t.same(explainWrite(d, join.subarray(3, 10)).parts, ['10 of 29 bytes of a payload of JoinRoom (incomplete)']);
  t.same(explainWrite(d, concatBytes([join.subarray(10), join])).parts, ['completes JoinRoom {"cmd_id":1,"room_id":2}', 'JoinRoom {"cmd_id":1,"room_id":2}']);
  t.equal(explainEnd(d), 'FIN on chat-commands stream (c2s) after whole frames');
  const w = explainWrite(d, encodeFrame('Ping', { nonce: 1 }));
  t.equal(w.error?.code, 'FRAME_NOT_ALLOWED');
  t.same(w.parts, ['FRAME_NOT_ALLOWED at byte 59 (GAROU-3.3): frame 0x05 Ping is not allowed here']);
  t.same(explainWrite(d, bytes('00')).parts, ['1 byte(s) after FRAME_NOT_ALLOWED (ignored)']);
  t.equal(explainEnd(d), 'FIN after FRAME_NOT_ALLOWED');
  const h = new StreamDecoder({ stream: 'uni', dir: 's2c' });
  t.same(explainWrite(h, bytes('11 0000')).parts, ['3 of 5 bytes of a stream header (incomplete)']);
  t.same(explainWrite(h, bytes('0009')).parts, ['stream 0x11 hot room 9']);
});
