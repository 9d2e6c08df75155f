/**
 * The Garou protocol folder's entry: what the engine needs to run, check,
 * validate and report Garou (harness/engine/types.ts `ProtocolSuite`).
 */
import type { ProtocolSuite } from '../../harness/engine/types.js';
import { allCases } from './cases/index.js';
import { decodeFrames, encodeFixtureFrame, fixtureFrameSchema } from './fixture-frames.js';
import { COVERAGE_LABELS, GarouModel } from './model.js';
import { garouProbe } from './probe.js';
import { checkProfile, defaultProfile, fastProfile, profileSchema, type GarouProfile } from './profile.js';

/** The Garou suite (SPEC.md v1). */
export const suite: ProtocolSuite<GarouProfile> = {
  name: 'garou',
  title: 'Garou chat (control stream, uni command/ack/upload streams, shard and hot-room streams, datagrams, rooms)',
  transport: 'quic',
  alpn: 'garou',
  specVersion: '1',
  profileSchema,
  defaultProfile,
  fastProfile,
  checkProfile,
  connectOptions: (p) => ({ alpn: [p.alpn], datagrams: true }),
  createMonitor: (p) => new GarouModel(p, 'monitor'),
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
