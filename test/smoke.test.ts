import t from 'tap';
import { fromHex, toHex } from '../harness/engine/trace.js';
t.test('hex round trip', async (t) => {
  t.equal(toHex(fromHex('00ff10')), '00ff10');
  t.throws(() => fromHex('0g'));
});
