/**
 * Deliberate faults of the Aura reference roles (SPEC §16): each one a
 * conforming target core (suites/aura/runtime/target-core.ts) with its
 * messages rewritten or its role machines misconfigured, so that the
 * generated suite can be shown to catch it.
 */
import type { ReferenceFault } from '../../harness/engine/reference.js';
import type { AuraProfile } from '../../suites/aura/profile.js';
import type { RuntimeMessage } from '../../suites/aura/runtime/role.js';
import type { SessionEditState, TargetCoreOptions } from '../../suites/aura/runtime/target-core.js';
import { wrongValue } from '../../suites/aura/runtime/values.js';
import type { AuraCheck } from '../../suites/aura/language.js';
import { fieldsOfMessage } from '../../suites/aura/runtime/fields.js';

/** How a fault changes the target core's options. */
export type CoreTweak = (base: TargetCoreOptions, check: AuraCheck) => TargetCoreOptions;

/** An Aura fault: a description and the tweak of the core (index.ts builds the core). */
export interface AuraFault extends Omit<ReferenceFault<AuraProfile>, 'create'> {
  readonly tweak: CoreTweak;
}

const edit = (f: (msgs: RuntimeMessage[], s: SessionEditState, check: AuraCheck) => RuntimeMessage[]): CoreTweak => (base, check) => ({ ...base, edit: (msgs, s) => f(msgs, s, check) });

/** The faults, by name. */
export const auraFaults: Readonly<Record<string, AuraFault>> = {
  'wrong-label': {
    description: 'its first message carries a label the choreography does not have there (AURA-13.1)',
    tweak: edit((msgs, s) => msgs.map((m) => (s.mark === 0 && (s.mark = 1) ? { ...m, label: `${m.label}Wrong` } : m))),
  },
  'wrong-order': {
    description: 'sends the first two messages it has ready at once in the wrong order (AURA-13.1)',
    tweak: edit((msgs, s) => {
      if (s.mark !== 0 || msgs.length < 2) return msgs;
      s.mark = 1;
      return [msgs[1]!, msgs[0]!, ...msgs.slice(2)];
    }),
  },
  'skip-message': {
    description: 'never sends its first message (AURA-16.6: an owed message does not come)',
    tweak: edit((msgs, s) => msgs.filter(() => !(s.mark === 0 && (s.mark = 1)))),
  },
  'wrong-field-type': {
    description: 'sends a payload field with a value its declared type does not allow (AURA-16.5)',
    tweak: edit((msgs, s, check) => msgs.map((m) => {
      if (s.mark !== 0) return m;
      const f = fieldsOfMessage(check, m).find((x) => wrongValue(x.type) !== undefined);
      if (!f) return m;
      s.mark = 1;
      return { ...m, payload: { ...m.payload, [f.name]: wrongValue(f.type) } };
    })),
  },
  'late-reply': {
    description: 'answers a request that a peer observes with a timeout only after the timeout (AURA-9.1, 9.2)',
    tweak: (base) => ({ ...base, machine: { ...base.machine, lateMs: 100 } }),
  },
  'no-compensation': {
    description: 'after a $fail it sends nothing: the compensation never runs (AURA-10.2, 16.6)',
    tweak: edit((msgs, s) => (s.failSeen ? [] : msgs)),
  },
  'compensation-wrong-order': {
    description: 'after a $fail it runs the compensation in the wrong order (AURA-10.4, 13.1)',
    tweak: edit((msgs, s) => (s.failSeen && msgs.length >= 2 && s.mark === 0 && (s.mark = 1) ? [...msgs].reverse() : msgs)),
  },
  'wrong-chooser': {
    description: 'at a choice it should be told about, it picks a branch itself and acts first (AURA-5.1)',
    tweak: (base) => ({ ...base, machine: { ...base.machine, chooseWhenTold: true } }),
  },
};
