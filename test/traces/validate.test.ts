/** Offline validation: the trace corpus in fixtures/proton/traces, malformed files, and traces written by runs. */
import t from 'tap';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../harness/cli.js';
import { UsageError } from '../../harness/engine/errors.js';
import { readTrace, TraceFileError, writeTrace, type TraceHeader } from '../../harness/traces/file.js';
import { validateTraceFile } from '../../harness/traces/validate.js';
import { writeReports } from '../../harness/cli/outputs.js';
import { runAgainstReference } from '../suite/_run.js';

const corpus = fileURLToPath(new URL('../../fixtures/proton/traces/', import.meta.url));
const dir = await mkdtemp(path.join(tmpdir(), 'wirecheck-traces-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const quiet = { out: () => undefined, err: () => undefined };

t.test('every corpus trace gives its expected verdict, rule and first-violation index', async (t) => {
  const files = (await readdir(corpus)).filter((f) => f.endsWith('.jsonl')).sort();
  t.ok(files.length >= 20, `${files.length} traces`);
  t.ok(files.filter((f) => f.startsWith('bad-')).length >= 12, 'at least 12 negative traces');
  for (const f of files) {
    const r = await validateTraceFile(path.join(corpus, f), { expect: true });
    const want = r.header.expect!;
    t.equal(r.verdict, want.verdict, `${f}: verdict`);
    if (want.rule) t.equal(r.violation?.rule, want.rule, `${f}: rule`);
    if (want.index !== undefined) t.equal(r.violation?.index, want.index, `${f}: first violation at #${want.index}`);
    t.ok(r.expectation?.ok, `${f}: --expect agrees`);
    if (r.violation && r.violation.index >= 0) t.equal(r.window.at(-1)?.index, r.violation.index, `${f}: the window ends on the offending event`);
  }
  t.equal(await main(['validate', '--expect', ...files.map((f) => path.join(corpus, f))], quiet), 0, 'CLI --expect: exit 0');
  t.equal(await main(['validate', path.join(corpus, 'bad-wrong-ack.jsonl')], quiet), 1, 'CLI: a violation exits 1');
  t.equal(await main(['validate', path.join(corpus, 'ok-commit.jsonl'), path.join(corpus, 'nonstrict-late-commit.jsonl')], quiet), 0, 'CLI: pass and non-strict exit 0');
});

t.test('the text report shows rule, index, time, state, expected and the preceding events', async (t) => {
  let out = '';
  await main(['validate', '--window', '3', path.join(corpus, 'bad-long-session-wrong-ack.jsonl')], { out: (s) => void (out += s), err: () => undefined });
  t.match(out, /^FAIL\s+\S+bad-long-session-wrong-ack\.jsonl/);
  t.match(out, /PROTON-4\.3 \(MUST\) at event #561 at \+29\.950ms/);
  t.match(out, /expected: conn 2: ack 0000004d on stream 0/);
  t.match(out, /seen:\s+ack 0000004e/);
  t.match(out, /state:\s+conn 2 open .*acksOwed=\[77\]/);
  t.equal(out.split('\n').filter((l) => /^\s+[ >] #\d+/.test(l)).length, 4, 'window of 3 plus the offending event');
});

t.test('malformed trace files are named with file, line and JSON pointer', async (t) => {
  const header = JSON.stringify({ type: 'header', format: 'wirecheck-trace', version: 1, protocol: 'proton' });
  const cases: [string, string, RegExp][] = [
    ['empty', '', /empty file: no header line/],
    ['bad-json', `${header}\n{"type":"note",`, /:2: not valid JSON/],
    ['bad-header', JSON.stringify({ type: 'header', format: 'pcap', version: 1, protocol: 'proton' }), /:1: header \/format: must be "wirecheck-trace"; got "pcap"/],
    ['bad-hex', `${header}\n{"type":"data","t":1,"conn":0,"stream":0,"dir":"c2s","hex":"0g"}`, /:2: \/hex: must match pattern/],
    ['missing-field', `${header}\n{"type":"conn_open","t":1}`, /:2: \/conn: required property is missing/],
    ['bad-type', `${header}\n{"type":"teleport","t":1}`, /:2: \/type: must be one of "conn_open", .*; got "teleport"/],
    ['extra-field', `${header}\n{"type":"note","t":1,"text":"x","colour":"red"}`, /:2: \/colour: property is not allowed here/],
    ['time-back', `${header}\n{"type":"note","t":5,"text":"a"}\n{"type":"note","t":4,"text":"b"}`, /:3: \/t: time goes back/],
  ];
  for (const [name, text, msg] of cases) {
    const file = path.join(dir, `${name}.jsonl`);
    await writeFile(file, text);
    await t.rejects(validateTraceFile(file), TraceFileError, `${name} is a TraceFileError`);
    await t.rejects(validateTraceFile(file), { message: msg }, `${name}: message`);
  }
  await t.rejects(validateTraceFile(path.join(dir, 'nope.jsonl')), { message: /cannot read \(ENOENT\)/ });
  const other = path.join(dir, 'other.jsonl');
  await writeFile(other, JSON.stringify({ type: 'header', format: 'wirecheck-trace', version: 1, protocol: 'nosuch' }) + '\n');
  await t.rejects(validateTraceFile(other), UsageError, 'unknown protocol');
  await t.rejects(validateTraceFile(path.join(corpus, 'ok-reset.jsonl'), { protocol: 'moonpool' }), { message: /is of protocol "proton", not "moonpool"/ });
  let err = '';
  const code = await main(['validate', path.join(dir, 'bad-hex.jsonl'), path.join(corpus, 'ok-reset.jsonl')], { out: () => undefined, err: (s) => void (err += s) });
  t.equal(code, 2, 'a malformed file exits 2');
  t.match(err, /bad-hex\.jsonl:2: \/hex/);
});

t.test('traces written by a run validate with the verdicts of the run', async (t) => {
  const run = await runAgainstReference({ cases: 'proton/event/*,proton/commit/answer,proton/action/continuity-and-rate', fault: 'wrong-ack-id' });
  const out = path.join(dir, 'run');
  const { run: reported } = await writeReports(run, { reporter: 'json', out, color: false });
  for (const c of reported.cases) {
    t.ok(c.traceFile, `${c.id}: trace linked`);
    const r = await validateTraceFile(path.join(out, c.traceFile!));
    const live = c.verdict === 'fail' || c.verdict === 'timeout';
    const offline = r.verdict === 'fail' || r.verdict === 'timeout';
    t.equal(offline, live, `${c.id}: offline ${r.verdict}, live ${c.verdict}`);
    if (live) t.equal(r.violation?.rule, c.rule, `${c.id}: same rule`);
  }
  let frames = 0;
  await readTrace(path.join(out, reported.cases[0]!.traceFile!), () => undefined, (ev) => void (ev.type === 'data' && ev.frames && frames++));
  t.ok(frames > 0, 'data events carry decoded frames');
});

t.test('writeTrace and readTrace round trip', async (t) => {
  const file = path.join(dir, 'rt', 'x.jsonl');
  const header: TraceHeader = { type: 'header', format: 'wirecheck-trace', version: 1, protocol: 'proton' };
  const events = [
    { type: 'conn_open' as const, t: 0, conn: 0, remote: 'h:1' },
    { type: 'note' as const, t: 3, text: 'hi' },
  ];
  await writeTrace(file, header, events);
  const got: unknown[] = [];
  let h: TraceHeader | undefined;
  const n = await readTrace(file, (x) => void (h = x), (ev) => void got.push(ev));
  t.equal(n, 2);
  t.same(h, header);
  t.same(got, events);
});
