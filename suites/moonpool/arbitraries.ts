/**
 * Moonpool's fuzz generators (harness/fuzz): written once, next to the
 * model, and used by the engine through `suite.fuzz` (suite index), which
 * loads this module, and fast-check with it, only when a campaign starts. Each program is a
 * fixture script whose steps name themselves, built with the model's
 * prediction of what a conforming server does (fuzz/program.ts), over one
 * TCP byte stream per connection.
 *
 * - `malformed-envelopes` (fuzz/malformed.ts): truncated and extended
 *   envelopes, length fields that lie (larger or smaller than the payload,
 *   the maximum with a short payload, over `maxPayloadBytes`, huge u32
 *   values), oversized and maximum-size payloads, bit flips in the header or
 *   payload, coalesced with valid envelopes, split at every byte boundary or
 *   at chosen offsets, ended by FIN, a close or an RST mid-frame, completion
 *   (after a silence), a silence around a timer or a PING right after
 *   (SPEC §2, §4–§7);
 * - `correlation-ids` (fuzz/ids.ts): duplicate ids in flight, ids reused
 *   after their replies, edge u64 ids, the same ids on two connections at
 *   once (§3);
 * - `sequences` (fuzz/sequences.ts): `fc.commands` over the model: valid
 *   requests and pings interleaved with deviations and silences around the
 *   profile's timers (reply deadline, stall, idle timeout) (all sections).
 */
import type fc from 'fast-check';
import type { FuzzProgram } from '../../harness/fuzz/types.js';
import { correlationIds } from './fuzz/ids.js';
import { malformedEnvelopes } from './fuzz/malformed.js';
import { sequences } from './fuzz/sequences.js';
import type { MoonpoolProfile } from './profile.js';

export { MoonpoolProgramBuilder, SETTLE_WITHIN } from './fuzz/program.js';

/** The Moonpool generators for a profile, by name. */
export function moonpoolArbitraries(profile: MoonpoolProfile): Readonly<Record<string, fc.Arbitrary<FuzzProgram>>> {
  return {
    'malformed-envelopes': malformedEnvelopes(profile),
    'correlation-ids': correlationIds(profile),
    sequences: sequences(profile),
  };
}
