/**
 * `run`, `fuzz` and `client` (Moonpool over TCP) against each mode of the
 * hostile TCP server (test/hostile/tcp-server.ts), each in a child process
 * as a user runs it: the exit code is one the README promises (never a
 * crash), the reports are present and valid (JSON against its schema, TAP
 * and JUnit well-formed), and the child's peak RSS stays under 512 MB.
 * Every child has a deadline (killed past it, which fails the test); no
 * wall-time bound is asserted.
 */
import t from 'tap';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkChildRun, checkReports, wirecheckChild, type ChildRun } from '../_support/cli-child.js';
import { HOSTILE_TCP_MODES, startHostileTcpServer } from '../hostile/tcp-server.js';

const CHILD_DEADLINE_MS = 180_000;

const dir = await mkdtemp(path.join(tmpdir(), 'wirecheck-hostile-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

const wirecheck = (args: string[], tag: string): Promise<ChildRun> => wirecheckChild(args, dir, tag, CHILD_DEADLINE_MS);

for (const mode of HOSTILE_TCP_MODES) {
  t.test(`hostile TCP server: ${mode}`, async (t) => {
    const server = await startHostileTcpServer(mode);
    t.teardown(() => server.close());
    const common = ['--fast', '--connect-timeout', '2000'];

    const runOut = path.join(dir, `run-${mode}`);
    const run = await wirecheck(['run', '-t', server.url, '-p', 'moonpool', ...common, '--no-fixtures', '--cases', 'moonpool/correlation/single,moonpool/envelope/coalesced,moonpool/ping/interleaved', '--reporter', 'all', '--out', runOut, '--quiet', '--no-color'], `run-${mode}`);
    checkChildRun(t, 'run', run, [1, 3]);
    await checkReports(t, runOut, 'moonpool');

    const fuzzOut = path.join(dir, `fuzz-${mode}`);
    const fuzz = await wirecheck(['fuzz', '-t', server.url, '-p', 'moonpool', ...common, '--runs', '3', '--seed', '7', '--reporter', 'all', '--out', fuzzOut, '--quiet', '--no-color'], `fuzz-${mode}`);
    checkChildRun(t, 'fuzz', fuzz, [1, 3]);
    await checkReports(t, fuzzOut, 'moonpool');

    const client = await wirecheck(['client', 'moonpool', '-t', server.url, ...common, '--exec', 'ping; ping 3'], `client-${mode}`);
    checkChildRun(t, 'client', client, [0, 1, 3]);
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
