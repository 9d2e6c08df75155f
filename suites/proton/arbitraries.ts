/**
 * Proton's fuzz generators (harness/fuzz): written once, next to the model,
 * and used by the engine through `suite.fuzz` (suite index), which loads
 * this module, and fast-check with it, only when a campaign starts. Each program is a fixture
 * script whose steps name themselves, built with the model's prediction of
 * what a conforming server does (fuzz/program.ts).
 *
 * - `malformed-frames` (fuzz/malformed.ts): truncated, extended, oversized
 *   and bit-flipped frames, split at every byte boundary or coalesced,
 *   ended by FIN, RESET_STREAM, STOP_SENDING, a close or a wait past the
 *   receive timeout (SPEC §1.3, §4–§7);
 * - `discriminators` (fuzz/discriminators.ts): every byte value, a valid one
 *   twice, streams opened in one order and identified in another, silent
 *   streams around the identification timeout (§3, §9);
 * - `sequences` (fuzz/sequences.ts): `fc.commands` over the model: valid
 *   operations interleaved with deviations, waits around every timer (all
 *   sections).
 */
import type fc from 'fast-check';
import type { FuzzProgram } from '../../harness/fuzz/types.js';
import { discriminators } from './fuzz/discriminators.js';
import { malformedFrames } from './fuzz/malformed.js';
import { sequences } from './fuzz/sequences.js';
import type { ProtonProfile } from './profile.js';

export { ProtonProgramBuilder } from './fuzz/program.js';

/** The Proton generators for a profile, by name. */
export function protonArbitraries(profile: ProtonProfile): Readonly<Record<string, fc.Arbitrary<FuzzProgram>>> {
  return {
    'malformed-frames': malformedFrames(profile),
    discriminators: discriminators(profile),
    sequences: sequences(profile),
  };
}
