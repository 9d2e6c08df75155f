/**
 * Aura's reference roles (harness/engine/reference.ts): the role runtime
 * (suites/aura/runtime/) serving the roles a profile names, for the
 * choreography it names, hosted on QUIC. `wirecheck serve aura
 * --choreography FILE --roles R1,R2` serves any well-formed choreography,
 * a user's own included. Decisions are seeded random per session
 * (`seed` xor a hash of the session id); values are typed samples.
 */
import { faultByName, type ReferenceFault, type ReferenceImplementation } from '../../harness/engine/reference.js';
import type { ServerCore } from '../../harness/engine/server-core.js';
import { startReferenceHost } from '../../harness/quic/reference-host.js';
import { profileChoreography } from '../../suites/aura/choreography.js';
import { defaultProfile, type AuraProfile } from '../../suites/aura/profile.js';
import { hash32, randomPolicy } from '../../suites/aura/runtime/policy.js';
import { AuraTargetCore, type TargetCoreOptions } from '../../suites/aura/runtime/target-core.js';
import { auraFaults, type CoreTweak } from './faults.js';

/**
 * The conforming core's options for a profile.
 * @throws RangeError for an unreadable or ill-formed choreography or unknown roles
 */
function coreOptions(profile: AuraProfile): TargetCoreOptions {
  const { check, target } = profileChoreography(profile);
  return {
    check,
    roles: target,
    policyFor: (session) => randomPolicy((profile.seed ^ hash32(session)) >>> 0),
    machine: profile.timeoutMs ? { timeoutMs: profile.timeoutMs } : {},
  };
}

function core(profile: AuraProfile, tweak?: CoreTweak): ServerCore {
  const base = coreOptions(profile);
  return new AuraTargetCore(tweak ? tweak(base, base.check) : base);
}

/** The faults in the engine's shape. */
export const faults: Readonly<Record<string, ReferenceFault<AuraProfile>>> = Object.fromEntries(
  Object.entries(auraFaults).map(([name, f]) => [name, { description: f.description, create: (p: AuraProfile) => core(p, f.tweak) }]),
);

/** Aura's reference implementation. */
export const reference: ReferenceImplementation<AuraProfile> = {
  name: 'aura',
  faults,
  loadClient: async () => (await import('./client/index.js')).runClient,
  createCore(opts) {
    const profile = { ...defaultProfile, ...opts.profile };
    const fault = faultByName(faults, opts.fault);
    return fault ? fault.create(profile) : core(profile);
  },
  async startServer(opts) {
    const profile = { ...defaultProfile, ...opts.profile };
    const c = reference.createCore({ profile, ...(opts.fault !== undefined ? { fault: opts.fault } : {}) });
    const { host, certPem } = await startReferenceHost(opts, {
      alpn: [profile.alpn],
      core: c,
    });
    return { host: host.host, port: host.port, certPem, stop: () => host.stop() };
  },
};
