/**
 * The engine's contract proven alone (issue 8): Knock, a protocol that lives
 * only under test/toy, is found by the registry through
 * WIRECHECK_PROTOCOL_PATH, then listed, run over QUIC against its reference
 * server, run in memory on the virtual clock (conforming and with each
 * fault), fuzzed and validated, with no edit outside its folder. It uses a
 * client uni stream, a server-opened stream and datagrams.
 */
import t from 'tap';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cli } from '../_support/cli.js';
import { listProtocols, loadReference, loadSuite, PROTOCOL_PATH_ENV } from '../../harness/engine/registry.js';
import { runSuiteInProcess, byVerdict } from '../_support/in-process.js';
import type { KnockProfile } from './suites/knock/profile.js';

process.env[PROTOCOL_PATH_ENV] = fileURLToPath(new URL('.', import.meta.url));

const dir = await mkdtemp(path.join(tmpdir(), 'wirecheck-toy-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

t.test('found by path, next to the project\'s protocols', async (t) => {
  t.ok(listProtocols().includes('knock'), 'listProtocols has knock');
  t.ok(listProtocols().includes('proton'), 'and still the project\'s own');
  const r = await cli('list');
  t.equal(r.code, 0);
  t.match(r.out, /knock/, '`wirecheck list` shows it');
  t.ok(await loadReference('knock'), 'its reference implementation loads');
});

t.test('in memory on the virtual clock: the reference core passes; each fault fails its case under its rule', async (t) => {
  const suite = await loadSuite('knock');
  const profile = suite.fastProfile as KnockProfile;
  const ok = await runSuiteInProcess({ suite, profile });
  t.same(byVerdict(ok).pass?.length, suite.cases.length, 'every case passes');
  const expected: Record<string, [string, string, string]> = {
    // The sanity probe knocks too: a server that never welcomes is reachable but silent (the run stops there).
    'no-welcome': ['knock/sanity-probe', 'timeout', 'KNOCK-1.1'],
    'welcome-on-bidi': ['knock/knock/welcome', 'fail', 'KNOCK-1.2'],
    'no-pong': ['knock/datagram/ping', 'non-strict', 'KNOCK-2.1'],
    'wrong-pong': ['knock/datagram/ping', 'fail', 'KNOCK-2.2'],
    'never-time-out': ['knock/errors/timeout', 'timeout', 'KNOCK-3.2'],
  };
  const faults = Object.keys((await loadReference('knock'))?.faults ?? {});
  t.same(faults.sort(), Object.keys(expected).sort(), 'a case for every fault');
  for (const [fault, [id, verdict, rule]] of Object.entries(expected)) {
    const run = await runSuiteInProcess({ suite, profile, fault });
    const c = run.cases.find((x) => x.id === id);
    t.equal(c?.verdict, verdict, `${fault}: ${id} is ${verdict}`);
    t.equal(c?.rule, rule, `${fault}: under ${rule}`);
  }
});

t.test('over QUIC: selftest serves and runs it; its traces validate offline', async (t) => {
  const out = path.join(dir, 'selftest');
  const r = await cli('selftest', '--protocol', 'knock', '--no-fixtures', '--reporter', 'json', '--out', out, '--quiet');
  t.equal(r.code, 0, `selftest exits 0${r.code !== 0 ? `: ${r.err}${r.out}` : ''}`);
  const report = JSON.parse(await readFile(path.join(out, 'knock.json'), 'utf8')) as { cases: { id: string; verdict: string }[] };
  t.same(report.cases.filter((c) => c.verdict !== 'pass' && c.verdict !== 'non-strict').map((c) => `${c.id}: ${c.verdict}`), [], 'every case passes over QUIC');
  const traces = (await readdir(path.join(out, 'traces', 'knock'))).map((f) => path.join(out, 'traces', 'knock', f));
  t.ok(traces.length >= 5, 'a trace per case');
  const v = await cli('validate', ...traces);
  t.equal(v.code, 0, `the traces validate against Knock's model${v.code !== 0 ? `: ${v.out}${v.err}` : ''}`);
  const welcome = await readFile(traces.find((f) => f.includes('welcome')) ?? traces[0]!, 'utf8');
  t.match(welcome, /"type":"stream_open"[^\n]*"by":"server"[^\n]*"dir":"uni"/, 'the trace holds the server-opened uni stream');
  const ping = await readFile(traces.find((f) => f.includes('ping')) ?? traces[0]!, 'utf8');
  t.match(ping, /"type":"dgram"[^\n]*"dir":"s2c"/, 'and datagrams from the server');
});

t.test('fuzzed in process: nothing on the reference core, the fault found under its rule', async (t) => {
  const clean = await cli('fuzz', '--protocol', 'knock', '--in-process', '--runs', '40', '--seed', '7', '--out', path.join(dir, 'fuzz-ok'), '--quiet');
  t.equal(clean.code, 0, `no finding on the reference core${clean.code !== 0 ? `: ${clean.out}${clean.err}` : ''}`);
  const bad = await cli('fuzz', '--protocol', 'knock', '--in-process', '--fault', 'never-time-out', '--runs', '40', '--seed', '7', '--out', path.join(dir, 'fuzz-bad'), '--quiet');
  t.equal(bad.code, 1, 'a finding on the faulty core');
  t.match(bad.out + bad.err, /KNOCK-3\.2/, 'under KNOCK-3.2');
});
