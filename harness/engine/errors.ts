/**
 * Error kinds the CLI maps to exit codes. Local misuse (bad flags, bad
 * files) is a {@link UsageError} (exit 2); any other error is target or
 * harness trouble (exit 3; the target's misbehaviour itself is a result,
 * never an error).
 */

/** Exit codes of `wirecheck` (README "Exit codes"). */
export const ExitCode = {
  /** Every case passed (non-strict and skipped allowed). */
  OK: 0,
  /** At least one case failed or timed out. */
  FAILURES: 1,
  /** Bad usage or input: unknown flag, bad URL, invalid profile. */
  USAGE: 2,
  /** Target unreachable, or a harness error. */
  TARGET: 3,
} as const;

/** A user's input was wrong: a flag, a URL, a file. The message names what and where. */
export class UsageError extends Error {
  readonly code = 'USAGE' as const;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Message of any thrown value, without a stack trace. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error && !err.message.includes(err.cause.message) ? `: ${err.cause.message}` : '';
    return `${err.message}${cause}`;
  }
  return String(err);
}
