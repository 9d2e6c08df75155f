/**
 * The Proton monitor: the model in monitor mode behind the engine's generic
 * {@link Monitor} interface (harness/engine/types.ts).
 */
import type { Monitor } from '../../harness/engine/types.js';
import { ProtonModel } from './model.js';
import type { ProtonProfile } from './profile.js';

/** Creates a monitor that checks a trace against SPEC.md with the given profile. */
export function createProtonMonitor(profile: ProtonProfile): Monitor {
  const model = new ProtonModel(profile, 'monitor');
  return {
    feed: (ev, index) => model.input(ev, index),
    feedData: (d, index) => model.inputData(d, index),
    advance: (t) => model.advance(t),
    nextDeadline: () => model.nextDeadline(),
    settled: () => model.settled(),
    describe: () => model.describe(),
    decoded: () => model.decoded(),
    coverage: () => model.coverage(),
  };
}
