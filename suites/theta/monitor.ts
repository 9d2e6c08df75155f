/**
 * The Theta monitor: the model in monitor mode behind the engine's generic
 * {@link Monitor} interface (harness/engine/types.ts).
 */
import type { Monitor } from '../../harness/engine/types.js';
import { ThetaModel } from './model.js';
import type { ThetaProfile } from './profile.js';

/** Creates a monitor that checks a trace against SPEC.md with the given profile. */
export function createThetaMonitor(profile: ThetaProfile): Monitor {
  const model = new ThetaModel(profile, 'monitor');
  return {
    feed: (ev, index) => model.feed(ev, index),
    advance: (t) => model.advance(t),
    nextDeadline: () => model.nextDeadline(),
    settled: () => model.settled(),
    describe: () => model.describe(),
    decoded: () => model.decoded(),
    coverage: () => model.coverage(),
  };
}
