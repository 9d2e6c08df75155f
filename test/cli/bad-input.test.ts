/**
 * Bad input to every flag and file the CLI reads gives a clear message
 * naming what and where, exit 2 at once, and no stack trace; the process
 * guard writes partial reports on SIGTERM (exit 143).
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cli } from '../_support/cli.js';
import { validateJsonReport } from '../../harness/reports/json.js';
import { startMoonpoolServer } from '../../reference-server/moonpool/index.js';
import { fastProfile } from '../../suites/moonpool/profile.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = await mkdtemp(path.join(tmpdir(), 'wirecheck-badinput-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

const deep = path.join(dir, 'deep.json');
const notJson = path.join(dir, 'not.json');
const aFile = path.join(dir, 'a-file');
const noCert = path.join(dir, 'no-cert.pem');
const longLine = path.join(dir, 'long-line.jsonl');
const badHeader = path.join(dir, 'bad-header.jsonl');
const badEvent = path.join(dir, 'bad-event.jsonl');
await writeFile(deep, `${'{"a":'.repeat(200_000)}1${'}'.repeat(200_000)}`);
await writeFile(notJson, '{ nope');
await writeFile(aFile, 'x');
await writeFile(noCert, 'hello');
await writeFile(badHeader, '{"type":"header","format":"other"}\n');
await writeFile(badEvent, '{"type":"header","format":"wirecheck-trace","version":1,"protocol":"moonpool"}\n{"type":"data","t":0}\n');

const tcp = ['-t', 'tcp://127.0.0.1:9', '-p', 'moonpool'];

t.test('bad flags and files: exit 2, a message naming them, no stack trace', async (t) => {
  const cases: [string[], RegExp][] = [
    [['run', ...tcp, '--profile', deep], /--profile .*deep\.json: nested deeper than 32 levels/],
    [['run', ...tcp, '--profile', notJson], /not\.json: not valid JSON/],
    [['run', ...tcp, '--profile', dir], /--profile .*: cannot read \(EISDIR\)/],
    [['run', ...tcp, '--out', aFile], /--out .*a-file: cannot write reports there \(it is not a folder: ENOTDIR\)/],
    [['run', ...tcp, '--out', path.join(aFile, 'sub')], /--out .*: cannot write reports there \(.*ENOTDIR/],
    [['run', ...tcp, '--out', '/proc/wirecheck/reports'], /--out \/proc\/wirecheck\/reports: cannot write reports there/],
    [['run', ...tcp, '--save-failures', aFile], /--save-failures .*a-file: cannot write reports there/],
    [['run', ...tcp, '--max-trace-bytes', 'lots'], /--max-trace-bytes must be an integer/],
    [['run', ...tcp, '--max-run-trace-bytes', '-1'], /--max-run-trace-bytes must be an integer/],
    [['run', ...tcp, '--ca', path.join(dir, 'missing.pem')], /--ca .*missing\.pem: cannot read \(ENOENT\)/],
    [['run', ...tcp, '--ca', noCert], /no PEM certificate/],
    [['run', ...tcp, '--cases', 'nothing/matches*', '--out', path.join(dir, 'r0')], /no moonpool case matches|probe/],
    [['fuzz', ...tcp, '--out', aFile], /--out .*a-file: cannot write reports there/],
    [['fuzz', ...tcp, '--runs', '0'], /--runs must be an integer ≥ 1/],
    [['fuzz', ...tcp, '--duration', 'forever'], /duration must be a number/],
    [['fuzz', ...tcp, '--shard', '3/2'], /shard must be i\/n/],
    [['fuzz', ...tcp, '--replay', 'x'], /replay must be SEED:PATH/],
    [['fuzz', ...tcp, '--seed', '1.5'], /seed must be an integer/],
    [['fuzz', ...tcp, '--profile', deep], /nested deeper than 32 levels/],
    [['fuzz', 'merge', path.join(dir, 'missing.fuzz.json'), '--out', path.join(dir, 'm')], /missing\.fuzz\.json/],
    [['client', 'moonpool', '-t', 'tcp://127.0.0.1:9', '--profile', deep], /nested deeper than 32 levels/],
    [['client', 'moonpool', '-t', 'tcp://127.0.0.1:9', '--connect-timeout', '0'], /--connect-timeout must be an integer ≥ 1/],
    [['validate', '/dev/zero'], /\/dev\/zero:1: line longer than 67108864 bytes/],
    [['validate', path.join(dir, 'missing.jsonl')], /missing\.jsonl:0: cannot read \(ENOENT\)/],
    [['validate', dir], /cannot read \(EISDIR\)/],
    [['validate', notJson], /not\.json:1: not valid JSON/],
    [['validate', badHeader], /bad-header\.jsonl:1: header/],
    [['validate', badEvent], /bad-event\.jsonl:2: /],
    [['validate', '--profile', deep, '-p', 'moonpool', badEvent], /nested deeper than 32 levels/],
    [['validate', '--window', 'x', badEvent], /--window must be an integer/],
    [['replay', ...tcp, path.join(dir, 'missing-fixture.json')], /missing-fixture\.json/],
  ];
  for (const [argv, msg] of cases) {
    const r = await cli(...argv);
    t.equal(r.code, 2, `${argv.join(' ').slice(0, 120)} → exit 2`);
    t.match(r.err, msg, `${argv.join(' ').slice(0, 120)} → message`);
    t.notMatch(r.err, /\n\s+at /, 'no stack trace');
  }
});

t.test('a line above the limit fails with its line number (streamed, never held whole)', async (t) => {
  const { splitLines, TraceFileError } = await import('../../harness/traces/file.js');
  async function* chunks() {
    yield Buffer.from('{"a":1}\r\nsecond\n');
    for (let i = 0; i < 10; i++) yield Buffer.alloc(100, 0x41);
  }
  const seen: string[] = [];
  try {
    for await (const l of splitLines(chunks(), 'mem.jsonl', 500)) seen.push(l);
    t.fail('no error');
  } catch (err) {
    t.ok(err instanceof TraceFileError);
    t.match((err as Error).message, /^mem\.jsonl:3: line longer than 500 bytes/);
  }
  t.same(seen, ['{"a":1}', 'second'], 'lines before it were read, CR dropped');
  await writeFile(longLine, `{"type":"header","format":"wirecheck-trace","version":1,"protocol":"moonpool"}\n${' '.repeat(1000)}\n`);
  const lines: string[] = [];
  const { createReadStream } = await import('node:fs');
  for await (const l of splitLines(createReadStream(longLine, { highWaterMark: 7 }), longLine)) lines.push(l);
  t.equal(lines.length, 2, 'lines split across small chunks are joined');
  t.equal(lines[1]!.length, 1000);
});

t.test('SIGTERM during a run: partial reports are written, exit 143', async (t) => {
  const server = await startMoonpoolServer({ profile: fastProfile });
  t.teardown(() => server.stop());
  const out = path.join(dir, 'sigterm');
  const child = spawn(process.execPath, ['bin/wirecheck.js', 'run', '-t', `tcp://127.0.0.1:${server.port}`, '-p', 'moonpool', '--fast', '--no-fixtures', '--out', out, '--reporter', 'all', '--no-color'], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  let sent = false;
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    err += s;
    // After the second case finished: terminate.
    if (!sent && (err.match(/^\[\s*\d+\/\d+\]/gm) ?? []).length >= 2) {
      sent = true;
      child.kill('SIGTERM');
    }
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 180_000);
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
  clearTimeout(killer);
  t.ok(sent, 'SIGTERM was sent after two cases');
  t.equal(signal, null, 'not killed');
  t.equal(code, 143, 'exit 143');
  t.match(err, /terminated \(SIGTERM\)/);
  t.match(err, /partial reports \(\d+ cases/);
  const report = JSON.parse(await readFile(path.join(out, 'moonpool.json'), 'utf8')) as { cases: { verdict: string; traceFile?: string }[] };
  const v = validateJsonReport(report);
  t.ok(v.ok, `partial JSON report valid${v.ok ? '' : `: ${v.errors.join('; ')}`}`);
  // The flusher stops new cases: the run may still finish its bookkeeping (the rest skipped) before the process exits; either report is whole.
  const ran = report.cases.filter((c) => c.verdict !== 'skipped');
  t.ok(ran.length >= 1, `${ran.length} cases ran and are reported`);
  t.ok(report.cases.filter((c) => c.verdict === 'skipped').every((c) => !c.traceFile), 'cases not run are skipped, without traces');
  t.ok(ran.every((c) => c.traceFile !== undefined), 'each case that ran links its trace file');
  t.match(await readFile(path.join(out, 'moonpool.tap'), 'utf8'), /^TAP version 14\n/);
});
