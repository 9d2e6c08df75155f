/**
 * Proton discovery (suites/proton/discover.ts) against the reference core
 * configured with each reading and with other timers, in process and in
 * virtual time:
 *  - discovery reports each reading and each timer the server has;
 *  - the suite run with the discovered profile over the base passes (what
 *    `run --discover` does), for every conforming reading;
 *  - against every deliberate fault, discovery reports no choice the
 *    conforming server would not show (a fault is never reported as a
 *    reading), and the field the fault breaks is left out, with a reason.
 */
import t from 'tap';
import { suite } from '../../suites/proton/index.js';
import type { ProtonProfile } from '../../suites/proton/profile.js';
import { reference } from '../../reference-server/proton/index.js';
import { byVerdict, runSuiteInProcess } from '../_support/in-process.js';
import { determined, discoverInProcess } from './_discover.js';

const base: ProtonProfile = suite.fastProfile;
const discover = (server: Partial<ProtonProfile>, fault?: string) => discoverInProcess({ suite, serverProfile: { ...base, ...server }, base, ...(fault !== undefined ? { fault } : {}) });

/** Each reading (and timer set) the reference can take, with what discovery must report. */
const variants: Record<string, { server: Partial<ProtonProfile>; expect: Partial<ProtonProfile> }> = {
  'the fast defaults': {
    server: {},
    expect: { identTimeoutMs: 400, identTimeoutScope: 'connection', ioTimeoutMs: 800, ioTimeoutStreams: ['event', 'commit'], ioTimeoutScope: 'partial-item', resetStream: 'violation', stopSending: 'violation', commitDelayMs: 250, actionIntervalMs: 50 },
  },
  'other timers': {
    server: { identTimeoutMs: 700, ioTimeoutMs: 1_200, commitDelayMs: 330, actionIntervalMs: 70 },
    expect: { identTimeoutMs: 700, ioTimeoutMs: 1_200, commitDelayMs: 330, actionIntervalMs: 70 },
  },
  'identTimeoutScope stream': { server: { identTimeoutScope: 'stream' }, expect: { identTimeoutScope: 'stream', identTimeoutMs: 400 } },
  'ioTimeoutScope idle-request-stream': { server: { ioTimeoutScope: 'idle-request-stream' }, expect: { ioTimeoutScope: 'idle-request-stream', ioTimeoutStreams: ['event', 'commit'] } },
  'ioTimeoutStreams commit': { server: { ioTimeoutStreams: ['commit'] }, expect: { ioTimeoutStreams: ['commit'], ioTimeoutScope: 'partial-item' } },
  'resetStream and stopSending ends-stream': { server: { resetStream: 'ends-stream', stopSending: 'ends-stream' }, expect: { resetStream: 'ends-stream', stopSending: 'ends-stream' } },
  'the issue 9 server': {
    server: { identTimeoutScope: 'stream', ioTimeoutScope: 'idle-request-stream', ioTimeoutStreams: ['event'], resetStream: 'ends-stream', stopSending: 'ends-stream' },
    expect: { identTimeoutScope: 'stream', ioTimeoutScope: 'idle-request-stream', ioTimeoutStreams: ['event'], resetStream: 'ends-stream', stopSending: 'ends-stream' },
  },
};

for (const [name, v] of Object.entries(variants)) {
  t.test(`${name}: discovered, and the run with the discovered profile passes`, async (t) => {
    const r = await discover(v.server);
    t.equal(r.probe.verdict, 'ok');
    const found = determined(r);
    for (const [field, value] of Object.entries(v.expect)) t.same(found[field], value, `${field} = ${JSON.stringify(value)} (${r.fields[field]?.summary ?? 'not reported'})`);
    t.same(r.profile, Object.fromEntries(Object.entries(found)), 'the written profile holds exactly the determined fields');
    for (const [field, f] of Object.entries(r.fields)) if (f.status === 'determined' && field !== 'toleranceMs') t.ok(f.evidence.length > 0 && f.evidence.every((e) => e.lines.length > 0), `${field} has evidence`);
    const run = await runSuiteInProcess({ suite, profile: { ...base, ...r.profile } as ProtonProfile, serverProfile: { ...base, ...v.server } });
    const bad = Object.entries(byVerdict(run)).filter(([k]) => k !== 'pass' && k !== 'non-strict');
    t.same(bad, [], `every case passes with the discovered profile (${run.cases.length} cases)`);
  });
}

t.test('the seed\u2019s timers: those longer than the budget are lower bounds, never values', async (t) => {
  const r = await discoverInProcess({ suite, serverProfile: suite.defaultProfile, base: suite.defaultProfile, budgetMs: 60_000 });
  const found = determined(r);
  t.equal(found['identTimeoutMs'], 1_000);
  t.equal(found['actionIntervalMs'], 1_000);
  for (const field of ['commitDelayMs', 'ioTimeoutMs'] as const) {
    const f = r.fields[field]!;
    t.equal(f.status, 'undetermined', `${field} (seed: ${suite.defaultProfile[field]} ms) is not determined within a 60 s budget`);
    t.ok(f.status === 'undetermined' && f.lowerBoundMs !== undefined && f.lowerBoundMs < suite.defaultProfile[field], `${field} carries a lower bound (${f.status === 'undetermined' ? f.lowerBoundMs : ''} ms)`);
    t.notOk(field in r.profile, `${field} is left out of the profile`);
  }
  t.ok(r.durationMs <= 60_000 + 10_000, `the discovery keeps to its budget (${r.durationMs} ms of virtual time, cleanup included)`);
});

t.test('deliberate faults: no fault is reported as a reading', async (t) => {
  const conforming = determined(await discover({}));
  /** Fields each fault breaks: discovery must not determine them. */
  const broken: Record<string, readonly string[]> = {
    'never-time-out': ['identTimeoutMs', 'identTimeoutScope', 'ioTimeoutMs', 'ioTimeoutStreams', 'ioTimeoutScope'],
    'wrong-commit-answer': ['commitDelayMs'],
    'skip-action-items': ['actionIntervalMs'],
    'stop-actions-after-10': ['actionIntervalMs'],
    'wrong-close-code': ['resetStream', 'stopSending'],
    'wrong-ack-id': ['ioTimeoutMs', 'resetStream'],
  };
  for (const fault of Object.keys(reference.faults)) {
    const r = await discover({}, fault);
    const found = determined(r);
    const differing = Object.entries(found).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(conforming[k]));
    t.same(differing, [], `${fault}: every field it determines is what the conforming server shows`);
    for (const field of broken[fault] ?? []) {
      const f = r.fields[field];
      t.ok(f && f.status === 'undetermined' && f.summary.length > 0, `${fault}: ${field} left out, with a reason (${f?.summary.slice(0, 90) ?? 'missing'}…)`);
    }
  }
});
