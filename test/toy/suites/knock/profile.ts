/** Knock's profile (SPEC.md): its timers (ms). */
export interface KnockProfile {
  /** A welcome or a pong is owed within this (KNOCK-1.1, 2.1). */
  readonly answerDeadlineMs: number;
  /** A connection with no complete knock is closed after this (KNOCK-3.2). */
  readonly knockTimeoutMs: number;
  /** Timing tolerance of KNOCK-3.2. */
  readonly toleranceMs: number;
}

export const defaultProfile: KnockProfile = { answerDeadlineMs: 500, knockTimeoutMs: 1_000, toleranceMs: 200 };
export const fastProfile: KnockProfile = { answerDeadlineMs: 300, knockTimeoutMs: 600, toleranceMs: 150 };

/** JSON Schema (2020-12) of a Knock profile file. */
export const profileSchema: object = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  additionalProperties: false,
  properties: {
    answerDeadlineMs: { type: 'integer', minimum: 1 },
    knockTimeoutMs: { type: 'integer', minimum: 1 },
    toleranceMs: { type: 'integer', minimum: 0 },
  },
};
