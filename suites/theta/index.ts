/**
 * The Theta protocol folder's entry: what the engine needs to run, check
 * and report Theta (harness/engine/types.ts `ProtocolSuite`).
 */
import type { ProtocolSuite } from '../../harness/engine/types.js';
import { streamCases } from './cases/01-streams.js';
import { frameCases } from './cases/02-frames.js';
import { handshakeCases } from './cases/03-handshake.js';
import { ackCases } from './cases/04-ack.js';
import { heartbeatCases } from './cases/05-heartbeats.js';
import { replicationCases } from './cases/06-replication.js';
import { assetCases } from './cases/07-assets.js';
import { closingCases } from './cases/08-closing.js';
import { decodeFixtureFrames, encodeFixtureFrame, frameSchema } from './frames.js';
import { thetaFuzz } from './fuzz/support.js';
import { thetaProbe } from './probe.js';
import { fastProfile, type ThetaProfile } from './profile.js';
import { quicIdleTimeoutMs } from './transport.js';
import { monitorSuite } from './monitor-suite.js';

/** The Theta suite (SPEC.md draft 0.2). */
export const suite: ProtocolSuite<ThetaProfile> = {
  ...monitorSuite,
  title: 'Theta session (FlatBuffers handshake, heartbeats, replication and assets over QUIC)',
  transport: 'quic',
  alpn: 'theta',
  fastProfile,
  connectOptions: (p) => ({ alpn: [p.alpn], idleTimeoutMs: quicIdleTimeoutMs(p) }),
  probe: thetaProbe,
  cases: [...streamCases, ...frameCases, ...handshakeCases, ...ackCases, ...heartbeatCases, ...replicationCases, ...assetCases, ...closingCases],
  frameSchema,
  encodeFrame: encodeFixtureFrame,
  decodeFrames: decodeFixtureFrames,
  fuzz: thetaFuzz,
};
