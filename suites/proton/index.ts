/**
 * The Proton protocol folder's entry: what the engine needs to run, check
 * and report Proton (harness/engine/types.ts `ProtocolSuite`).
 */
import type { ProtocolSuite } from '../../harness/engine/types.js';
import { connectionCases } from './cases/02-connection.js';
import { identificationCases } from './cases/03-identification.js';
import { eventCases } from './cases/04-event.js';
import { commitCases } from './cases/05-commit.js';
import { actionCases } from './cases/06-action.js';
import { timeoutCases } from './cases/07-timeouts.js';
import { errorCases } from './cases/08-errors.js';
import { resetCases } from './cases/09-reset.js';
import { protonDiscovery } from './discover.js';
import { decodeFrames, encodeFrame, frameSchema } from './frames.js';
import { COVERAGE_LABELS, LIVENESS_RULE } from './model.js';
import { protonProbe } from './probe.js';
import { fastProfile, type ProtonProfile } from './profile.js';
import { monitorSuite } from './monitor-suite.js';

/** The Proton suite (SPEC.md v1). */
export const suite: ProtocolSuite<ProtonProfile> = {
  ...monitorSuite,
  title: 'Proton (3 discriminated bidi streams over QUIC)',
  transport: 'quic',
  alpn: 'proton',
  fastProfile,
  connectOptions: (p) => ({ alpn: [p.alpn], idleTimeoutMs: p.idleTimeoutMs, keepAliveMs: p.heartbeatMs }),
  probe: protonProbe,
  cases: [...connectionCases, ...identificationCases, ...eventCases, ...commitCases, ...actionCases, ...timeoutCases, ...errorCases, ...resetCases],
  frameSchema,
  encodeFrame,
  decodeFrames,
  discover: protonDiscovery,
  fuzz: {
    // Loaded on first use: a conformance run never loads the generators or fast-check.
    arbitraries: async (profile) => (await import('./arbitraries.js')).protonArbitraries(profile),
    coverageLabels: COVERAGE_LABELS,
    livenessRule: LIVENESS_RULE,
  },
};
