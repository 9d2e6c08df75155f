/**
 * Theta's frame layer and schema hash: exact bytes, decoded whole, byte by
 * byte and with trailing bytes (h11's table style); the length limit; the
 * SipHash-2-4 reference vectors of the SipHash paper (key 00..0f, messages
 * 00.., lengths 0, 1, 8, 15).
 */
import t from 'tap';
import { closeCodeName, encodeFrame, FrameDecoder, OversizedFrameError, schemaHash, sipHash24, streamRole } from '../../suites/theta/codec.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

const frames: [string, string][] = [
  ['', '00000000'],
  ['01', '0000000101'],
  ['deadbeef', '00000004deadbeef'],
];

t.test('frames: exact bytes, whole, byte by byte, with trailing bytes', async (t) => {
  for (const [payload, wire] of frames) {
    t.equal(hex(encodeFrame(bytes(payload))), wire, `encode ${payload || '(empty)'}`);
    t.same(new FrameDecoder().push(bytes(wire)).map(hex), [payload], `decode whole ${wire}`);
    const d = new FrameDecoder();
    const got: string[] = [];
    for (const b of bytes(wire)) got.push(...d.push(new Uint8Array([b])).map(hex));
    t.same(got, [payload], `decode byte by byte ${wire}`);
    const d2 = new FrameDecoder();
    t.same(d2.push(bytes(`${wire}000000`)).map(hex), [payload], `decode with a trailing partial header ${wire}`);
    t.equal(d2.partial, 3, 'the trailing bytes stay buffered');
  }
  t.same(new FrameDecoder().push(bytes(frames.map(([, w]) => w).join(''))).map(hex), frames.map(([p]) => p), 'several frames in one push');
});

t.test('frame length limit', async (t) => {
  const d = new FrameDecoder(16);
  t.same(d.push(bytes('00000010' + '00'.repeat(16))).length, 1, 'a frame of exactly the limit is accepted');
  const err = t.throws(() => d.push(bytes('00000011'))) as OversizedFrameError;
  t.ok(err instanceof OversizedFrameError, 'one byte over the limit is rejected as soon as its length field is read');
  t.equal(err.offset, 20, 'at the stream offset of its length field');
  t.equal(err.length, 17);
  t.throws(() => new FrameDecoder().push(bytes('ffffffff')), OversizedFrameError, '4 GiB - 1 announced: rejected with the default 16 MiB limit');
});

t.test('SipHash-2-4 reference vectors and the schema hash', async (t) => {
  const key: [number, number, number, number] = [0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c];
  const msg = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => i);
  t.equal(sipHash24(key, msg(0)), 0x726fdb47dd0e0e31n, 'length 0');
  t.equal(sipHash24(key, msg(1)), 0x74f839c593dc67fdn, 'length 1');
  t.equal(sipHash24(key, msg(8)), 0x93f5f5799a932462n, 'length 8');
  t.equal(sipHash24(key, msg(15)), 0xa129ca6149be45e5n, 'length 15');
  t.equal(schemaHash('manifest'), sipHash24([0, 0, 0, 0], new TextEncoder().encode('manifest')), 'schema hash: zero key over UTF-8');
  t.not(schemaHash('manifest'), schemaHash('manifesT'), 'one character changes the hash');
  t.ok(schemaHash('ünïcödé') < 2n ** 64n && schemaHash('') >= 0n, 'an unsigned 64-bit value');
});

t.test('streams and close codes', async (t) => {
  t.same([0, 4, 8, 1, 2, 12].map(streamRole), ['control', 'replication', 'assets', undefined, undefined, undefined]);
  t.equal(closeCodeName(5), '0x5 PROTOCOL_VIOLATION');
  t.equal(closeCodeName(0x99), '0x99');
});
