/**
 * Theta's fuzz generators (harness/fuzz): written once, next to the model,
 * and used by the engine through `suite.fuzz` (suite index), which loads
 * this module, and fast-check with it, only when a campaign starts. Each
 * program is a fixture script whose steps name themselves, built with the
 * model's prediction of what a conforming server does (fuzz/program.ts).
 *
 * - `malformed-flatbuffers` (fuzz/malformed.ts, fuzz/flatbuffers.ts):
 *   structure-aware FlatBuffers mutation of control messages built by the
 *   official runtime (offsets out of bounds or misaligned, vtable
 *   corruption, vector lengths that lie, a missing NUL, union type/value
 *   mismatch, a wrong identifier, …), as the first frame or after the
 *   handshake (SPEC THETA-2.3);
 * - `handshake-fields` (fuzz/handshake.ts): field-level mutation of valid
 *   SessionHellos (version, hash, key and nonce lengths, capabilities),
 *   one to three sessions, concurrent or not (§ 3, § 4), then a heartbeat,
 *   replication and an asset;
 * - `frame-lengths` (fuzz/frames.ts): length fields that lie on every
 *   stream, before and after the handshake, and on streams Theta does not
 *   use (§ 1, § 2);
 * - `sequences` (fuzz/sequences.ts): `fc.commands` over the model:
 *   heartbeat timing and echo sequences with replication, assets, FINs,
 *   closes, and deviations (§ 3, § 5–§ 8).
 */
import type fc from 'fast-check';
import type { FuzzProgram } from '../../harness/fuzz/types.js';
import { frameLengths } from './fuzz/frames.js';
import { handshakeFields } from './fuzz/handshake.js';
import { malformedFlatBuffers } from './fuzz/malformed.js';
import { sequences } from './fuzz/sequences.js';
import type { ThetaProfile } from './profile.js';

export { ThetaProgramBuilder } from './fuzz/program.js';

/** The Theta generators for a profile, by name. */
export function thetaArbitraries(profile: ThetaProfile): Readonly<Record<string, fc.Arbitrary<FuzzProgram>>> {
  return {
    'malformed-flatbuffers': malformedFlatBuffers(profile),
    'handshake-fields': handshakeFields(profile),
    'frame-lengths': frameLengths(profile),
    sequences: sequences(profile),
  };
}
