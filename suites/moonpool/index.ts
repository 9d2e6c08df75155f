/**
 * The Moonpool protocol folder's entry: what the engine needs to run, check
 * and report Moonpool (harness/engine/types.ts `ProtocolSuite`).
 */
import type { ProtocolSuite } from '../../harness/engine/types.js';
import { envelopeCases } from './cases/02-envelope.js';
import { correlationCases } from './cases/03-correlation.js';
import { pingPongCases } from './cases/04-ping-pong.js';
import { framingCases } from './cases/05-framing.js';
import { connectionCases } from './cases/06-connections.js';
import { stallCases } from './cases/07-stalls.js';
import { reconnectionCases } from './cases/08-reconnection.js';
import { moonpoolDiscovery } from './discover.js';
import { decodeFrames, encodeFrame, frameSchema } from './frames.js';
import { COVERAGE_LABELS, LIVENESS_RULE } from './model.js';
import { moonpoolProbe } from './probe.js';
import { fastProfile, type MoonpoolProfile } from './profile.js';
import { monitorSuite } from './monitor-suite.js';

/** The Moonpool suite (SPEC.md v1). */
export const suite: ProtocolSuite<MoonpoolProfile> = {
  ...monitorSuite,
  title: 'Moonpool transport (request/reply envelopes over TCP, ping-pong, resilience)',
  transport: 'tcp',
  fastProfile,
  connectOptions: () => ({}),
  probe: moonpoolProbe,
  frameSchema,
  encodeFrame,
  decodeFrames,
  fuzz: {
    // Loaded on first use: a conformance run never loads the generators or fast-check.
    arbitraries: async (profile) => (await import('./arbitraries.js')).moonpoolArbitraries(profile),
    coverageLabels: COVERAGE_LABELS,
    livenessRule: LIVENESS_RULE,
  },
  discover: moonpoolDiscovery,
  cases: [...envelopeCases, ...correlationCases, ...pingPongCases, ...framingCases, ...connectionCases, ...stallCases, ...reconnectionCases],
};
