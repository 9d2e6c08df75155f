/**
 * Aura's entry (SPEC.md §16): a suite generated from a choreography. The
 * profile names the choreography file and the roles the target plays; the
 * cases (`casesFor`) are generated from the global protocol, the monitor is
 * its global monitor over the wire. `wirecheck run --protocol aura
 * --choreography FILE --roles R --target quic://…`.
 */
import type { ConformanceCase, ProtocolSuite } from '../../harness/engine/types.js';
import { generateCases, probe } from './cases.js';
import { fastProfile, type AuraProfile } from './profile.js';
import { monitorSuite } from './monitor-suite.js';

/** The Aura suite. */
export const suite: ProtocolSuite<AuraProfile> = {
  ...monitorSuite,
  title: 'Aura choreographies (cases generated from a global protocol)',
  transport: 'quic',
  alpn: 'aura',
  fastProfile,
  connectOptions: (p) => ({ alpn: [p.alpn] }),
  probe,
  cases: [],
  casesFor: async (p): Promise<readonly ConformanceCase<AuraProfile>[]> => generateCases(p),
  fuzz: {
    arbitraries: async (p) => (await import('./fuzz.js')).auraArbitraries(p),
    coverageLabels: [],
    livenessRule: 'AURA-16.6',
  },
};
