/**
 * Knock's entry (a test-only protocol, SPEC.md): what the engine needs to
 * run, fuzz, validate and report it, through the public contract alone
 * (harness/engine/types.ts `ProtocolSuite`). Found by the registry through
 * `WIRECHECK_PROTOCOL_PATH=test/toy`.
 */
import type { ProtocolSuite } from '../../../../harness/engine/types.js';
import { cases, probe } from './cases.js';
import { COVERAGE_LABELS, KnockModel } from './model.js';
import { defaultProfile, fastProfile, profileSchema, type KnockProfile } from './profile.js';

/** The Knock suite. */
export const suite: ProtocolSuite<KnockProfile> = {
  name: 'knock',
  title: 'Knock (test-only: a uni stream, a server-opened stream, datagrams)',
  transport: 'quic',
  alpn: 'knock',
  specVersion: '1',
  profileSchema,
  defaultProfile,
  fastProfile,
  connectOptions: () => ({ alpn: ['knock'], datagrams: true }),
  createMonitor: (p) => new KnockModel(p),
  probe,
  cases,
  fuzz: {
    arbitraries: async (p) => (await import('./fuzz.js')).knockArbitraries(p),
    coverageLabels: COVERAGE_LABELS,
    livenessRule: 'KNOCK-1.1',
  },
};
