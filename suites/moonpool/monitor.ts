/**
 * The Moonpool monitor: the model in monitor mode behind the engine's
 * generic {@link Monitor} interface (harness/engine/types.ts).
 */
import type { Monitor } from '../../harness/engine/types.js';
import { MoonpoolModel } from './model.js';
import type { MoonpoolProfile } from './profile.js';

/** Creates a monitor that checks a trace against SPEC.md with the given profile. */
export function createMoonpoolMonitor(profile: MoonpoolProfile): Monitor {
  const model = new MoonpoolModel(profile, 'monitor');
  return {
    feed: (ev, index) => model.input(ev, index),
    advance: (t) => model.advance(t),
    nextDeadline: () => model.nextDeadline(),
    settled: () => model.settled(),
    describe: () => model.describe(),
    coverage: () => model.coverage(),
  };
}
