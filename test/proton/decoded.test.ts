/** The Proton model's decoded frames of the last data event (suites/proton/model.ts `decoded`, written into annotated traces). */
import t from 'tap';
import { ProtonModel } from '../../suites/proton/model.js';
import { fastProfile } from '../../suites/proton/profile.js';

t.test('decoded frames, per data event', async (t) => {
  const m = new ProtonModel(fastProfile, 'monitor');
  m.input({ type: 'conn_open', t: 0, conn: 0, remote: 'x:1' }, 0);
  t.equal(m.decoded(), undefined, 'none before a data event');
  m.input({ type: 'data', t: 10, conn: 0, stream: 0, dir: 'c2s', hex: '01000000010000' }, 1);
  const first = m.decoded();
  t.strictSame(first, [{ discriminator: 'event' }, { event: 1 }, { partial: 2 }], 'discriminator, item, partial item');
  t.equal(m.decoded(), first, 'the same array when asked again');
  m.input({ type: 'data', t: 20, conn: 0, stream: 0, dir: 's2c', hex: '00000001' }, 2);
  t.strictSame(m.decoded(), [{ ack: 1 }], 'the ack');
  m.input({ type: 'data', t: 30, conn: 0, stream: 4, dir: 'c2s', hex: '07' }, 3);
  t.strictSame(m.decoded(), [{ discriminator: '0x07' }], 'an unknown discriminator');
  m.input({ type: 'note', t: 40, text: 'x' }, 4);
  t.equal(m.decoded(), undefined, 'none after an event that is not data');
});
