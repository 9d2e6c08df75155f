/**
 * The Garou protocol folder's entry: what the engine needs to run, check,
 * validate and report Garou (harness/engine/types.ts `ProtocolSuite`).
 */
import type { ProtocolSuite } from '../../harness/engine/types.js';
import { allCases } from './cases/index.js';
import { decodeFrames, encodeFixtureFrame, fixtureFrameSchema } from './fixture-frames.js';
import { COVERAGE_LABELS } from './model.js';
import { garouProbe } from './probe.js';
import { fastProfile, type GarouProfile } from './profile.js';
import { monitorSuite } from './monitor-suite.js';

/** The Garou suite (SPEC.md v1). */
export const suite: ProtocolSuite<GarouProfile> = {
  ...monitorSuite,
  title: 'Garou chat (control stream, uni command/ack/upload streams, shard and hot-room streams, datagrams, rooms)',
  transport: 'quic',
  alpn: 'garou',
  fastProfile,
  connectOptions: (p) => ({ alpn: [p.alpn], datagrams: true }),
  probe: garouProbe,
  cases: allCases,
  frameSchema: fixtureFrameSchema,
  encodeFrame: encodeFixtureFrame,
  decodeFrames,
  fuzz: {
    // Loaded on first use: a conformance run never loads the generators or fast-check.
    arbitraries: async (p) => (await import('./fuzz.js')).garouArbitraries(p),
    coverageLabels: COVERAGE_LABELS,
    livenessRule: 'GAROU-14.3',
  },
  load: async () => (await import('./load.js')).loadSupport,
};
