/**
 * Theta's fuzz programs over real QUIC (loopback) against the reference
 * server running in this process: a bounded campaign finds nothing on the
 * conforming server (its streams get the ids 0, 4, 8 the programs assume,
 * and the model's predictions hold on real sockets), and finds two faults
 * under their rules, as in process (fuzz-faults.test.ts covers every fault).
 * Timers: test/theta/_run.ts's socket profile.
 */
import t from 'tap';
import { quicDriver } from '../../harness/drivers/quic.js';
import { runCampaign, type CampaignResult } from '../../harness/fuzz/campaign.js';
import { overlapCloses } from '../../harness/fuzz/overlap.js';
import { startThetaServer, type ThetaServer } from '../../reference-server/theta/index.js';
import { suite as baseSuite } from '../../suites/theta/index.js';
import { thetaFuzz } from '../../suites/theta/fuzz/support.js';
import { socketProfile } from './_run.js';

const suite = baseSuite.fuzz ? baseSuite : { ...baseSuite, fuzz: thetaFuzz };
const RUNS = 16;
const servers: ThetaServer[] = [];
t.teardown(() => Promise.all(servers.map((s) => s.stop())));

async function campaign(fault: string | undefined, seed: number, arbitraries?: readonly string[], runs = RUNS): Promise<CampaignResult> {
  const s = await startThetaServer({ profile: socketProfile, ...(fault ? { fault } : {}) });
  servers.push(s);
  const ov = overlapCloses(quicDriver);
  return runCampaign({
    suite, profile: socketProfile, seed, runs, maxShrinkCases: 20, ...(arbitraries ? { arbitraries } : {}),
    target: { url: `quic://127.0.0.1:${s.port}`, driver: ov.driver, connect: { host: s.host, port: s.port, connectTimeoutMs: 3000, ca: s.certPem!, serverName: 'localhost' }, drain: () => ov.drain() },
  });
}

t.test('the conforming server: nothing found over QUIC', async (t) => {
  const r = await campaign(undefined, 3);
  t.same(r.findings.map((f) => `${f.rule}: ${f.message}\n${f.listing}`), [], 'no finding');
  t.equal(r.stats.generated, RUNS);
  t.equal(r.stats.errors, 0, 'no harness error');
  t.equal(r.stats.probeFailures, 0, 'every liveness probe passed');
});

for (const [fault, arbitrary, rule] of [['wrong-close-code', 'malformed-flatbuffers', 'THETA-2.3'], ['accept-hash-mismatch', 'handshake-fields', 'THETA-3.3']] as const) {
  t.test(`fault ${fault}: found over QUIC under ${rule}`, async (t) => {
    // Up to 40 programs of the one generator that reaches the fault (a campaign stops shrinking at the first finding).
    const r = await campaign(fault, 2, [arbitrary], 40);
    t.ok(r.findings.length > 0, `found within 40 ${arbitrary} programs`);
    t.same([...new Set(r.findings.map((f) => f.rule))], [rule], r.findings.map((f) => `${f.rule}: ${f.message}\n${f.listing}`).join('\n'));
  });
}
