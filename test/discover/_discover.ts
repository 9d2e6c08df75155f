/**
 * Discovery against a reference server's Sans-I/O core in this process
 * (memory driver, virtual clock: waits cost no wall time), then, on demand,
 * the suite run with the discovered profile against the same kind of core:
 * what the discovery tests share. The reading under test is a profile
 * setting of the core (`serve` takes the same fields as flags).
 */
import { createMemoryTarget } from '../../harness/drivers/memory.js';
import { VirtualClock } from '../../harness/engine/clock.js';
import { loadReferenceCore } from '../../harness/engine/registry.js';
import type { ServerCore } from '../../harness/engine/server-core.js';
import type { ProtocolSuite } from '../../harness/engine/types.js';
import { runDiscovery } from '../../harness/discover/run.js';
import type { DiscoveryResult } from '../../harness/discover/types.js';

/** What {@link discoverInProcess} needs. */
export interface InProcessDiscovery<P extends object> {
  readonly suite: ProtocolSuite<P>;
  /** The core's profile (the reading and timers under test). */
  readonly serverProfile: Partial<P>;
  /** The profile discovery starts from (what a user would pass: `--fast`, or nothing). */
  readonly base: P;
  readonly fault?: string;
  /** Budget (ms of virtual time). */
  readonly budgetMs?: number;
  /** A core of the test's own instead of the reference's (readings the reference does not offer). */
  readonly core?: ServerCore;
}

/** Runs discovery in virtual time against a fresh core. */
export async function discoverInProcess<P extends object>(o: InProcessDiscovery<P>): Promise<DiscoveryResult> {
  const create = await loadReferenceCore(o.suite.name);
  if (!create) throw new Error(`no reference core for ${o.suite.name}`);
  const core = o.core ?? create({ profile: o.serverProfile, ...(o.fault !== undefined ? { fault: o.fault } : {}) });
  const clock = new VirtualClock();
  const alpn = o.suite.connectOptions(o.base).alpn;
  const mem = createMemoryTarget({ core, clock, transport: o.suite.transport, ...(alpn ? { alpn } : {}) });
  try {
    return await clock.run(runDiscovery({ suite: o.suite, driver: mem.driver, targetUrl: `memory:${o.suite.name}`, connect: mem.connect, base: o.base, budgetMs: o.budgetMs ?? 60_000, clock }));
  } finally {
    mem.stop();
  }
}

/** `field: value` of every determined field, for readable assertions. */
export function determined(r: DiscoveryResult): Record<string, unknown> {
  return Object.fromEntries(Object.entries(r.fields).flatMap(([k, f]) => (f.status === 'determined' ? [[k, f.value]] : [])));
}
