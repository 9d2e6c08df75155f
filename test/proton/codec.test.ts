import t from 'tap';
import { closeCodeName, commitAnswer, encodeItem, encodeItems, ItemDecoder, MAX_ITEM, streamBytes, streamKindOf } from '../../suites/proton/codec.js';

const table: [number, string][] = [
  [0, '00000000'],
  [1, '00000001'],
  [0x01020304, '01020304'],
  [MAX_ITEM, 'ffffffff'],
];

t.test('items: exact bytes, parsed whole, byte by byte and with trailing bytes', async (t) => {
  for (const [v, hex] of table) {
    t.equal(Buffer.from(encodeItem(v)).toString('hex'), hex, `encode ${v}`);
    t.same(new ItemDecoder().push(Buffer.from(hex, 'hex')), [v], `decode whole ${hex}`);
    const d = new ItemDecoder();
    const got: number[] = [];
    for (const b of Buffer.from(hex, 'hex')) got.push(...d.push(new Uint8Array([b])));
    t.same(got, [v], `decode byte by byte ${hex}`);
    t.equal(d.partial, 0);
    const d2 = new ItemDecoder();
    t.same(d2.push(Buffer.from(hex + 'aabb', 'hex')), [v], 'trailing bytes kept');
    t.equal(d2.partial, 2);
    t.same(d2.push(Buffer.from('ccdd', 'hex')), [0xaabbccdd], 'trailing bytes complete the next item');
  }
});

t.test('encodeItem rejects values outside [0, 2^32)', async (t) => {
  for (const bad of [-1, 2 ** 32, 1.5, Number.NaN]) t.throws(() => encodeItem(bad), RangeError, String(bad));
});

t.test('streamBytes and discriminators', async (t) => {
  t.equal(Buffer.from(streamBytes(0x01, [1, 2])).toString('hex'), '010000000100000002');
  t.equal(Buffer.from(encodeItems([])).toString('hex'), '');
  t.throws(() => streamBytes(256), RangeError);
  t.equal(streamKindOf(1), 'event');
  t.equal(streamKindOf(2), 'commit');
  t.equal(streamKindOf(3), 'action');
  t.equal(streamKindOf(0xff), 'reset');
  for (const b of [0, 4, 0x7f, 0xfe]) t.equal(streamKindOf(b), undefined);
});

t.test('commit answer wraps at 2^32', async (t) => {
  t.equal(commitAnswer(21), 42);
  t.equal(commitAnswer(0x8000_0001), 2);
  t.equal(commitAnswer(MAX_ITEM), 0xffff_fffe);
  t.equal(closeCodeName(1), '0x1 PROTOCOL_VIOLATION');
  t.equal(closeCodeName(0x42), '0x42');
});
