import t from 'tap';
import { closeCodeName, commitAnswer, DISCRIMINATORS, encodeItem, encodeItems, explainClientEnd, explainClientWrite, explainServerData, ItemDecoder, MAX_ITEM, STREAM_KINDS, streamBytes, streamKindOf } from '../../suites/proton/codec.js';

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

t.test('ItemDecoder.pushInto: a range of bytes, items written into a reused array, the partial item kept', async (t) => {
  const d = new ItemDecoder();
  const items = [7, 7, 7];
  const bytes = Buffer.from('ff' + '00000001' + 'fffffffe' + 'aabb', 'hex');
  t.equal(d.pushInto(bytes, 1, bytes.length, items), 2, 'two items completed');
  t.same(items, [1, 0xfffffffe, 7], 'written from index 0; entries beyond the count left as they were');
  t.equal(d.partial, 2);
  t.equal(d.pushInto(Buffer.from('ccddee', 'hex'), 0, 2, items), 1);
  t.equal(items[0], 0xaabbccdd, 'the held bytes complete the next item (an unsigned value)');
  t.equal(d.partial, 0, 'bytes outside the range are not read');
  d.pushInto(Buffer.from('01', 'hex'), 0, 1, items);
  d.clear();
  t.equal(d.partial, 0);
  t.same(d.push(Buffer.from('00000005', 'hex')), [5], 'clear drops the partial item');
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

t.test('explain: what client bytes mean to a server; the discriminator table once', async (t) => {
  t.same(STREAM_KINDS.map((k) => streamKindOf(DISCRIMINATORS[k])), STREAM_KINDS, 'streamKindOf reads the table');
  t.same(explainClientWrite({ discriminator: undefined, body: 0 }, Uint8Array.of(1, 0, 0, 0, 1, 0, 0, 0, 2, 0)).parts, ['discriminator 0x01 (event)', 'event ids 1, 2', '1 byte of an item (partial: PROTON-1.3)']);
  t.same(explainClientWrite({ discriminator: 1, body: 1 }, Uint8Array.of(0, 0, 3)).parts, ['3 more bytes of an item (completes it: event id)']);
  t.same(explainClientWrite({ discriminator: undefined, body: 0 }, Uint8Array.of(7)).parts, ['discriminator 0x07 (unknown: PROTON-3.2)']);
  t.same(explainClientWrite({ discriminator: undefined, body: 0 }, Uint8Array.of(2), 'PROTON-3.3').parts, ['discriminator 0x02 (commit again: PROTON-3.3)'], 'the model says when a type is a duplicate');
  t.same(explainClientWrite({ discriminator: 3, body: 0 }, Uint8Array.of(9, 9)).parts, ['2 bytes on the Action stream (PROTON-6.1)']);
  t.same(explainClientWrite({ discriminator: 0xff, body: 0 }, Uint8Array.of(9)).parts, ['1 byte after the reset discriminator (ignored: PROTON-9.2)']);
  t.equal(explainClientEnd({ discriminator: 2, body: 2 }, { type: 'fin' }, 'a0'), 'FIN inside an item, 2 of 4 bytes (PROTON-5.5)');
  t.equal(explainClientEnd({ discriminator: undefined, body: 0 }, { type: 'reset', code: 3 }, 'a0'), 'RESET_STREAM 3 on a0 (before its discriminator: PROTON-3.5)');
  t.equal(explainServerData('commit', '0000002a'), 'answer 0000002a');
});
