/** Campaigns for the fuzz tests: in-process on the reference core (virtual time), or over QUIC against a reference server. */
import { createMemoryTarget } from '../../harness/drivers/memory.js';
import { quicDriver } from '../../harness/drivers/quic.js';
import { VirtualClock } from '../../harness/engine/clock.js';
import { runCampaign, type CampaignOptions, type CampaignResult, type FuzzTarget } from '../../harness/fuzz/campaign.js';
import { overlapCloses } from '../../harness/fuzz/overlap.js';
import { createReferenceCore, type ProtonServer } from '../../reference-server/proton/index.js';
import { suite } from '../../suites/proton/index.js';
import type { ProtonProfile } from '../../suites/proton/profile.js';
import { testProfile } from '../suite/_run.js';

export { testProfile };

/** An in-process target: the reference core (optionally faulty) over the memory driver, in virtual time. */
export function memoryTarget(fault?: string, profile: ProtonProfile = testProfile): FuzzTarget {
  const clock = new VirtualClock();
  const mem = createMemoryTarget({ core: createReferenceCore({ profile, ...(fault ? { fault } : {}) }), clock, alpn: [profile.alpn] });
  return { url: `memory:proton${fault ? `?fault=${fault}` : ''}`, driver: mem.driver, connect: mem.connect, clock };
}

/** A QUIC target: a running reference server, with overlapped closes as `wirecheck fuzz` uses them. */
export function quicTarget(server: ProtonServer): FuzzTarget {
  const ov = overlapCloses(quicDriver);
  return {
    url: `quic://127.0.0.1:${server.port}`,
    driver: ov.driver,
    connect: { host: server.host, port: server.port, connectTimeoutMs: 3000, ca: server.certPem!, serverName: 'localhost' },
    drain: () => ov.drain(),
  };
}

/** Runs a Proton campaign (test profile unless given). */
export function campaign(target: FuzzTarget, o: Omit<CampaignOptions<ProtonProfile>, 'suite' | 'profile' | 'target'> & { profile?: ProtonProfile }): Promise<CampaignResult> {
  return runCampaign({ suite, profile: o.profile ?? testProfile, target, ...o });
}
