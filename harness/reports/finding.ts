/** Helpers on findings shared by the reporters (kept free of heavy imports). */
import type { CaseFinding, Violation } from '../engine/types.js';

/**
 * True when the finding is a monitor {@link Violation} (it has a trace
 * position: `index`, `t`, `state`, `missing`) rather than a case's own
 * {@link CaseFinding}.
 */
export function isViolation(v: Violation | CaseFinding): v is Violation {
  return 'index' in v;
}
