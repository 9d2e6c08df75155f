/**
 * Fuzzing over real QUIC (loopback): the same bounded campaign finds two
 * faulty reference servers under the right rule and nothing on the
 * conforming one, and a saved counterexample replays (`wirecheck replay
 * --expect-observed`) to the same failure over QUIC. The in-process tests
 * (faults.test.ts) cover every fault; these show the real path agrees.
 */
import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../harness/cli.js';
import { writeCampaign } from '../../harness/fuzz/report.js';
import { startProtonServer, type ProtonServer } from '../../reference-server/proton/index.js';
import { campaign, memoryTarget, quicTarget, testProfile } from './_helpers.js';

const SEED = 2;
const RUNS = 20;
const dir = await mkdtemp(path.join(tmpdir(), 'wirecheck-fuzz-quic-'));
const profileFile = path.join(dir, 'profile.json');
await writeFile(profileFile, JSON.stringify(testProfile));
const servers: ProtonServer[] = [];
t.teardown(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await rm(dir, { recursive: true, force: true });
});
const server = async (fault?: string): Promise<ProtonServer> => {
  const s = await startProtonServer({ profile: testProfile, ...(fault ? { fault } : {}) });
  servers.push(s);
  return s;
};

t.test('the conforming server: nothing found', async (t) => {
  const s = await server();
  const r = await campaign(quicTarget(s), { seed: SEED, runs: RUNS, maxShrinkCases: 40 });
  t.same(r.findings.map((f) => `${f.rule}: ${f.message}\n${f.listing}`), [], 'no finding');
  t.equal(r.stats.generated, RUNS);
  t.equal(r.stats.probeFailures, 0, 'every liveness probe passed');
  t.ok(r.firstProbeOk);
});

for (const [fault, rule] of [['wrong-ack-id', 'PROTON-4.3'], ['ignore-unknown-discriminator', 'PROTON-3.2']] as const) {
  t.test(`fault ${fault}: found over QUIC as in-process, replayable`, async (t) => {
    const s = await server(fault);
    const r = await campaign(quicTarget(s), { seed: SEED, runs: RUNS, maxShrinkCases: 40 });
    t.same(r.findings.map((f) => f.rule), [rule], `one finding, ${rule}`);
    const f = r.findings[0]!;
    const mem = await campaign(memoryTarget(fault), { seed: SEED, runs: RUNS });
    t.equal(f.foundAfter.generated, mem.findings[0]?.foundAfter.generated, 'after as many programs as in-process (the same programs)');
    t.equal(f.listing, mem.findings[0]?.listing, 'shrunk to the same counterexample');

    const out = path.join(dir, fault);
    const { fixtures } = await writeCampaign(r, out);
    t.equal(fixtures.length, 1, 'the counterexample saved as a fixture');
    const ca = path.join(dir, `${fault}.pem`);
    await writeFile(ca, s.certPem!);
    let text = '';
    const io = { out: (x: string) => void (text += x), err: (x: string) => void (text += x) };
    const replay = (port: number, observed: boolean) =>
      main(['replay', '--target', `quic://127.0.0.1:${port}`, '--ca', ca, '--server-name', 'localhost', '--profile', profileFile, ...(observed ? ['--expect-observed'] : []), '--out', path.join(out, 'replay'), '-q', ...fixtures], io);
    t.equal(await replay(s.port, true), 1, 'wirecheck replay against the faulty server: the failure again (exit 1)');
    t.match(text, /Fixture verdicts vs observed \(else expect\): 1 met, 0 not met/, 'as observed');
    t.match(text, new RegExp(rule.replace('.', '\\.')), 'the same rule');
    const ok = await server();
    await writeFile(ca, ok.certPem!);
    text = '';
    t.equal(await replay(ok.port, false), 0, 'and it passes against the conforming server');
    t.match(text, /Fixture verdicts vs expect: 1 met, 0 not met/);
  });
}
