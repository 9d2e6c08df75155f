/**
 * Aura target profile (SPEC §16): which choreography, which roles the target
 * plays, and the timers of the wire. Every field is also a flag of `serve`
 * and `run` (`--choreography FILE --roles R1,R2`).
 */

/** Timers (ms) and choices of an Aura target. */
export interface AuraProfile {
  /** ALPN id (PROTOCOLS: `aura`). */
  readonly alpn: string;
  /** The choreography file (`.aura`, or a Scribble/nuScr global protocol); a relative path is read from the working directory, else from the project root. */
  readonly choreography: string;
  /** The roles the target plays, comma-separated (the harness plays the others). */
  readonly roles: string;
  /** Session params (PROTOCOLS start frame) as a JSON object, e.g. `{"max_rounds": 3}`: numbers bound `for` loops. */
  readonly params: string;
  /** Replaces every `timeout(d)` duration of the choreography (ms); 0 keeps them as written. */
  readonly timeoutMs: number;
  /** A message the target owes must come within this, after the last message (plus the timeout when one is running) (AURA-16.6). */
  readonly replyDeadlineMs: number;
  /** A message that crossed a `$fail` within this window is dropped, not a violation (AURA-9.2). */
  readonly crossingMs: number;
  /** Iterations of each loop in the generated paths (AURA-7). */
  readonly loopBound: number;
  /** Most generated path cases (deviation cases come on top, at most as many). */
  readonly maxPaths: number;
  /** Seed of the reference roles' random decisions (and of the fuzzer's defaults). */
  readonly seed: number;
  /** Timing tolerance around every deadline the harness checks. */
  readonly toleranceMs: number;
}

/** Defaults: the seed's two-phase commit, the target as the Participant, timeouts as written. */
export const defaultProfile: AuraProfile = {
  alpn: 'aura',
  choreography: 'fixtures/aura/seed/TwoPhaseCommit.aura',
  roles: 'Participant',
  params: '{}',
  timeoutMs: 0,
  replyDeadlineMs: 2_000,
  crossingMs: 200,
  loopBound: 2,
  maxPaths: 32,
  seed: 1,
  toleranceMs: 250,
};

/** Short timers for in-process runs and CI. */
export const fastProfile: AuraProfile = { ...defaultProfile, timeoutMs: 300, replyDeadlineMs: 500, crossingMs: 150, toleranceMs: 150 };

/** JSON Schema (2020-12) of an Aura profile. */
export const profileSchema: object = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'Aura target profile',
  type: 'object',
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    alpn: { type: 'string', minLength: 1, description: 'ALPN id' },
    choreography: { type: 'string', minLength: 1, description: 'choreography file (.aura or Scribble/nuScr)' },
    roles: { type: 'string', minLength: 1, description: 'roles the target plays, comma-separated' },
    params: { type: 'string', description: 'session params, a JSON object' },
    timeoutMs: { type: 'integer', minimum: 0, description: 'replaces every timeout(d) duration (ms; 0: as written)' },
    replyDeadlineMs: { type: 'integer', minimum: 1, description: 'an owed message must come within this (ms)' },
    crossingMs: { type: 'integer', minimum: 0, description: 'window in which a message crossing a $fail is dropped (ms)' },
    loopBound: { type: 'integer', minimum: 0, maximum: 8, description: 'iterations of each loop in generated paths' },
    maxPaths: { type: 'integer', minimum: 1, maximum: 1000, description: 'most generated path cases' },
    seed: { type: 'integer', minimum: 0, description: 'seed of the reference roles\u2019 random decisions' },
    toleranceMs: { type: 'integer', minimum: 0, description: 'timing tolerance (ms)' },
  },
};

/** The target's roles, from the profile's comma-separated list. */
export function targetRoles(p: AuraProfile): string[] {
  return p.roles.split(',').map((r) => r.trim()).filter(Boolean);
}

/**
 * The session params of a profile.
 * @throws RangeError when `params` is not a JSON object
 */
export function sessionParams(p: AuraProfile): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(p.params || '{}');
  } catch (e) {
    throw new RangeError(`profile field params: not JSON (${(e as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new RangeError('profile field params: must be a JSON object');
  return v as Record<string, unknown>;
}
