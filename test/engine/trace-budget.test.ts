/** TraceRecorder's byte budget: listeners see every byte, the stored trace stays within the budget, truncation is reported. */
import t from 'tap';
import { TRACE_EVENT_OVERHEAD_BYTES, TraceRecorder, type DataEvent, type TraceEvent } from '../../harness/engine/trace.js';

const chunk = (n: number, fill: number) => Buffer.alloc(n, fill).toString('hex');

t.test('under the budget the trace is whole', async (t) => {
  const rec = new TraceRecorder(0, () => 0, 10_000);
  rec.record<DataEvent>({ type: 'data', conn: 0, stream: 0, dir: 's2c', hex: chunk(100, 1) });
  t.equal(rec.truncation, undefined);
  t.equal((rec.events[0] as DataEvent).hex.length, 200);
  t.equal(rec.recordedBytes, 100 + TRACE_EVENT_OVERHEAD_BYTES);
});

t.test('over the budget: listeners get every byte, storage keeps counts, a marker and the last bytes', async (t) => {
  const rec = new TraceRecorder(0, () => 0, 1_000);
  let seen = 0;
  const indexes: number[] = [];
  rec.listen((ev, i) => {
    if (ev.type === 'data') seen += ev.hex.length / 2;
    indexes.push(i);
  });
  rec.record({ type: 'conn_open', conn: 0, remote: 'x:1' });
  for (let i = 0; i < 50; i++) rec.record<DataEvent>({ type: 'data', conn: 0, stream: 0, dir: 's2c', hex: chunk(500, i) });
  rec.record({ type: 'stream_fin', conn: 0, stream: 0, dir: 's2c' });
  t.equal(seen, 25_000, 'the monitor saw every byte');
  const stored = rec.events.reduce((n, e: TraceEvent) => n + (e.type === 'data' ? e.hex.length / 2 : 0), 0);
  t.ok(stored <= 1_000, `stored payload ${stored} within the budget`);
  const cut = rec.truncation!;
  t.ok(cut, 'truncation reported');
  t.equal(cut.budgetBytes, 1_000);
  t.equal(cut.bytes + stored, 25_000, 'bytes kept + bytes counted = bytes seen');
  t.equal(cut.lastHex, chunk(64, 49), 'the last 64 bytes are kept');
  t.ok(rec.events.some((e) => e.type === 'note' && /trace truncated/.test(e.text)), 'a marker note');
  const stubs = rec.events.filter((e) => e.type === 'data' && e.elided !== undefined);
  t.equal(stubs.length, 1, 'consecutive chunks of one stream merge into one event');
  t.equal((stubs[0] as DataEvent).elided, cut.bytes);
  t.equal(rec.events[rec.events.length - 1]!.type, 'stream_fin', 'non-data events are still recorded');
  t.ok(indexes.every((i) => i >= 0 && i < rec.events.length), 'every index given to listeners is an index of the stored trace');
});

t.test('chunks on different streams get their own elided events', async (t) => {
  const rec = new TraceRecorder(0, () => 0, 100);
  for (let i = 0; i < 6; i++) rec.record<DataEvent>({ type: 'data', conn: 0, stream: i % 2, dir: 's2c', hex: chunk(200, 0) });
  t.equal(rec.events.filter((e) => e.type === 'data').length, 6);
  t.equal(rec.truncation?.chunks, 6);
});

t.test('retention (a server host\u2019s recorder): the last events are kept, indices stay absolute, bytes go back to the budget', async (t) => {
  const rec = new TraceRecorder(0, () => 0, 1_000_000, 10);
  const indexes: number[] = [];
  rec.listen((_, i) => void indexes.push(i));
  for (let i = 0; i < 1_000; i++) rec.record<DataEvent>({ type: 'data', conn: i, stream: 0, dir: 'c2s', hex: chunk(10, i & 0xff) });
  t.ok(rec.events.length >= 10 && rec.events.length <= 20, `between 10 and 20 events kept (${rec.events.length})`);
  t.equal((rec.events[rec.events.length - 1] as DataEvent).conn, 999, 'the newest event is kept');
  t.same(indexes, Array.from({ length: 1_000 }, (_, i) => i), 'listeners get every event with its absolute index');
  t.equal(rec.recordedBytes, rec.events.length * (10 + TRACE_EVENT_OVERHEAD_BYTES), 'only the kept events are charged');
  t.equal(rec.truncation, undefined, 'nothing was cut: old events were let go');
});
