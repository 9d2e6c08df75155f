/**
 * Issue 9: every reading of the seed that the Proton profile can express
 * (identTimeoutScope, ioTimeoutScope, ioTimeoutStreams, resetStream,
 * stopSending; SPEC PROTON-3.4, 7.1, 8.3, 8.6, 8.7).
 *
 *  - The reference core configured with a reading passes the whole suite
 *    run with the matching profile.
 *  - A mismatched profile (the server reads the seed one way, the profile
 *    says the other) fails exactly the cases that tell the readings apart,
 *    under the rule the reading changes (or PROTON-2.7 for a close that the
 *    profile's reading does not owe).
 *  - Deliberate faults are still caught under the other readings.
 *
 * In process, in virtual time (test/_support/in-process.ts), with the
 * short test profile.
 */
import t from 'tap';
import { suite } from '../../suites/proton/index.js';
import type { ProtonProfile } from '../../suites/proton/profile.js';
import { meets } from '../../harness/cli/replay.js';
import { defaultFixtureDir, fixtureToCase, loadFixtures } from '../../harness/fixtures/index.js';
import { checkFaultRun } from '../_support/faults.js';
import { outcomes, runSuiteInProcess } from '../_support/in-process.js';
import { testProfile } from '../suite/_run.js';
import { campaign, memoryTarget } from '../fuzz/_helpers.js';

/** One reading other than the default, by name. */
const readings: Record<string, Partial<ProtonProfile>> = {
  'identTimeoutScope stream': { identTimeoutScope: 'stream' },
  'ioTimeoutScope idle-request-stream': { ioTimeoutScope: 'idle-request-stream' },
  'ioTimeoutStreams event': { ioTimeoutStreams: ['event'] },
  'ioTimeoutStreams none': { ioTimeoutStreams: [] },
  'resetStream ends-stream': { resetStream: 'ends-stream' },
  'stopSending ends-stream': { stopSending: 'ends-stream' },
  // The server of issue 9: every other reading at once, the receive timeout on idle Event streams only.
  'issue 9 server': { identTimeoutScope: 'stream', ioTimeoutScope: 'idle-request-stream', ioTimeoutStreams: ['event'], resetStream: 'ends-stream', stopSending: 'ends-stream' },
};

const loaded = await loadFixtures(defaultFixtureDir('proton'), suite);
/** The suite with every fixture of fixtures/proton as its cases. */
const fixtureSuite = { ...suite, cases: loaded.map((l) => fixtureToCase(l, suite)) };

const run = (server: Partial<ProtonProfile>, profile: Partial<ProtonProfile>, fault?: string, cases = suite) =>
  runSuiteInProcess({ suite: cases, profile: { ...testProfile, ...profile }, serverProfile: { ...testProfile, ...server }, ...(fault !== undefined ? { fault } : {}) });

/** The cases that did not pass, as `id: verdict rule`. */
const notPassed = (r: Awaited<ReturnType<typeof run>>): Record<string, string> => Object.fromEntries(Object.entries(outcomes(r)).filter(([, v]) => v !== 'pass'));

t.test('the default profile: every case passes against the default reference core', async (t) => {
  t.same(notPassed(await run({}, {})), {});
});

for (const [name, reading] of Object.entries(readings)) {
  t.test(`${name}: the reference core with that reading passes the whole suite with the matching profile`, async (t) => {
    const r = await run(reading, reading);
    t.same(notPassed(r), {}, 'every case passes');
    t.ok(r.probes.every((p) => p.ok), 'every sanity probe passes');
  });
}

const ident = ['silent-stream-beside-identified', 'silent-stream-made-visible-late'].map((n) => `proton/identification/${n}`);
const idle = ['connection/keep-alive', 'identification/silent-stream-beside-identified', 'identification/silent-stream-made-visible-late', 'timeouts/idle-request-stream', 'timeouts/idle-commit-stream-after-answer'].map((n) => `proton/${n}`);
const resets = ['reset-event-stream', 'reset-event-stream-mid-item', 'reset-commit-stream-outstanding', 'reset-action-stream'].map((n) => `proton/errors/${n}`);
const stops = ['stop-sending-action-stream', 'stop-sending-event-stream'].map((n) => `proton/errors/${n}`);
const all = (ids: readonly string[], outcome: string) => Object.fromEntries(ids.map((id) => [id, outcome]));

/**
 * Mismatches: [server reading, profile reading, the cases that fail and how].
 * A close the profile's reading does not owe is PROTON-2.7; a close it owes
 * and the server does not send is a timeout under the reading's rule.
 */
const mismatches: [string, Partial<ProtonProfile>, Partial<ProtonProfile>, Record<string, string>][] = [
  ['server per stream, profile per connection', readings['identTimeoutScope stream']!, {}, { 'proton/identification/timeout': 'timeout PROTON-3.4', ...all(ident, 'fail PROTON-2.7') }],
  ['server per connection, profile per stream', {}, readings['identTimeoutScope stream']!, { 'proton/identification/timeout': 'fail PROTON-2.7', ...all(ident, 'timeout PROTON-3.4') }],
  ['server times idle streams out, profile partial items', readings['ioTimeoutScope idle-request-stream']!, {}, all(idle, 'fail PROTON-2.7')],
  ['server times partial items out, profile idle streams', {}, readings['ioTimeoutScope idle-request-stream']!, all(idle, 'timeout PROTON-7.1')],
  ['server covers Event only, profile both', readings['ioTimeoutStreams event']!, {}, { 'proton/timeouts/partial-commit-id': 'timeout PROTON-7.1' }],
  ['server covers both, profile Event only', {}, readings['ioTimeoutStreams event']!, { 'proton/timeouts/partial-commit-id': 'fail PROTON-2.7' }],
  ['server ends the stream on RESET_STREAM, profile violation', readings['resetStream ends-stream']!, {}, all(resets, 'timeout PROTON-8.3')],
  ['server closes on RESET_STREAM, profile ends-stream', {}, readings['resetStream ends-stream']!, all(resets, 'fail PROTON-2.7')],
  ['server stops pushing on STOP_SENDING, profile violation', readings['stopSending ends-stream']!, {}, all(stops, 'timeout PROTON-8.6')],
  ['server closes on STOP_SENDING, profile ends-stream', {}, readings['stopSending ends-stream']!, all(stops, 'fail PROTON-2.7')],
];

for (const [name, server, profile, want] of mismatches) {
  t.test(`mismatch: ${name}: exactly the cases telling the readings apart fail, under the right rule`, async (t) => {
    t.same(notPassed(await run(server, profile)), want);
  });
}

t.test('the issue 9 server against the default profile: the 9-ish failures the issue saw, each naming the reading\'s rule', async (t) => {
  const got = notPassed(await run(readings['issue 9 server']!, {}));
  const rules = new Set(Object.values(got).map((o) => o.split(' ')[1]));
  t.ok(Object.keys(got).length >= 9, `${Object.keys(got).length} cases fail`);
  t.same([...rules].filter((r) => !['PROTON-2.7', 'PROTON-3.4', 'PROTON-7.1', 'PROTON-8.3', 'PROTON-8.6'].includes(r!)), [], 'every failure names a rule a reading changes (or 2.7)');
});

for (const [name, reading] of Object.entries({ default: {}, ...readings })) {
  t.test(`${name}: every fixture of fixtures/proton gets its expected verdict with the matching profile`, async (t) => {
    const r = await run(reading, reading, undefined, fixtureSuite);
    t.same(loaded.filter((l) => { const c = r.cases.find((x) => x.id === l.fixture.id); return !c || !meets(c, l.fixture.expect); }).map((l) => `${l.fixture.id}: ${outcomes(r)[l.fixture.id] ?? 'missing'}`), []);
  });
}

t.test('fixtures: the issue 9 server against the default profile fails the fixtures that tell its readings apart, under their rules', async (t) => {
  const r = outcomes(await run(readings['issue 9 server']!, {}, undefined, fixtureSuite));
  const want: Record<string, string> = {
    'client-reset-action-stream': 'timeout PROTON-8.3',
    'client-stream-reset': 'timeout PROTON-8.3',
    'client-stop-sending': 'timeout PROTON-8.6',
    'commit-receive-timeout': 'timeout PROTON-7.1',
    'identification-timeout': 'timeout PROTON-3.4',
    'idle-event-stream': 'fail PROTON-2.7',
    'keep-alive': 'fail PROTON-2.7',
    'silent-stream-beside-identified': 'fail PROTON-2.7',
  };
  t.same(Object.fromEntries(Object.entries(r).filter(([, v]) => v !== 'pass')), Object.fromEntries(Object.entries(want).map(([k, v]) => [`proton/fixture/${k}`, v])));
});

t.test('fixtures: stop-actions-after-10 is caught by the long Action fixture (PROTON-6.3)', async (t) => {
  const r = outcomes(await run({}, {}, 'stop-actions-after-10', fixtureSuite));
  t.match(r['proton/fixture/action-watched-long'], /^(fail|timeout) PROTON-6\.3$/);
});

t.test('faults are still caught under other readings', async (t) => {
  const stream = readings['identTimeoutScope stream']!;
  t.test('never-time-out with identification per stream: the silent-stream cases catch it (PROTON-3.4)', async (t) => {
    checkFaultRun(t, await run(stream, stream, 'never-time-out'), { targets: [...ident, 'proton/timeouts/partial-event-id', 'proton/timeouts/partial-commit-id'], rules: ['PROTON-3.4', 'PROTON-7.1'] });
  });
  const issue = readings['issue 9 server']!;
  t.test('never-time-out under the issue 9 readings: idle Event streams and silent streams (PROTON-3.4, 7.1)', async (t) => {
    const r = await run(issue, issue, 'never-time-out');
    for (const id of [...ident, 'proton/timeouts/idle-request-stream', 'proton/timeouts/partial-event-id']) t.match(outcomes(r)[id], /^(fail|timeout) PROTON-(3\.4|7\.1)$/, `${id} catches it`);
  });
  t.test('stop-actions-after-10 under the issue 9 readings (PROTON-6.3)', async (t) => {
    checkFaultRun(t, await run(issue, issue, 'stop-actions-after-10'), { targets: ['proton/action/continuity-and-rate', 'proton/action/fin-after-discriminator'], rules: ['PROTON-6.3'] });
  });
  t.test('wrong-close-code under ends-stream readings still fails the violation cases (PROTON-8.2 codes)', async (t) => {
    const r = await run(issue, issue, 'wrong-close-code');
    t.match(outcomes(r)['proton/identification/unknown-discriminator-0x00'], /^fail PROTON-3\.2$/);
    t.same(Object.entries(outcomes(r)).filter(([id, o]) => id.startsWith('proton/errors/') && o !== 'pass'), [], 'aborts owe no close here: nothing to get wrong');
  });
});

t.test('fuzzing: the programs are built from the profile\'s readings, so the reference core with the issue 9 readings yields no finding', async (t) => {
  const profile = { ...testProfile, ...readings['issue 9 server']! };
  for (const seed of [1, 2]) {
    const r = await campaign(memoryTarget(undefined, profile), { seed, runs: 150, profile });
    t.same(r.findings.map((f) => `${f.rule}: ${f.message}`), [], `seed ${seed}: no finding`);
    t.equal(r.stats.errors, 0, `seed ${seed}: no harness error`);
  }
});
