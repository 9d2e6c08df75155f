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
