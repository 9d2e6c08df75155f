/**
 * `run`, `fuzz` and `client` (Moonpool over TCP) against each mode of the
 * hostile TCP server (test/hostile/tcp-server.ts), each in a child process
 * as a user runs it: the exit code is one the README promises (never a
 * crash), the reports are present and valid (JSON against its schema, TAP
 * and JUnit well-formed), and the child's peak RSS stays under 512 MB.
 * Every child has a deadline (killed past it, which fails the test); no
 * wall-time bound is asserted.
 */
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLValidator } from 'fast-xml-parser';
import { validateJsonReport } from '../../harness/reports/json.js';
import { HOSTILE_TCP_MODES, startHostileTcpServer } from '../hostile/tcp-server.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const RSS_BOUND_KB = 512 * 1024;
const CHILD_DEADLINE_MS = 180_000;

const dir = await mkdtemp(path.join(tmpdir(), 'wirecheck-hostile-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

/** Runs the CLI in a child; resolves with exit code, stderr and peak RSS (KiB). */
function wirecheck(args: string[], tag: string): Promise<{ code: number | null; signal: string | null; err: string; rssKb: number }> {
  const rssFile = path.join(dir, `${tag}.rss`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import=./test/hostile/rss-hook.mjs', 'bin/wirecheck.js', ...args], {
      cwd: root,
      env: { ...process.env, WIRECHECK_RSS_FILE: rssFile },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => void (err = (err + s).slice(-20_000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_DEADLINE_MS);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      readFile(rssFile, 'utf8')
        .then((kb) => resolve({ code, signal, err, rssKb: Number(kb) }))
        .catch(() => resolve({ code, signal, err, rssKb: NaN }));
    });
  });
}

/** Checks the reports a run or fuzz campaign left in `out`. */
async function checkReports(t: Test, out: string): Promise<void> {
  const json = JSON.parse(await readFile(path.join(out, 'moonpool.json'), 'utf8')) as unknown;
  const v = validateJsonReport(json);
  t.ok(v.ok, `JSON report valid${v.ok ? '' : `: ${v.errors.join('; ')}`}`);
  const tap = await readFile(path.join(out, 'moonpool.tap'), 'utf8');
  t.match(tap, /^TAP version 14\n/, 'TAP report starts with its version line');
  t.notMatch(tap, /[\u0000-\u0008\u000b-\u001f]/, 'TAP report has no raw control characters');
  const xml = await readFile(path.join(out, 'moonpool.xml'), 'utf8');
  t.equal(XMLValidator.validate(xml), true, 'JUnit report is well-formed XML');
}

for (const mode of HOSTILE_TCP_MODES) {
  t.test(`hostile TCP server: ${mode}`, async (t) => {
    const server = await startHostileTcpServer(mode);
    t.teardown(() => server.close());
    const common = ['--fast', '--connect-timeout', '2000'];

    const runOut = path.join(dir, `run-${mode}`);
    const run = await wirecheck(['run', '-t', server.url, '-p', 'moonpool', ...common, '--no-fixtures', '--cases', 'moonpool/correlation/single,moonpool/envelope/coalesced,moonpool/ping/interleaved', '--reporter', 'all', '--out', runOut, '--quiet', '--no-color'], `run-${mode}`);
    t.equal(run.signal, null, `run: ended by itself, not killed at the ${CHILD_DEADLINE_MS} ms deadline`);
    t.ok([1, 3].includes(run.code ?? -1), `run: exit code ${run.code} is 1 (failures) or 3 (unreachable/silent)`);
    t.notMatch(run.err, /internal error|\n\s+at /, 'run: no internal error, no stack trace');
    t.ok(run.rssKb < RSS_BOUND_KB, `run: peak RSS ${Math.round(run.rssKb / 1024)} MB < 512 MB`);
    await checkReports(t, runOut);

    const fuzzOut = path.join(dir, `fuzz-${mode}`);
    const fuzz = await wirecheck(['fuzz', '-t', server.url, '-p', 'moonpool', ...common, '--runs', '3', '--seed', '7', '--reporter', 'all', '--out', fuzzOut, '--quiet', '--no-color'], `fuzz-${mode}`);
    t.equal(fuzz.signal, null, 'fuzz: ended by itself');
    t.ok([1, 3].includes(fuzz.code ?? -1), `fuzz: exit code ${fuzz.code} is 1 (findings) or 3 (unreachable)`);
    t.notMatch(fuzz.err, /internal error|\n\s+at /, 'fuzz: no internal error, no stack trace');
    t.ok(fuzz.rssKb < RSS_BOUND_KB, `fuzz: peak RSS ${Math.round(fuzz.rssKb / 1024)} MB < 512 MB`);
    await checkReports(t, fuzzOut);

    const client = await wirecheck(['client', 'moonpool', '-t', server.url, ...common, '--exec', 'ping; ping 3'], `client-${mode}`);
    t.equal(client.signal, null, 'client: ended by itself');
    t.ok([0, 1, 3].includes(client.code ?? -1), `client: exit code ${client.code} in 0, 1, 3`);
    t.notMatch(client.err, /internal error|\n\s+at /, 'client: no internal error, no stack trace');
    t.ok(client.rssKb < RSS_BOUND_KB, `client: peak RSS ${Math.round(client.rssKb / 1024)} MB < 512 MB`);
  });
}

t.test('the flood is recorded within the trace budget: the case says it was truncated', async (t) => {
  const server = await startHostileTcpServer('flood');
  t.teardown(() => server.close());
  const out = path.join(dir, 'budget');
  const r = await wirecheck(['run', '-t', server.url, '-p', 'moonpool', '--fast', '--no-fixtures', '--cases', 'moonpool/correlation/sequential', '--max-trace-bytes', '2000', '--reporter', 'json', '--out', out, '--quiet'], 'budget');
  t.equal(r.code, 1, 'the flood is a conformance failure');
  const report = JSON.parse(await readFile(path.join(out, 'moonpool.json'), 'utf8')) as { cases: { id: string; traceTruncated?: { budgetBytes: number; bytes: number; lastHex: string }; trace: { hex?: string; elided?: number }[]; traceFile?: string }[] };
  const c = report.cases.find((x) => x.id === 'moonpool/correlation/sequential');
  t.ok(c, 'the case is reported');
  const cut = c?.traceTruncated;
  t.ok(cut, 'the case says its trace was truncated');
  t.equal(cut?.budgetBytes, 2_000, 'the budget in force');
  t.ok((cut?.bytes ?? 0) > 0, 'bytes left out are counted');
  t.match(cut?.lastHex, /^(?:00)+$/, 'the last bytes left out are kept (the flood is zeros)');
  t.ok(c!.trace.some((e) => (e.elided ?? 0) > 0), 'data events carry elided counts');
  const kept = c!.trace.reduce((n, e) => n + (e.hex?.length ?? 0) / 2, 0);
  t.ok(kept <= 2_000, `bytes kept (${kept}) within the budget`);
  t.ok((await stat(path.join(out, c!.traceFile!))).size > 0, 'the trace file was written');
});
