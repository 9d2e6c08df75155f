/**
 * Aura's entry (SPEC.md §16): a suite generated from a choreography. The
 * profile names the choreography file and the roles the target plays; the
 * cases (`casesFor`) are generated from the global protocol, the monitor is
 * its global monitor over the wire. `wirecheck run --protocol aura
 * --choreography FILE --roles R --target quic://…`.
 */
import type { ConformanceCase, ProtocolSuite } from '../../harness/engine/types.js';
import { generateCases, probe } from './cases.js';
import { profileChoreography } from './choreography.js';
import { defaultProfile, fastProfile, profileSchema, sessionParams, type AuraProfile } from './profile.js';
import { AuraWireMonitor } from './wire-monitor.js';

/** The Aura suite. */
export const suite: ProtocolSuite<AuraProfile> = {
  name: 'aura',
  title: 'Aura choreographies (cases generated from a global protocol)',
  transport: 'quic',
  alpn: 'aura',
  specVersion: '1',
  profileSchema,
  defaultProfile,
  fastProfile,
  checkProfile(p) {
    const errors: string[] = [];
    try {
      profileChoreography(p);
    } catch (e) {
      errors.push((e as Error).message);
    }
    try {
      sessionParams(p);
    } catch (e) {
      errors.push((e as Error).message);
    }
    return errors;
  },
  connectOptions: (p) => ({ alpn: [p.alpn] }),
  createMonitor: (p) => new AuraWireMonitor(p),
  probe,
  cases: [],
  casesFor: async (p): Promise<readonly ConformanceCase<AuraProfile>[]> => generateCases(p),
  fuzz: {
    arbitraries: async (p) => (await import('./fuzz.js')).auraArbitraries(p),
    coverageLabels: [],
    livenessRule: 'AURA-16.6',
  },
};
