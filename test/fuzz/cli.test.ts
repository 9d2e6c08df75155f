/**
 * `wirecheck fuzz` and `wirecheck fuzz merge` end to end, in-process (no
 * sockets): exit codes, the summary, reports that validate (JSON schema,
 * TAP, JUnit), the campaign file and fixtures; usage errors exit 2.
 */
import t from 'tap';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { cli } from '../_support/cli.js';
import { checkFixture, readFixture } from '../../harness/fixtures/index.js';
import { validateJsonReport } from '../../harness/reports/index.js';
import { suite } from '../../suites/proton/index.js';

const dir = await mkdtemp(path.join(tmpdir(), 'wirecheck-fuzz-cli-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

t.test('usage errors exit 2', async (t) => {
  const cases: [string[], RegExp][] = [
    [['fuzz', '--in-process'], /fuzz needs --protocol/],
    [['fuzz', '--protocol', 'proton'], /fuzz needs --target URL \(or --in-process/],
    [['fuzz', '--protocol', 'proton', '--in-process', '--target', 'quic://127.0.0.1:4433'], /exclude each other/],
    [['fuzz', '--protocol', 'proton', '--target', 'quic://127.0.0.1:4433', '--fault', 'wrong-ack-id'], /--fault needs --in-process/],
    [['fuzz', '--protocol', 'proton', '--in-process', '--fault', 'nope'], /unknown fault "nope"/],
    [['fuzz', '--protocol', 'proton', '--in-process', '--shard', '3/2'], /shard must be i\/n with 1 ≤ i ≤ n/],
    [['fuzz', '--protocol', 'proton', '--in-process', '--duration', 'soon'], /duration must be a number/],
    [['fuzz', '--protocol', 'proton', '--in-process', '--replay', '12:x'], /replay must be SEED:PATH/],
    [['fuzz', '--protocol', 'proton', '--in-process', '--replay', '12:3'], /--replay needs --arbitraries/],
    [['fuzz', '--protocol', 'proton', '--in-process', '--arbitraries', 'nope'], /unknown generator "nope" for proton; known: malformed-frames, discriminators, sequences/],
    [['fuzz', '--protocol', 'moonpool', '--in-process', '--arbitraries', 'nope'], /unknown generator "nope" for moonpool; known: malformed-envelopes, correlation-ids, sequences/],
    [['fuzz', 'merge', path.join(dir, 'missing.json')], /cannot read a campaign/],
  ];
  for (const [argv, msg] of cases) {
    const r = await cli(...argv);
    t.equal(r.code, 2, `${argv.join(' ')} → exit 2`);
    t.match(r.err, msg, `${argv.join(' ')} → message`);
  }
});

t.test('a campaign with a finding: exit 1, summary, reports, fixture; shards merge', async (t) => {
  const out = path.join(dir, 'faulty');
  const r = await cli('fuzz', '--in-process', '--protocol', 'proton', '--fast', '--fault', 'wrong-ack-id', '--runs', '60', '--seed', '5', '--out', out, '--reporter', 'all');
  t.equal(r.code, 1, r.err);
  t.match(r.out, /wirecheck fuzz: proton against memory:proton\?fault=wrong-ack-id, seed 5/);
  t.match(r.out, /FINDING 1\/1 {2}proton\/fuzz\/[a-z-]+-proton-4-3 {2}PROTON-4\.3 {2}FAIL/);
  t.match(r.out, /replay: wirecheck fuzz --in-process --protocol proton --fault wrong-ack-id --fast --arbitraries [a-z-]+ --replay -?\d+:[\d:]+/);
  t.match(r.out, /=> model: ack 0000000/, 'the counterexample shows what the model predicts');
  t.match(r.out, /coverage: \d+\/41 labels \(states \d+\/9, transitions \d+\/32\)/);
  t.match(r.err, /finding: proton\/fuzz\/.* PROTON-4\.3/, 'the finding is announced as it is found');

  const json = JSON.parse(await readFile(path.join(out, 'proton.json'), 'utf8')) as { cases: { id: string; verdict: string }[] };
  const v = validateJsonReport(json);
  t.same(v.ok ? [] : v.errors, [], 'the JSON report matches its schema');
  t.same(json.cases.map((c) => `${c.id} ${c.verdict}`).filter((x) => !x.includes('-proton-')), ['proton/fuzz/malformed-frames pass', 'proton/fuzz/discriminators pass', 'proton/fuzz/sequences pass', 'proton/fuzz/coverage pass']);
  t.ok(json.cases.some((c) => /proton-4-3$/.test(c.id) && c.verdict === 'fail'), 'the finding is a failing case');
  const tap = await readFile(path.join(out, 'proton.tap'), 'utf8');
  t.match(tap, /^not ok \d+ - proton\/fuzz\/.*-proton-4-3/m);
  t.match(tap, /^ok \d+ - proton\/fuzz\/coverage/m);
  const xml = new XMLParser({ ignoreAttributes: false }).parse(await readFile(path.join(out, 'proton.xml'), 'utf8')) as { testsuites: { testsuite: { '@_failures': string } } };
  t.equal(xml.testsuites.testsuite['@_failures'], '1', 'JUnit: one failure');
  const files = await readdir(path.join(out, 'findings'));
  t.equal(files.length, 1);
  const { fixture: fx } = await readFixture(path.join(out, 'findings', files[0]!), suite);
  checkFixture(fx, files[0]!, suite);
  t.equal(fx.observed?.rule, 'PROTON-4.3', 'the fixture records the failure');

  // The printed replay reproduces it.
  const token = /--arbitraries ([a-z-]+) --replay (-?\d+:[\d:]+)/.exec(r.out)!;
  const again = await cli('fuzz', '--in-process', '--protocol', 'proton', '--fast', '--fault', 'wrong-ack-id', '--arbitraries', token[1]!, '--replay', token[2]!, '--out', path.join(dir, 'again'), '-q');
  t.equal(again.code, 1);
  t.match(again.out, /1 cases \(1 generated, 0 shrinking\)/);
  t.match(again.out, /PROTON-4\.3/);

  // Two shards, merged, equal the whole campaign.
  for (const i of [1, 2]) {
    const s = await cli('fuzz', '--in-process', '--protocol', 'proton', '--fast', '--fault', 'wrong-ack-id', '--runs', '60', '--seed', '5', '--shard', `${i}/2`, '--out', path.join(dir, `shard${i}`), '-q');
    t.match(s.out, new RegExp(`shard ${i}/2`));
  }
  const m = await cli('fuzz', 'merge', path.join(dir, 'shard1', 'proton.fuzz.json'), path.join(dir, 'shard2', 'proton.fuzz.json'), '--out', path.join(dir, 'merged'));
  t.equal(m.code, 1);
  t.match(m.out, /merged 2 shards/);
  t.match(m.out, /\d+ cases \(60 generated/, 'the 60 programs of the campaign');
  t.match(m.out, /Findings: 1 \(PROTON-4\.3\)/);
  const merged = JSON.parse(await readFile(path.join(dir, 'merged', 'proton.fuzz.json'), 'utf8')) as { rounds: number[] };
  t.same(merged.rounds, [0, 1, 2], 'every round once');
});

t.test('a clean campaign exits 0; a time box ends it', async (t) => {
  const r = await cli('fuzz', '--in-process', '--protocol', 'proton', '--fast', '--duration', '300ms', '--seed', '1', '--out', path.join(dir, 'clean'), '-q');
  t.equal(r.code, 0, r.err);
  t.match(r.out, /Findings: none/);
  t.match(r.out, /\d+ cases \(\d+ generated, 0 shrinking\) in \d+ ms/);
});
