/**
 * `wirecheck discover` and `run --discover` on the command line: usage
 * errors exit 2 at once (before any connection), an unreachable target
 * exits 3, and against a live Moonpool reference server (TCP, loopback,
 * short timers) the profile and its explanation are written and the run
 * with the discovered profile passes.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { checkProfileData } from '../../harness/engine/profile.js';
import type { DiscoveryResult } from '../../harness/discover/types.js';
import { suite } from '../../suites/moonpool/index.js';
import { reference } from '../../reference-server/moonpool/index.js';
import { cli } from '../_support/cli.js';
import { within } from '../_support/deadline.js';

/** A loopback TCP port nobody listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const dir = await mkdtemp(path.join(tmpdir(), 'wirecheck-discover-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

t.test('discover --help names the options', async (t) => {
  const r = await cli('discover', '--help');
  t.equal(r.code, 0);
  for (const o of ['--target', '--protocol', '--out', '--budget-ms', '--profile', '--fast', '--evidence', '--insecure']) t.match(r.out, o);
  t.match(r.out, /never guessed/);
  t.match((await cli('--help')).out, /discover \[options\]/, 'listed by wirecheck --help');
  t.match((await cli('run', '--help')).out, /--discover/, 'run --discover');
});

t.test('usage errors exit 2 before any connection', async (t) => {
  const port = await closedPort();
  const target = `tcp://127.0.0.1:${port}`;
  const cases: [string, string[], RegExp][] = [
    ['a bad target', ['-t', 'nope', '-p', 'moonpool'], /not a URL/],
    ['the wrong transport', ['-t', `quic://127.0.0.1:${port}`, '-p', 'moonpool'], /runs over tcp/],
    ['an unknown protocol', ['-t', target, '-p', 'nosuch'], /unknown protocol/],
    ['--out a folder', ['-t', target, '-p', 'moonpool', '--out', dir], /is a folder/],
    ['--out where nothing can be written', ['-t', target, '-p', 'moonpool', '--out', '/proc/wirecheck/profile.json'], /cannot write/],
    ['a budget below 1 s', ['-t', target, '-p', 'moonpool', '--budget-ms', '10'], /--budget-ms must be an integer ≥ 1000/],
  ];
  for (const [what, args, msg] of cases) {
    const r = await within(cli('discover', ...args), 30_000, `discover with ${what}`);
    t.equal(r.code, 2, `${what}: exit 2`);
    t.match(r.err, msg, `${what}: the message says why`);
  }
});

t.test('an unreachable target exits 3, nothing written', async (t) => {
  const out = path.join(dir, 'unreachable.json');
  const r = await within(cli('discover', '-t', `tcp://127.0.0.1:${await closedPort()}`, '-p', 'moonpool', '--fast', '--out', out, '-q', '--no-color'), 60_000, 'discover against a closed port');
  t.equal(r.code, 3);
  t.match(r.err, /unreachable/);
  await t.rejects(readFile(out), 'no profile written');
});

t.test('a target that accepts but never answers is silent: exit 3', async (t) => {
  const sockets = new Set<import('node:net').Socket>();
  const mute = createServer((s) => void sockets.add(s));
  await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
  t.teardown(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => mute.close(() => r()));
  });
  const port = (mute.address() as { port: number }).port;
  const r = await within(cli('discover', '-t', `tcp://127.0.0.1:${port}`, '-p', 'moonpool', '--fast', '-q', '--no-color'), 60_000, 'discover against a mute server');
  t.equal(r.code, 3);
  t.match(r.err, /silent/);
});

t.test('a protocol without discovery is a usage error', async (t) => {
  const before = process.env['WIRECHECK_PROTOCOL_PATH'];
  process.env['WIRECHECK_PROTOCOL_PATH'] = path.resolve('test/toy');
  t.teardown(() => {
    if (before === undefined) delete process.env['WIRECHECK_PROTOCOL_PATH'];
    else process.env['WIRECHECK_PROTOCOL_PATH'] = before;
  });
  const r = await cli('discover', '-t', `quic://127.0.0.1:${await closedPort()}`, '-p', 'knock');
  t.equal(r.code, 2);
  t.match(r.err, /has no profile discovery/);
});

t.test('against a live Moonpool server: discover writes the profile and its explanation; run --discover passes', async (t) => {
  const server = await reference.startServer({ profile: { ...suite.fastProfile, maxPayloadBytes: 20_000, otherPayloads: 'reply', idleTimeoutMs: 1_500 } });
  t.teardown(() => server.stop());
  const target = `tcp://${server.host}:${server.port}`;
  const out = path.join(dir, 'mp', 'profile.json');
  const r = await within(cli('discover', '-t', target, '-p', 'moonpool', '--fast', '--budget-ms', '30000', '--out', out, '--no-color'), 120_000, 'discover against the live server');
  t.equal(r.code, 0, r.err);
  t.match(r.out, /determined \(written to the profile\)/);
  const written = JSON.parse(await readFile(out, 'utf8')) as Record<string, unknown>;
  t.match(written, { maxPayloadBytes: 20_000, otherPayloads: 'reply', idleTimeoutMs: 1_500, concurrentConnections: true });
  t.doesNotThrow(() => checkProfileData(suite, written, out), 'the profile is valid against the Moonpool profile schema');
  const explain = JSON.parse(await readFile(path.join(dir, 'mp', 'profile.discovery.json'), 'utf8')) as DiscoveryResult;
  t.same(explain.profile, written, 'the explanation holds the written profile');
  t.ok(explain.fields['maxPayloadBytes']?.evidence.length, 'and the evidence of each field');
  t.equal(explain.fields['idleTimeoutMs']?.status, 'determined');

  const rep = path.join(dir, 'rep');
  const run = await within(cli('run', '-t', target, '-p', 'moonpool', '--fast', '--discover', '--budget-ms', '30000', '--no-fixtures', '-o', rep, '-q', '--no-color', '--cases', 'moonpool/envelope/*,moonpool/ping-pong/*,moonpool/framing/*'), 180_000, 'run --discover');
  t.equal(run.code, 0, `${run.out}\n${run.err}`);
  t.match(run.out, /Discovered profile: .*moonpool\.profile\.json/);
  const report = JSON.parse(await readFile(path.join(rep, 'moonpool.json'), 'utf8')) as { profile: Record<string, unknown> };
  t.match(report.profile, { maxPayloadBytes: 20_000, otherPayloads: 'reply', idleTimeoutMs: 1_500 }, 'the report records the discovered profile');
  t.ok((JSON.parse(await readFile(path.join(rep, 'moonpool.profile.discovery.json'), 'utf8')) as DiscoveryResult).fields, 'and its evidence next to it');
});
