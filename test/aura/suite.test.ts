/**
 * Aura's generated conformance suites (suites/aura/cases.ts, SPEC §16.7)
 * against the reference roles (reference-server/aura/): in process on the
 * virtual clock for several seed choreographies and role splits (every
 * case passes), each deliberate fault caught, stable case ids; and one run
 * over real QUIC on loopback through the CLI (`serve`-equivalent server,
 * `run --choreography --roles`, then `validate` on the written traces).
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { reference } from '../../reference-server/aura/index.js';
import { generateCases } from '../../suites/aura/cases.js';
import { suite } from '../../suites/aura/index.js';
import { fastProfile, type AuraProfile } from '../../suites/aura/profile.js';
import { cli } from '../_support/cli.js';
import { byVerdict, runSuiteInProcess } from '../_support/in-process.js';

const profile = (file: string, roles: string, params = '{}'): AuraProfile => ({ ...fastProfile, choreography: `fixtures/aura/${file}.aura`, roles, params });

/** Choreography, target roles, params: seeds (the corrected files where the seed is ill-formed) and the runtime fixture. */
const RUNS: readonly [string, string, string?][] = [
  ['seed/TwoPhaseCommit', 'Participant'],
  ['seed/TwoPhaseCommit', 'Coordinator'],
  ['seed/DataStreaming', 'Consumer'],
  ['seed/RobustRequest.fixed', 'Server'],
  ['seed/RobustRequest.fixed', 'Client'],
  ['seed/CompensatingTransaction', 'Coordinator'],
  ['seed/DistributedAuction', 'Auctioneer', '{"max_rounds": 3}'],
  ['seed/DistributedConsensus', 'Node2,Node3'],
  ['seed/HierarchicalConsensus.fixed', 'SubLeader,SubReplica1'],
  ['runtime/Negotiation', 'Seller'],
];

t.test('the reference roles pass the generated suites (in process, virtual time)', async (t) => {
  for (const [file, roles, params] of RUNS) {
    const run = await runSuiteInProcess({ suite, profile: profile(file, roles, params) });
    const v = byVerdict(run);
    t.same(Object.keys(v), ['pass'], `${file} as ${roles}: ${run.cases.length} cases, ${JSON.stringify(Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'pass')))}`);
    t.ok(run.cases.some((c) => c.id.startsWith('aura/deviation/')), `${file}: deviation cases`);
    t.ok(run.cases.some((c) => c.id.startsWith('aura/path/')), `${file}: path cases`);
  }
});

t.test('paths cover the harness\u2019s decisions: branches, loop iterations, timeouts taken and not, compensation points', async (t) => {
  const ids = (p: AuraProfile) => generateCases(p).map((c) => c.id);
  t.same(ids(profile('runtime/Negotiation', 'Seller')).filter((x) => x.startsWith('aura/path/')), ['aura/path/Buyer.Seller!Accept', 'aura/path/Buyer.Seller!Reject']);
  const rr = ids(profile('seed/RobustRequest.fixed', 'Server')).filter((x) => x.startsWith('aura/path/'));
  t.same(rr, ['aura/path/Client.wait', 'aura/path/Client.give-up'], 'the harness observer waits, or gives up');
  const rc = ids(profile('seed/RobustRequest.fixed', 'Client')).filter((x) => x.startsWith('aura/path/'));
  t.same(rc, ['aura/path/Server.send', 'aura/path/Server.silent'], 'the target observer is answered, or times out');
  const ct = ids(profile('seed/CompensatingTransaction', 'Coordinator')).filter((x) => x.startsWith('aura/path/'));
  t.ok(ct.includes('aura/path/ServiceA.$fail') && ct.some((x) => x.endsWith('ServiceB.$fail')), `compensation at each failure point: ${ct.join(' ')}`);
  const ds = ids(profile('seed/DataStreaming', 'Consumer')).filter((x) => x.startsWith('aura/path/'));
  t.ok(ds.includes('aura/path/Producer.else/Producer.else/Producer.then'), `loop iterations up to the bound: ${ds.join(' ')}`);
  t.same(ids(profile('seed/DataStreaming', 'Consumer')), ids(profile('seed/DataStreaming', 'Consumer')), 'ids are stable');
});

/** Fault → a choreography and target roles where it shows, and the rules that may catch it. */
const FAULTS: Readonly<Record<string, readonly [string, string, readonly string[]]>> = {
  'wrong-label': ['seed/TwoPhaseCommit', 'Participant', ['AURA-13.1']],
  'wrong-order': ['seed/DistributedAuction', 'Auctioneer', ['AURA-13.1']],
  'skip-message': ['seed/TwoPhaseCommit', 'Participant', ['AURA-16.6']],
  'wrong-field-type': ['seed/TwoPhaseCommit', 'Coordinator', ['AURA-16.5']],
  'late-reply': ['seed/RobustRequest.fixed', 'Server', ['AURA-13.1']],
  'no-compensation': ['seed/CompensatingTransaction', 'Coordinator', ['AURA-16.6']],
  'compensation-wrong-order': ['seed/CompensatingTransaction', 'Coordinator', ['AURA-13.1']],
  'wrong-chooser': ['runtime/Negotiation', 'Seller', ['AURA-13.1']],
};

t.test('every deliberate fault of the reference roles is caught', async (t) => {
  t.same(Object.keys(reference.faults).sort(), Object.keys(FAULTS).sort(), 'every fault has a scenario here');
  for (const [fault, [file, roles, rules]] of Object.entries(FAULTS)) {
    const run = await runSuiteInProcess({ suite, profile: profile(file, roles, '{"max_rounds": 2}'), fault });
    const bad = run.cases.filter((c) => c.verdict === 'fail' || c.verdict === 'timeout');
    t.ok(bad.length > 0, `${fault}: caught by ${bad.map((c) => `${c.id} (${c.rule})`).join(', ')}`);
    t.ok(bad.every((c) => rules.includes(c.rule ?? '')), `${fault}: rules ${[...new Set(bad.map((c) => c.rule))].join(', ')} ⊆ ${rules.join(', ')}`);
  }
});

t.test('run over QUIC on loopback: `run --protocol aura --choreography --roles` against the reference roles, then `validate` on the traces', async (t) => {
  const out = await mkdtemp(path.join(tmpdir(), 'aura-run-'));
  const p = profile('runtime/Negotiation', 'Seller');
  const server = await reference.startServer({ host: '127.0.0.1', port: 0, profile: p });
  try {
    const r = await cli('run', '--target', `quic://127.0.0.1:${server.port}`, '--protocol', 'aura', '--fast', '--choreography', p.choreography, '--roles', 'Seller', '--insecure', '--out', out, '--reporter', 'json', '--quiet');
    t.equal(r.code, 0, `run passed: ${r.err.slice(-400)}`);
    const dir = path.join(out, 'traces', 'aura');
    const files = (await readdir(dir)).map((f) => path.join(dir, f));
    t.ok(files.length >= 8, `${files.length} traces written`);
    const v = await cli('validate', ...files);
    t.equal(v.code, 0, `validate: ${v.out.split('\n').filter((l) => !l.startsWith('PASS')).join('\n').slice(0, 600)}`);
    const wrongRoles = await cli('run', '--target', `quic://127.0.0.1:${server.port}`, '--protocol', 'aura', '--choreography', p.choreography, '--roles', 'Auditor', '--insecure', '--out', out);
    t.equal(wrongRoles.code, 2, 'an unknown role is a usage error');
    t.match(wrongRoles.err, /Auditor not a role of Negotiation/);
  } finally {
    await server.stop();
    await rm(out, { recursive: true, force: true });
  }
});

t.test('fuzz --protocol aura (in process): paths and deviations judged by the monitor; a fault is found and shrunk to a replayable fixture', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'aura-fuzz-'));
  try {
    const prof = path.join(dir, 'profile.json');
    await writeFile(prof, JSON.stringify({ choreography: 'fixtures/aura/seed/CompensatingTransaction.aura', roles: 'Coordinator', timeoutMs: 300, replyDeadlineMs: 500, toleranceMs: 150, crossingMs: 150 }));
    const ok = await cli('fuzz', '--protocol', 'aura', '--in-process', '--profile', prof, '--runs', '30', '--seed', '3', '--out', path.join(dir, 'ok'), '--quiet');
    t.equal(ok.code, 0, `the conforming reference roles: no finding (${ok.err.slice(-300)})`);
    const bad = await cli('fuzz', '--protocol', 'aura', '--in-process', '--profile', prof, '--runs', '30', '--seed', '3', '--fault', 'compensation-wrong-order', '--out', path.join(dir, 'bad'), '--quiet');
    t.equal(bad.code, 1, 'the fault is found');
    const found = await readdir(path.join(dir, 'bad', 'findings'));
    t.ok(found.some((f) => /aura-13-1/.test(f)), `finding fixtures: ${found.join(', ')}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
