/** Pure parts of the engine: trace recorder, hex, target URLs, case filters, profiles. */
import t from 'tap';
import { fromHex, fromHexInto, toHex, TraceRecorder } from '../../harness/engine/trace.js';
import { parseTarget } from '../../harness/engine/target.js';
import { caseFilter } from '../../harness/engine/runner.js';
import { checkProfileData } from '../../harness/engine/profile.js';
import { UsageError } from '../../harness/engine/errors.js';
import { suite } from '../../suites/proton/index.js';

t.test('hex', async (t) => {
  t.equal(toHex(fromHex('00ff10')), '00ff10');
  t.equal(toHex(new Uint8Array(0)), '');
  t.throws(() => fromHex('0g'), TypeError);
  t.throws(() => fromHex('abc'), TypeError);
  // Every pair of characters around the hex digits decodes as Buffer's decoder does, or throws: among them code
  // points above 255 whose low byte is a hex digit (U+0130, U+0161: not hex, whatever their low byte).
  const chars = [...Array.from({ length: 128 }, (_, c) => String.fromCharCode(c)), '\u00e9', '\u0130', '\u0161', '\u0166', '\u3030'];
  let wrong = 0;
  for (const a of chars) {
    for (const b of chars) {
      const pair = a + b;
      const want = /^[0-9a-fA-F]{2}$/.test(pair) ? Buffer.from(pair, 'hex')[0] : undefined;
      let got: number | undefined;
      try {
        got = fromHex(pair)[0];
      } catch (err) {
        if (!(err instanceof TypeError)) throw err;
      }
      if (got !== want) wrong++;
    }
  }
  t.equal(wrong, 0, `each of ${chars.length ** 2} pairs of characters decodes or is refused as a hex byte should`);
});

t.test('fromHexInto: into the scratch buffer when the bytes fit, else a new array; same errors as fromHex', async (t) => {
  const scratch = new Uint8Array(4).fill(0xee);
  const small = fromHexInto('00Ff10', scratch);
  t.equal(small, scratch, 'fits: the scratch buffer itself');
  t.same([...small], [0x00, 0xff, 0x10, 0xee], 'its first hex.length / 2 bytes are the decoded ones');
  const big = fromHexInto('0102030405', scratch);
  t.not(big, scratch, 'does not fit: a new array');
  t.equal(toHex(big), '0102030405');
  const long = 'ab'.repeat(40);
  t.equal(toHex(fromHexInto(long, new Uint8Array(64))), long, 'longer than the short-hex limit: decoded by Buffer');
  for (const bad of ['0g', 'abc', 'zz']) t.throws(() => fromHexInto(bad, scratch), { name: 'TypeError', message: /^fromHex: not a hex string/ }, bad);
  t.throws(() => fromHexInto('0'.repeat(67), new Uint8Array(64)), TypeError, 'odd length beyond the short-hex limit');
});

t.test('trace recorder: order, monotonic time, listeners isolated', async (t) => {
  const tr = new TraceRecorder();
  const seen: number[] = [];
  const stop = tr.listen((_ev, i) => seen.push(i));
  tr.listen(() => {
    throw new Error('boom');
  });
  tr.note('a');
  tr.record({ type: 'conn_open', conn: tr.allocConn(), remote: 'x:1' });
  stop();
  tr.note('b');
  t.same(seen, [0, 2], 'listener saw the events before it unsubscribed (the error note is index 1)');
  t.match(tr.events[1], { type: 'note', text: /listener error: Error: boom/ });
  const times = tr.events.map((e) => e.t);
  t.same([...times].sort((a, b) => a - b), times, 'times never go back');
  t.equal(tr.allocConn(), 1, 'connection indices count up');
});

t.test('target URLs', async (t) => {
  t.match(parseTarget('quic://127.0.0.1:4433'), { transport: 'quic', host: '127.0.0.1', port: 4433 });
  t.match(parseTarget('tcp://[::1]:80'), { transport: 'tcp', host: '::1', port: 80, url: 'tcp://[::1]:80' });
  t.match(parseTarget('quic://localhost:1'), { host: 'localhost' });
  for (const bad of ['quic://h', 'http://h:1', 'quic://h:1/path', 'quic://u@h:1', 'nonsense', 'quic://h:0']) {
    t.throws(() => parseTarget(bad), UsageError, bad);
  }
});

t.test('case filter', async (t) => {
  const f = caseFilter('proton/event/*,*/reset/alone');
  t.ok(f('proton/event/single'));
  t.ok(f('proton/reset/alone'));
  t.notOk(f('proton/reset/reconnect-at-once'));
  t.ok(caseFilter('event/single')('proton/event/single'), 'the protocol prefix may be left out');
  t.ok(caseFilter(undefined)('anything'));
  t.notOk(caseFilter('proton/e.ent/*')('proton/event/x'), 'dots are literal');
});

t.test('profiles: merge, schema errors with pointers, cross-field checks', async (t) => {
  const p = checkProfileData(suite, { identTimeoutMs: 123 }, 'inline');
  t.equal(p.identTimeoutMs, 123);
  t.equal(p.ioTimeoutMs, suite.defaultProfile.ioTimeoutMs, 'missing fields take the defaults');
  t.throws(() => checkProfileData(suite, { identTimeoutMs: -1 }, 'inline'), /\/identTimeoutMs: must be >= 1/);
  t.throws(() => checkProfileData(suite, { heartbeatMs: 9000, idleTimeoutMs: 5000 }, 'inline'), /\/heartbeatMs \(9000\) must be below \/idleTimeoutMs/);
  t.throws(() => checkProfileData(suite, [], 'inline'), /must be object/);
});
