/**
 * What Theta gives the fuzzer (harness/fuzz/types.ts `FuzzSupport`): the
 * generators, loaded (with fast-check) only when a campaign asks for them,
 * the model's coverage labels, and the rule a failed liveness check is
 * reported under: THETA-3.1 (the suite's probe, a valid SessionHello
 * acknowledged on a fresh connection). The suite's index
 * (suites/theta/index.ts) exposes it as `suite.fuzz`.
 */
import type { FuzzSupport } from '../../../harness/fuzz/types.js';
import { COVERAGE_LABELS } from '../model.js';
import type { ThetaProfile } from '../profile.js';

/** Rule of a failed liveness probe after a fuzz program (SPEC THETA-3.1). */
export const LIVENESS_RULE = 'THETA-3.1';

/** Theta's fuzz support. */
export const thetaFuzz: FuzzSupport<ThetaProfile> = {
  arbitraries: async (profile) => (await import('../arbitraries.js')).thetaArbitraries(profile),
  coverageLabels: COVERAGE_LABELS,
  livenessRule: LIVENESS_RULE,
};
