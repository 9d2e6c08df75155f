/** The CLI's exit codes and messages on bad input, an unreachable target, and a real run. */
import t from 'tap';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cli } from './_support/cli.js';
import { startProtonServer } from '../reference-server/proton/index.js';
import { smokeProfile } from './suite/_run.js';

const dir = await mkdtemp(path.join(tmpdir(), 'wirecheck-cli-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

t.test('usage errors exit 2 with a message naming the problem, no stack trace', async (t) => {
  const cases: [string[], RegExp][] = [
    [['run', '--target', 'http://x:1', '--protocol', 'proton'], /scheme "http" is not supported/],
    [['run', '--target', 'quic://127.0.0.1', '--protocol', 'proton'], /missing port/],
    [['run', '--target', 'quic://127.0.0.1:99999', '--protocol', 'proton'], /port must be 1–65535|not a URL/],
    [['run', '--target', 'quic://127.0.0.1:4433', '--protocol', 'nope'], /unknown protocol; known: .*proton/],
    [['run', '--target', 'tcp://127.0.0.1:4433', '--protocol', 'proton'], /runs over quic, not tcp/],
    [['run', '--protocol', 'proton'], /required option '-t, --target <url>'/],
    [['run', '--target', 'quic://127.0.0.1:4433', '--protocol', 'proton', '--reporter', 'xml'], /Allowed choices are tap, json, both/],
    [['run', '--target', 'quic://127.0.0.1:4433', '--protocol', 'proton', '--profile', path.join(dir, 'missing.json')], /cannot read \(ENOENT\)/],
    [['run', '--target', 'quic://127.0.0.1:4433', '--protocol', 'proton', '--connect-timeout', 'soon'], /--connect-timeout must be an integer/],
    [['serve', 'proton', '--ident-timeout-ms', '-3'], /--ident-timeout-ms must be an integer/],
    [['serve', 'proton', '--fault', 'nope'], /unknown fault "nope"/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ];
  for (const [argv, msg] of cases) {
    const r = await cli(...argv);
    t.equal(r.code, 2, `${argv.join(' ')} → exit 2`);
    t.match(r.err, msg, `${argv.join(' ')} → message`);
    t.notMatch(r.err, /\n\s+at /, 'no stack trace');
  }
});

t.test('invalid profiles are named with the JSON pointer', async (t) => {
  const bad = path.join(dir, 'bad.json');
  await writeFile(bad, JSON.stringify({ identTimeoutMs: 'soon', bogus: 1, ioTimeoutScope: 'everything' }));
  const r = await cli('run', '--target', 'quic://127.0.0.1:4433', '--protocol', 'proton', '--profile', bad);
  t.equal(r.code, 2);
  t.match(r.err, /\/identTimeoutMs: must be integer; got "soon"/);
  t.match(r.err, /\/bogus: property is not allowed here/);
  t.match(r.err, /\/ioTimeoutScope: must be one of "partial-item", "idle-request-stream"; got "everything"/);
  const broken = path.join(dir, 'broken.json');
  await writeFile(broken, '{ "identTimeoutMs": 5,');
  const r2 = await cli('run', '--target', 'quic://127.0.0.1:4433', '--protocol', 'proton', '--profile', broken);
  t.equal(r2.code, 2);
  t.match(r2.err, /broken\.json: not valid JSON/);
  const inconsistent = path.join(dir, 'inconsistent.json');
  await writeFile(inconsistent, JSON.stringify({ commitDelayMs: 1000, ioTimeoutMs: 500 }));
  const r3 = await cli('run', '--target', 'quic://127.0.0.1:4433', '--protocol', 'proton', '--profile', inconsistent);
  t.equal(r3.code, 2);
  t.match(r3.err, /\/commitDelayMs \(1000\) must be below \/ioTimeoutMs \(500\)/);
});

t.test('an unreachable target exits 3 and still writes reports', async (t) => {
  const out = path.join(dir, 'unreachable');
  const r = await cli('run', '--target', 'quic://127.0.0.1:9', '--protocol', 'proton', '--insecure', '--connect-timeout', '300', '--out', out, '--quiet', '--no-color');
  t.equal(r.code, 3);
  t.match(r.err, /did not pass the sanity probe/);
  const json = JSON.parse(await readFile(path.join(out, 'proton.json'), 'utf8')) as { cases: { verdict: string }[]; probes: { ok: boolean }[] };
  t.ok(json.cases.length > 0 && json.cases.every((c) => c.verdict === 'skipped'), 'every case reported as skipped');
  t.equal(json.probes[0]?.ok, false);
});

t.test('a run against a live target: exit 0, then 1 against a faulty one', async (t) => {
  // The smoke profile: acks and action items are judged in wall time, and this process holds harness and server (a loaded machine stalls both).
  const profile = path.join(dir, 'smoke.json');
  await writeFile(profile, JSON.stringify(smokeProfile));
  for (const [fault, want] of [[undefined, 0], ['wrong-ack-id', 1]] as const) {
    const server = await startProtonServer({ profile: smokeProfile, ...(fault ? { fault } : {}) });
    try {
      const out = path.join(dir, `live-${fault ?? 'ok'}`);
      const r = await cli('run', '--target', `quic://127.0.0.1:${server.port}`, '--protocol', 'proton', '--insecure', '--profile', profile, '--cases', 'proton/event/*', '--out', out, '--no-color');
      t.equal(r.code, want, `${fault ?? 'conforming'} → exit ${want}`);
      t.match(r.err, /\[ ?\d+\/\d+\] (PASS|FAIL)/, 'progress lines');
      t.match(r.out, /Result: /, 'summary');
      const tap = await readFile(path.join(out, 'proton.tap'), 'utf8');
      t.match(tap, /^TAP version 14\n/);
      if (fault) t.match(tap, /not ok \d+ - proton\/event\/single/);
    } finally {
      await server.stop();
    }
  }
});

t.test('list and help', async (t) => {
  const r = await cli('list');
  t.equal(r.code, 0);
  t.match(r.out, /proton\s+quic\s+\d+ cases/);
  const h = await cli('serve', 'proton', '--help');
  t.equal(h.code, 0);
  t.match(h.out, /--ident-timeout-ms <value>/, 'profile fields are serve flags');
  const f = await cli('list', 'proton', '--faults');
  t.match(f.out, /wrong-ack-id/);
  const none = await cli();
  t.equal(none.code, 2);
  t.match(none.out, /Usage: wirecheck/);
});
