/**
 * `wirecheck fuzz` keeps its reports when the process must stop early
 * (issue 13): SIGTERM after the first cases exits 143 with the campaign so
 * far written (TAP, JSON, JUnit, campaign file), saying why it stopped;
 * SIGINT finishes the current case and exits 3 with the same reports.
 * Spawns the real CLI (bin/wirecheck.js: the process guard is installed
 * there) against the in-process reference core.
 */
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLParser } from 'fast-xml-parser';
import { validateJsonReport } from '../../harness/reports/index.js';
import { readCampaign } from '../../harness/fuzz/report.js';

const bin = fileURLToPath(new URL('../../bin/wirecheck.js', import.meta.url));
const dir = await mkdtemp(path.join(tmpdir(), 'wirecheck-fuzz-partial-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

/**
 * Starts a campaign far longer than the test, waits for its first progress
 * line (cases have run), sends `signal`, and resolves with the exit code and stderr.
 */
async function interrupt(signal: 'SIGTERM' | 'SIGINT', out: string): Promise<{ code: number | null; err: string }> {
  const p = spawn(process.execPath, [bin, 'fuzz', '--in-process', '--protocol', 'proton', '--fast', '--runs', '1000000', '--seed', '7', '--out', out, '--reporter', 'tap,json,junit'], {
    env: { ...process.env, WIRECHECK_SOURCES: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  let sent = false;
  p.stderr.setEncoding('utf8').on('data', (s: string) => {
    err += s;
    // The progress line (every 5 s without a terminal) says cases have run.
    if (!sent && /^fuzz: [1-9]\d* cases/m.test(err)) {
      sent = true;
      p.kill(signal);
    }
  });
  const killer = setTimeout(() => p.kill('SIGKILL'), 120_000);
  const code = await new Promise<number | null>((resolve) => p.once('exit', (c) => resolve(c)));
  clearTimeout(killer);
  return { code, err };
}

/** Checks the reports of a stopped campaign: present, valid, with the cases run so far and why it stopped. */
async function checkReports(t: Test, out: string, why: RegExp): Promise<void> {
  const campaign = await readCampaign(path.join(out, 'proton.fuzz.json'));
  t.ok(campaign.stats.cases > 0, `the campaign file counts the cases run so far (${campaign.stats.cases})`);
  t.ok(campaign.stats.cases < 1_000_000, 'the campaign did not run its budget');
  t.match(campaign.stopped, why, 'the campaign says why it stopped');
  const json = JSON.parse(await readFile(path.join(out, 'proton.json'), 'utf8')) as { cases: { id: string; verdict: string; message?: string }[] };
  const v = validateJsonReport(json);
  t.same(v.ok ? [] : v.errors, [], 'the JSON report matches its schema');
  const gen = json.cases.find((c) => c.id === 'proton/fuzz/malformed-frames');
  t.match(gen?.message, /the campaign stopped before its budget/, 'the generator case says the campaign stopped early');
  const tap = await readFile(path.join(out, 'proton.tap'), 'utf8');
  t.match(tap, /^TAP version 14$/m);
  t.match(tap, /^1\.\.\d+$/m, 'the TAP report has its plan');
  t.match(tap, /^ok \d+ - proton\/fuzz\/coverage/m);
  const xml = new XMLParser({ ignoreAttributes: false }).parse(await readFile(path.join(out, 'proton.xml'), 'utf8')) as { testsuites?: { testsuite?: { '@_tests'?: string } } };
  t.ok(Number(xml.testsuites?.testsuite?.['@_tests']) > 0, 'the JUnit report parses and has test cases');
}

t.test('SIGTERM after the first cases: exit 143, partial reports written', async (t) => {
  const out = path.join(dir, 'term');
  const r = await interrupt('SIGTERM', out);
  t.equal(r.code, 143, r.err);
  t.match(r.err, /terminated \(SIGTERM\)/);
  t.match(r.err, /partial reports \(\d+ cases, .*SIGTERM.*\): .*proton\.tap.*proton\.fuzz\.json/);
  await checkReports(t, out, /SIGTERM/);
});

t.test('SIGINT after the first cases: the current case ends, exit 3, reports written', async (t) => {
  const out = path.join(dir, 'int');
  const r = await interrupt('SIGINT', out);
  t.equal(r.code, 3, r.err);
  t.match(r.err, /interrupted; finishing the current case/);
  await checkReports(t, out, /^interrupted$/);
});
