/**
 * `wirecheck load --protocol garou`: short runs (a few seconds) against the
 * in-process reference server: counts add up and nothing is flagged; a
 * promotion under load loses nothing (GAROU-8.5); deliberate faults show up
 * as violations in the summary (GAROU-7.2, 7.3, 8.5); the generic command's
 * flags, JSON output and usage errors.
 */
import t from 'tap';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startGarouServer } from '../../reference-server/garou/index.js';
import type { LoadSummary } from '../../harness/engine/load.js';
import { parseDuration, parseRate } from '../../harness/cli/load.js';
import { loadSupport, parseLoadBody } from '../../suites/garou/load.js';
import { fastProfile, type GarouProfile } from '../../suites/garou/profile.js';
import { cli } from '../_support/cli.js';

/**
 * Short timers, but answers and fan-out may take 6 s (this machine is
 * shared: a slow run must not read as a lost message; the drain ends as
 * soon as everything arrived); promotion out of reach. `hot` promotes above
 * 10 msgs/s over 500 ms.
 */
const quiet: GarouProfile = { ...fastProfile, handshakeTimeoutMs: 5_000, replyDeadlineMs: 5_000, toleranceMs: 1_000, hotThreshold: 10_000, coldThreshold: 1_000 };
const hot: GarouProfile = { ...quiet, hotThreshold: fastProfile.hotThreshold, coldThreshold: fastProfile.coldThreshold };
/** For faults: a short drain (lateness only adds violations). */
const quick: GarouProfile = { ...fastProfile, hotThreshold: 10_000, coldThreshold: 1_000 };

async function load(profile: GarouProfile, o: { clients: number; rooms: number; rate: number; ms: number; fault?: string; check?: boolean }): Promise<LoadSummary> {
  const server = await startGarouServer({ profile, ...(o.fault ? { fault: o.fault } : {}) });
  try {
    return await loadSupport.run({
      connect: { host: server.host, port: server.port, connectTimeoutMs: 5_000, insecure: true },
      profile,
      targetUrl: `quic://${server.host}:${server.port}`,
      clients: o.clients,
      rooms: o.rooms,
      ratePerSec: o.rate,
      durationMs: o.ms,
      check: o.check ?? true,
    });
  } finally {
    await server.stop();
  }
}

t.test('the load body carries the client and the send time', async (t) => {
  t.same(parseLoadBody('wcload 12 1700000000123.456'), { client: 12, sentAt: 1700000000123.456 });
  t.equal(parseLoadBody('hello'), undefined);
  t.equal(parseLoadBody('wcload x y'), undefined);
});

t.test('--rate and --duration', async (t) => {
  t.equal(parseRate('200'), 200);
  t.equal(parseRate('200/s'), 200);
  t.equal(parseRate('0.5/s'), 0.5);
  t.equal(parseRate('600/min'), 10);
  t.throws(() => parseRate('0'), /--rate must be messages per second/);
  t.throws(() => parseRate('fast'), /--rate/);
  t.equal(parseDuration('30'), 30_000);
  t.equal(parseDuration('1.5s'), 1_500);
  t.equal(parseDuration('250ms'), 250);
  t.equal(parseDuration('2m'), 120_000);
  t.throws(() => parseDuration('-1'), /--duration/);
  t.throws(() => parseDuration('3h'), /--duration/);
});

t.test('a clean run: every acknowledged message reaches every member, nothing flagged', async (t) => {
  const s = await load(quiet, { clients: 8, rooms: 2, rate: 40, ms: 1_500 });
  t.same(s.connections, { attempted: 8, established: 8, held: 8, failed: 0, lost: 0 });
  t.ok(s.sent >= 30, `sent ${s.sent} (40/s for 1.5 s)`);
  t.equal(s.acked, s.sent, 'every SendMessage acknowledged');
  t.equal(s.refused, 0);
  t.equal(s.expectedDeliveries, s.acked * 4, 'four members per room');
  t.equal(s.delivered, s.expectedDeliveries, 'every member got every message (the sender included)');
  t.equal(s.latencyMs.count, s.delivered, 'one latency sample per delivery');
  t.ok(s.latencyMs.p50 >= 0 && s.latencyMs.p50 <= s.latencyMs.p99 && s.latencyMs.p99 <= s.latencyMs.max, 'percentiles ordered');
  t.same(s.violations, { count: 0, byRule: {}, first: [] });
  t.same(s.errors, []);
});

t.test('checking off: the same counts, nothing judged', async (t) => {
  const s = await load(quiet, { clients: 4, rooms: 1, rate: 20, ms: 1_000, check: false });
  t.equal(s.options.check, false);
  t.equal(s.delivered, s.expectedDeliveries);
  t.equal(s.violations.count, 0);
});

t.test('a promotion under load: seen, and no event lost, duplicated or reordered (GAROU-8.2, 8.5)', async (t) => {
  const s = await load(hot, { clients: 6, rooms: 1, rate: 40, ms: 2_000 });
  t.ok(s.counters['promotions']! >= 1, `promotions ${s.counters['promotions']}`);
  t.equal(s.delivered, s.expectedDeliveries);
  t.equal(s.violations.count, 0, JSON.stringify(s.violations.first.slice(0, 3)));
});

const faultCases: { fault: string; profile: GarouProfile; rules: RegExp; rooms: number }[] = [
  { fault: 'seq-gap', profile: quick, rules: /GAROU-7\.2/, rooms: 2 },
  { fault: 'no-echo', profile: quick, rules: /GAROU-7\.2/, rooms: 1 },
  { fault: 'wrong-shard', profile: quick, rules: /GAROU-3\.6/, rooms: 2 },
  { fault: 'lose-at-promotion', profile: fastProfile, rules: /GAROU-7\.2|GAROU-8\.5/, rooms: 1 },
];

for (const c of faultCases) {
  t.test(`fault ${c.fault}: violations in the summary`, async (t) => {
    const s = await load(c.profile, { clients: 4, rooms: c.rooms, rate: 30, ms: 1_500, fault: c.fault });
    t.ok(s.violations.count > 0, `${s.violations.count} violations`);
    t.match(Object.keys(s.violations.byRule).join(' '), c.rules);
    t.ok(s.violations.first.length > 0 && s.violations.first.every((v) => v.message.length > 0));
  });
}

t.test('wirecheck load: summary, --json, exit codes', async (t) => {
  const server = await startGarouServer({ profile: quiet });
  const dir = await mkdtemp(path.join(tmpdir(), 'garou-load-'));
  t.teardown(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const json = path.join(dir, 'load.json');
  const profileFile = path.join(dir, 'profile.json');
  await import('node:fs/promises').then((fs) => fs.writeFile(profileFile, JSON.stringify(quiet)));
  const url = `quic://${server.host}:${server.port}`;
  const r = await cli('load', '-t', url, '-p', 'garou', '--profile', profileFile, '-k', '--clients', '4', '--rooms', '2', '--rate', '20/s', '--duration', '1s', '--json', json);
  t.equal(r.code, 0, r.err + r.out);
  t.match(r.out, /connections: 4\/4 established, 4 held to the end/);
  t.match(r.out, /fan-out latency \(ms\): p50 [\d.]+ {2}p90 [\d.]+ {2}p99 [\d.]+ {2}p99\.9 [\d.]+/);
  t.match(r.out, /violations: 0/);
  t.match(r.err, /send: 4 connections/, 'progress lines on stderr');
  const written = JSON.parse(await readFile(json, 'utf8')) as LoadSummary;
  t.equal(written.connections.established, 4);
  t.equal(written.delivered, written.expectedDeliveries);

  const bad = await cli('load', '-t', url, '-p', 'proton', '-k');
  t.equal(bad.code, 2);
  t.match(bad.err, /protocol proton has no load generator/);
  const rooms = await cli('load', '-t', url, '-p', 'garou', '-k', '--clients', '2', '--rooms', '3');
  t.equal(rooms.code, 2);
  t.match(rooms.err, /--rooms 3 must be at most --clients 2/);
  const rate = await cli('load', '-t', url, '-p', 'garou', '--rate', 'lots');
  t.equal(rate.code, 2);
  t.match(rate.err, /--rate must be messages per second/);
});
