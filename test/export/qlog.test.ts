/**
 * qlog export: the mapping of every trace event to qlog records, the
 * verdict marker, JSON-SEQ framing, validation against the record schema
 * written from draft-ietf-quic-qlog-main-schema-14 / quic-events-13 (and
 * that the validation rejects what the drafts do not allow), `wirecheck
 * export`, and `wirecheck run --qlog` against a faulty QUIC server.
 */
import t from 'tap';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { TraceEvent } from '../../harness/engine/trace.js';
import type { Violation } from '../../harness/engine/types.js';
import {
  QUIC_EVENT_SCHEMA,
  WIRECHECK_EVENT_SCHEMA,
  endpointInfo,
  parseJsonSeq,
  qlogRecordSchema,
  toJsonSeq,
  traceToQlog,
  transportError,
  validateQlogSeq,
  type QlogRecord,
} from '../../harness/export/index.js';
import { main } from '../../harness/cli.js';
import { startProtonServer } from '../../reference-server/proton/index.js';
import { fastProfile } from '../../suites/proton/profile.js';

type Rec = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- poking at parsed JSON

const trace: TraceEvent[] = [
  /* 0 */ { type: 'note', t: 0, text: 'opening' },
  /* 1 */ { type: 'conn_open', t: 1000, conn: 0, remote: '127.0.0.1:4433', alpn: 'proton' },
  /* 2 */ { type: 'stream_open', t: 1100, conn: 0, stream: 0, by: 'client' },
  /* 3 */ { type: 'data', t: 1200, conn: 0, stream: 0, dir: 'c2s', hex: '0100000001', frames: [{ discriminator: 'event' }, { event: 1 }] },
  /* 4 */ { type: 'data', t: 1300, conn: 0, stream: 0, dir: 'c2s', hex: '00000002' },
  /* 5 */ { type: 'data', t: 2500, conn: 0, stream: 0, dir: 's2c', hex: '00000002', frames: [{ ack: 2 }] },
  /* 6 */ { type: 'stream_fin', t: 2600, conn: 0, stream: 0, dir: 'c2s' },
  /* 7 */ { type: 'stream_reset', t: 2700, conn: 0, stream: 0, dir: 's2c', kind: 'reset', code: 5 },
  /* 8 */ { type: 'stream_reset', t: 2750, conn: 0, stream: 0, dir: 's2c', kind: 'stop_sending', code: 6 },
  /* 9 */ { type: 'stream_open', t: 2800, conn: 0, stream: 3, by: 'server', dir: 'uni' },
  /* 10 */ { type: 'dgram', t: 2900, conn: 0, dir: 's2c', hex: 'abcd' },
  /* 11 */ { type: 'impair', t: 3000, conn: 0, kind: 'stall', detail: 'proxy' },
  /* 12 */ { type: 'conn_open', t: 3100, conn: 1, remote: '[::1]:4433', role: 'second' },
  /* 13 */ { type: 'conn_close', t: 3200, conn: 1, by: 'server', isApp: false, code: 0xa, reason: 'bad' },
  /* 14 */ { type: 'conn_close', t: 3300, conn: 0, by: 'client', isApp: true, code: 1, reason: '' },
  /* 15 */ { type: 'conn_fail', t: 3400, conn: 2, message: 'refused' },
];
const violation: Violation = { rule: 'PROTON-4.3', severity: 'must', index: 5, t: 2500, expected: 'ack 00000001', seen: 'ack 00000002', state: 'open', missing: false };

const events = (recs: readonly QlogRecord[]): Rec[] => recs.slice(1) as Rec[];

t.test('every trace event maps to qlog records that validate', async (t) => {
  const recs = traceToQlog({ protocol: 'proton', case: 'proton/x', description: 'd', target: 'quic://127.0.0.1:4433', origin: '2026-12-03T02:00:00.000Z' }, trace, { verdict: 'fail', violation });
  const text = toJsonSeq(recs);
  t.same(validateQlogSeq(text), [], 'valid against the record schema');
  t.ok(text.startsWith('\x1e{"file_schema":"urn:ietf:params:qlog:file:sequential","serialization_format":"application/qlog+json-seq"'), 'schema and format in the first 256 bytes');
  t.equal(text.split('\x1e').length - 1, recs.length, 'one record separator per record');
  const h = recs[0] as Rec;
  t.same(h['trace'].event_schemas, [QUIC_EVENT_SCHEMA, WIRECHECK_EVENT_SCHEMA]);
  t.same(h['trace'].vantage_point, { name: 'wirecheck', type: 'client' });
  t.same(h['trace'].common_fields.reference_time, { clock_type: 'monotonic', epoch: 'unknown', wall_clock_time: '2026-12-03T02:00:00.000Z' });
  t.notOk('group_id' in h['trace'].common_fields, 'several connections: group_id per event');
  // What qvis's JSON-SEQ loader needs (quiclog/qvis textsequencejsontoqlog.ts, QlogSchema02 versionAliases).
  t.match(h, { qlog_version: '0.3', qlog_format: 'JSON-SEQ', trace: {} }, 'the header qvis loads');

  const ev = events(recs);
  const names = ev.map((e) => e['name']);
  t.same(names, [
    'wirecheck:note',
    'quic:connection_started', 'quic:alpn_information',
    'quic:stream_state_updated', 'quic:stream_state_updated',
    'quic:stream_data_moved', 'wirecheck:frame_created', 'wirecheck:frame_created',
    'quic:stream_data_moved',
    'quic:stream_data_moved', 'wirecheck:frame_parsed', 'wirecheck:verdict',
    'quic:stream_data_moved', 'quic:stream_state_updated',
    'quic:stream_state_updated', 'quic:stream_data_moved', 'wirecheck:stream_aborted',
    'wirecheck:stream_aborted',
    'quic:stream_state_updated',
    'quic:datagram_data_moved',
    'wirecheck:impairment',
    'quic:connection_started',
    'quic:connection_closed',
    'quic:connection_closed',
    'wirecheck:connection_failed',
  ]);
  const byName = (n: string) => ev.filter((e) => e['name'] === n);
  t.same(byName('quic:connection_started').map((e) => e['data'].remote), [{ ip_v4: '127.0.0.1', port_v4: 4433 }, { ip_v6: '::1', port_v6: 4433 }]);
  t.same(byName('quic:stream_data_moved').slice(0, 3).map((e) => [e['data'].offset, e['data'].from, e['data'].raw.length]), [[0, 'application', 5], [5, 'application', 4], [0, 'transport', 4]], 'offsets per stream and direction');
  t.same(ev[12]!['data'], { stream_id: 0, offset: 9, from: 'application', to: 'transport', additional_info: 'fin_set', raw: { length: 0 } }, 'FIN after 9 bytes');
  t.same(ev[14]!['data'], { stream_id: 0, new: 'reset_received', stream_side: 'receiving', trigger: 'remote' }, 'the server reset its sending side');
  t.same(ev[17]!['data'], { stream_id: 0, frame_type: 'stop_sending', error_code: 6, initiator: 'local' }, 'a STOP_SENDING on s2c data is the client\u2019s');
  t.same(ev[18]!['data'], { stream_id: 3, stream_type: 'unidirectional', new: 'open', stream_side: 'receiving', trigger: 'remote' });
  t.same(byName('quic:connection_closed').map((e) => e['data']), [
    { initiator: 'remote', connection_error: 'protocol_violation', reason: 'bad', trigger: 'error' },
    { initiator: 'local', application_error: 'unknown', error_code: 1, trigger: 'application' },
  ]);
  t.same(byName('wirecheck:verdict')[0]!['data'], { case: 'proton/x', verdict: 'fail', rule: 'PROTON-4.3', severity: 'must', expected: 'ack 00000001', seen: 'ack 00000002', state: 'open', trace_index: 5, missing: false });
  t.same(byName('wirecheck:frame_parsed')[0]!['data'], { stream_id: 0, protocol: 'proton', frame: { ack: 2 } });
  t.same([...new Set(ev.map((e) => e['group_id']))], ['conn-0', 'conn-1', 'conn-2'], 'a group per connection');
  t.equal(ev[0]!['time'], 0);
  t.equal(ev[1]!['time'], 1, 'milliseconds');
});

t.test('one connection: group_id in common_fields; a missed deadline placed at its time', async (t) => {
  const one = trace.slice(1, 7);
  const missing: Violation = { ...violation, index: -1, t: 1250, missing: true };
  const recs = traceToQlog({ protocol: 'proton' }, one, { verdict: 'timeout', violation: missing });
  t.same(validateQlogSeq(toJsonSeq(recs)), []);
  t.equal((recs[0] as Rec)['trace'].common_fields.group_id, 'conn-0');
  t.notOk(events(recs).some((e) => 'group_id' in e));
  const i = events(recs).findIndex((e) => e['name'] === 'wirecheck:verdict');
  t.same([events(recs)[i - 1]!['time'], events(recs)[i]!['time'], events(recs)[i + 1]!['time']], [1.2, 1.25, 1.3], 'between the events around the deadline');
  const pass = traceToQlog({ protocol: 'proton' }, one, { verdict: 'pass' });
  t.same(events(pass).at(-1), { time: 2.6, name: 'wirecheck:verdict', data: { verdict: 'pass' } }, 'a pass is marked at the end');
});

t.test('helpers: transport errors, endpoints, JSON-SEQ parsing', async (t) => {
  t.same(transportError(0), { connection_error: 'no_error' });
  t.same(transportError(0x10), { connection_error: 'no_viable_path' });
  t.same(transportError(0x178), { connection_error: 'crypto_error_0x178' });
  t.same(transportError(0x11), { connection_error: 'unknown', error_code: 0x11 });
  t.same(endpointInfo('localhost:4433'), {}, 'a host name is no IP address');
  t.same(parseJsonSeq('\x1e{"a":1}\n\x1e[2]\n'), [{ a: 1 }, [2]]);
  t.throws(() => parseJsonSeq('{"a":1}\n'), /record 0: text before the first record separator/);
  t.throws(() => parseJsonSeq('\x1e{"a":\n'), /record 1: not valid JSON/);
});

t.test('validation rejects what the drafts do not allow', async (t) => {
  const good = traceToQlog({ protocol: 'proton' }, trace.slice(1, 7), { verdict: 'fail', violation });
  const bad = (mutate: (r: Rec[]) => void): string[] => {
    const copy = JSON.parse(JSON.stringify(good)) as Rec[];
    mutate(copy);
    return validateQlogSeq(toJsonSeq(copy));
  };
  t.match(bad((r) => delete r[0]!['file_schema']).join('\n'), /record 1 .*file_schema/);
  t.match(bad((r) => (r[0]!['trace'].common_fields.reference_time.epoch = '1970-01-01T00:00:00.000Z')).join('\n'), /record 1 \/trace\/common_fields\/reference_time\/epoch/, 'monotonic clock needs epoch unknown');
  t.match(bad((r) => (r[1]!['name'] = 'connection_started')).join('\n'), /record 2 \/name/, 'names are namespace:type');
  t.match(bad((r) => delete r[2]!['data']).join('\n'), /record 3 .*data/);
  t.match(bad((r) => (r[5]!['data'].raw.data = 'XYZ')).join('\n'), /record 6 \/data\/raw\/data/, 'raw data is a lower-case hexstring');
  t.match(bad((r) => (r[5]!['data'].bogus = 1)).join('\n'), /record 6 \/data\/bogus/, 'stream_data_moved has no field "bogus"');
  t.match(bad((r) => (r[3]!['data'].stream_side = 'both')).join('\n'), /record 4 \/data\/stream_side/);
  t.match(bad((r) => (r[4]!['name'] = 'wirecheck:unknown')).join('\n'), /record 5 \/name/, 'only the wirecheck events defined');
  t.match(bad((r) => (r[3]!['time'] = 99)).join('\n'), /record 5 \/time: .* is before the previous event/);
  t.match(bad((r) => r.push({ ...r[0]! })).join('\n'), /record \d+ .*(time|name|data)/, 'a second header is not an event');
  const closeOk = traceToQlog({ protocol: 'proton' }, [trace[1]!, { type: 'conn_close', t: 2000, conn: 0, by: 'server', isApp: false, code: 0xa, reason: '' }]);
  t.same(validateQlogSeq(toJsonSeq(closeOk)), []);
  const closeBad = JSON.parse(JSON.stringify(closeOk)) as Rec[];
  closeBad[3]!['data'].error_code = 10;
  t.match(validateQlogSeq(toJsonSeq(closeBad)).join('\n'), /record 4 \/data/, 'error_code only with an unknown error');
  t.match(validateQlogSeq('{"no":"separator"}\n')[0], /record 0/);
  t.match(validateQlogSeq(toJsonSeq(good).slice(0, -1))[0], /does not end with a line feed/);
});

t.test('the record schema compiles on its own in strict mode', async (t) => {
  const ajv = new Ajv2020({ strict: true, strictRequired: false });
  addFormatsModule.default(ajv, ['uri', 'date-time']);
  const validate = ajv.compile(qlogRecordSchema);
  const recs = traceToQlog({ protocol: 'proton' }, trace, { verdict: 'fail', violation });
  t.ok(recs.every((r) => validate(r)), 'every record is one of header / event');
  t.notOk(validate({ time: 1, name: 'quic:stream_data_moved', data: { stream_id: -1 } }));
});

t.test('wirecheck export --format qlog', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'wirecheck-qlog-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const io = { out: '', err: '' };
  const cli = (...argv: string[]) => {
    io.out = '';
    io.err = '';
    return main(argv, { out: (s) => void (io.out += s), err: (s) => void (io.err += s) });
  };
  t.equal(await cli('export', '--format', 'qlog', 'fixtures/proton/traces/bad-ack-order.jsonl', '--out', dir), 0, io.err);
  const file = path.join(dir, 'bad-ack-order.sqlog');
  t.equal(io.out.trim(), file);
  const text = await readFile(file, 'utf8');
  t.same(validateQlogSeq(text), []);
  const recs = parseJsonSeq(text) as Rec[];
  t.same(recs[0]!['trace'].vantage_point, { name: 'wirecheck (converted trace)', type: 'network', flow: 'client' });
  const verdict = recs.find((r) => r['name'] === 'wirecheck:verdict')!;
  t.match(verdict['data'], { verdict: 'fail', rule: 'PROTON-4.3', trace_index: 3 }, 'the model\u2019s verdict, as the header expects it');
  t.ok(recs.some((r) => r['name'] === 'wirecheck:frame_created' && r['data'].frame.event === 1), 'frames decoded by the codec');

  t.equal(await cli('export', 'fixtures/proton/traces', '--out', path.join(dir, 'all')), 0, io.err);
  const all = await readdir(path.join(dir, 'all'));
  t.ok(all.length > 5 && all.every((f) => f.endsWith('.sqlog')), `a folder: every trace (${all.length})`);
  for (const f of all) t.same(validateQlogSeq(await readFile(path.join(dir, 'all', f), 'utf8')), [], `${f} validates`);

  const moon = (await readdir('fixtures/moonpool/traces'))[0]!;
  t.equal(await cli('export', path.join('fixtures/moonpool/traces', moon), '--out', dir), 2);
  t.match(io.err, /qlog export is for QUIC traces; protocol moonpool runs over tcp/);
  t.equal(await cli('export', '--format', 'pcap', 'x'), 2);
  t.match(io.err, /Allowed choices are qlog/);
  t.equal(await cli('export', path.join(dir, 'missing.jsonl')), 2);
  t.match(io.err, /no such file or folder/);
});

t.test('wirecheck run --qlog DIR against a faulty server', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'wirecheck-runqlog-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const server = await startProtonServer({ profile: fastProfile, fault: 'wrong-ack-id' });
  let out = '';
  let err = '';
  let code: number;
  try {
    code = await main(
      ['run', '--target', `quic://127.0.0.1:${server.port}`, '--protocol', 'proton', '--insecure', '--fast', '--no-fixtures', '--cases', 'proton/event/single', '--reporter', 'json', '--out', path.join(dir, 'reports'), '--qlog', path.join(dir, 'qlog'), '-q'],
      { out: (s) => void (out += s), err: (s) => void (err += s) },
    );
  } finally {
    await server.stop();
  }
  t.equal(code, 1, err);
  t.match(out, /qlog: 2 files in .*qlog\/proton\//, 'the sanity probe\'s failing case and the case');
  const text = await readFile(path.join(dir, 'qlog', 'proton', 'proton_event_single.sqlog'), 'utf8');
  t.same(validateQlogSeq(text), []);
  const recs = parseJsonSeq(text) as Rec[];
  t.match(recs.find((r) => r['name'] === 'wirecheck:verdict')!['data'], { case: 'proton/event/single', verdict: 'fail', rule: 'PROTON-4.3' });
  t.ok(recs.some((r) => r['name'] === 'quic:connection_closed'), 'the close');
  t.ok(recs.some((r) => r['name'] === 'wirecheck:frame_parsed' && r['data'].frame.ack === 2), 'the wrong ack, decoded');

  const r = await main(['run', '--target', 'tcp://127.0.0.1:1', '--protocol', 'moonpool', '--qlog', dir], { out: () => undefined, err: (s) => void (err += s) });
  t.equal(r, 2, 'a TCP protocol: usage error before the run');
  t.match(err, /--qlog .*: qlog export is for QUIC traces; protocol moonpool runs over tcp/);
});
