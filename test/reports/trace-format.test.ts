import t from 'tap';
import {
  formatTraceEvent,
  formatTraceTime,
  traceExcerpt,
} from '../../harness/reports/trace-format.js';
import type { TraceEvent } from '../../harness/engine/trace.js';
import { fullTrace, longTrace } from './fixtures.js';

t.test('formatTraceTime: µs to signed ms with three decimals', async (t) => {
  t.equal(formatTraceTime(0), '+0.000ms');
  t.equal(formatTraceTime(12345), '+12.345ms');
  t.equal(formatTraceTime(1_500_000), '+1500.000ms');
  t.equal(formatTraceTime(-7), '-0.007ms');
});

t.test('formatTraceEvent renders every event type on one line', async (t) => {
  const lines = fullTrace.map((e) => formatTraceEvent(e));
  t.same(lines, [
    '+0.000ms note "opening a connection"',
    '+1.200ms conn0 open remote 127.0.0.1:4433 alpn proton/1',
    '+1.300ms conn0 stream 0 open by client',
    '+1.350ms conn0 c2s stream 0 data 0100000a',
    '+1.400ms conn0 c2s stream 0 fin',
    '+12.345ms conn0 s2c stream 0 data 00000001',
    '+13.000ms conn0 s2c stream 0 reset code 0x2',
    '+13.100ms conn0 c2s stream 0 stop_sending code 0x0',
    '+20.000ms conn0 close by server app code 0x1d reason "bad item"',
    '+25.000ms conn1 fail "connect ECONNREFUSED 127.0.0.1:4433"',
  ]);
  t.equal(
    formatTraceEvent({ type: 'conn_close', t: 5, conn: 2, by: 'transport', isApp: false, code: 0, reason: '' }),
    '+0.005ms conn2 close by transport transport code 0x0',
  );
  t.equal(formatTraceEvent({ type: 'conn_open', t: 0, conn: 0, remote: 'h:1' }), '+0.000ms conn0 open remote h:1');
  t.equal(
    formatTraceEvent({ type: 'data', t: 0, conn: 0, stream: 1, dir: 'c2s', hex: '' }),
    '+0.000ms conn0 c2s stream 1 data (empty)',
  );
});

t.test('formatTraceEvent keeps free text on one line and cuts long payloads', async (t) => {
  const note = formatTraceEvent({ type: 'note', t: 0, text: 'line one\nline two\r\n"quoted"' });
  t.notMatch(note, /[\r\n]/);
  t.equal(note, '+0.000ms note "line one\\nline two\\r\\n\\"quoted\\""');
  const hex = 'ab'.repeat(100);
  const data = formatTraceEvent({ type: 'data', t: 0, conn: 0, stream: 0, dir: 's2c', hex });
  t.equal(data, `+0.000ms conn0 s2c stream 0 data ${'ab'.repeat(32)}… (+68 B)`);
  const short = formatTraceEvent({ type: 'data', t: 0, conn: 0, stream: 0, dir: 's2c', hex }, { maxDataBytes: 4 });
  t.equal(short, '+0.000ms conn0 s2c stream 0 data abababab… (+96 B)');
  const long = formatTraceEvent({ type: 'note', t: 0, text: 'x'.repeat(500) }, { maxTextChars: 10 });
  t.equal(long, `+0.000ms note "${'x'.repeat(10)}…"`);
});

t.test('traceExcerpt: window around the centre, marked', async (t) => {
  const trace = longTrace(40);
  const lines = traceExcerpt(trace, 20, 6);
  t.equal(lines.length, 13 + 2, '13 events plus earlier/later summaries');
  t.equal(lines[0], '(14 earlier events)');
  t.equal(lines[14], '(13 later events)');
  t.equal(lines[7], '+20.000ms conn0 c2s stream 4 data 14  <-- here');
  t.equal(lines.filter((l) => l.endsWith('<-- here')).length, 1);
  t.equal(lines[1], '+14.000ms conn0 c2s stream 4 data 0e');
  t.equal(lines[13], '+26.000ms conn0 c2s stream 4 data 1a');
});

t.test('traceExcerpt: the window stays full at the ends of the trace', async (t) => {
  const trace = longTrace(40);
  const start = traceExcerpt(trace, 1, 6, { mark: ' <!>' });
  t.equal(start.length, 14, '13 events + later summary');
  t.equal(start[0], '+0.000ms conn0 c2s stream 4 data 00');
  t.equal(start[1], '+1.000ms conn0 s2c stream 4 data 01 <!>');
  t.equal(start[13], '(27 later events)');
  const end = traceExcerpt(trace, 39, 2);
  t.same(end, [
    '(35 earlier events)',
    '+35.000ms conn0 s2c stream 4 data 23',
    '+36.000ms conn0 c2s stream 4 data 24',
    '+37.000ms conn0 s2c stream 4 data 25',
    '+38.000ms conn0 c2s stream 4 data 26',
    '+39.000ms conn0 s2c stream 4 data 27  <-- here',
  ]);
});

t.test('traceExcerpt: no valid centre gives the last events, unmarked', async (t) => {
  const trace = longTrace(40);
  for (const centre of [-1, undefined, 40, 2.5]) {
    const lines = traceExcerpt(trace, centre, 1);
    t.same(
      lines,
      ['(37 earlier events)', '+37.000ms conn0 s2c stream 4 data 25', '+38.000ms conn0 c2s stream 4 data 26', '+39.000ms conn0 s2c stream 4 data 27'],
      `centre ${centre}`,
    );
  }
});

t.test('traceExcerpt: short and empty traces', async (t) => {
  t.same(traceExcerpt([], 0, 6), ['(empty trace)']);
  const lines = traceExcerpt(fullTrace, 5, 6);
  t.equal(lines.length, fullTrace.length, 'whole trace, no summaries');
  t.equal(traceExcerpt(fullTrace, 5, 0).length, 3, 'radius 0: the event and two summaries');
  const one: TraceEvent[] = [{ type: 'note', t: 1, text: 'x' }];
  t.same(traceExcerpt(one, 0, 6), ['+0.001ms note "x"  <-- here']);
});
