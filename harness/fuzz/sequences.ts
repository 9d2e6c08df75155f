/**
 * Model-based sequences (`fc.commands`) over a protocol's program builder
 * (builder.ts): the builder, whose state is the model's prediction, is
 * fast-check's model; there is no real system at generation time (the
 * compiled program runs later, as any fuzz program). Each command's
 * `check` asks the builder whether it applies now and `run` appends its
 * steps. A command list is compiled eagerly (inside `map`), so fast-check's
 * command shrinker, which keeps only the commands that ran, sees the same
 * preconditions on replay: a seed and a path reproduce a counterexample.
 * Used by suites/proton/fuzz/sequences.ts and suites/theta/fuzz/sequences.ts.
 */
import fc from 'fast-check';
import type { FuzzProgram } from './types.js';

/** A builder that records the names of the commands that ran (`name`, or `name!` for a deviation). */
interface Recording {
  ran?: string[];
}

/**
 * A command from its name, precondition and steps. A `deviation` is an
 * operation the SPEC gives a verdict to other than "conforming" (its name
 * is listed with a `!` in the program's description).
 */
export function sequenceCommand<M extends object>(name: string, deviation: boolean, check: (m: M) => boolean, run: (m: M) => void): fc.Command<M, Record<string, never>> {
  const label = deviation ? `${name}!` : name;
  return {
    check,
    run: (m) => {
      run(m);
      (m as Recording).ran?.push(label);
    },
    toString: () => label,
  };
}

/**
 * Runs `cmds` against `builder` (fresh, with whatever set-up steps the
 * caller already appended) and returns the names of the commands that ran
 * and a one-sentence description of them for the program (`Runs 3
 * operations (1 deviation) after a handshake: a, b!, c.`, or `Runs a
 * handshake and no operation.`).
 * @param after what the caller's set-up did (e.g. `a handshake`), if anything.
 */
export function runSequence<M extends object>(builder: M, cmds: Iterable<fc.Command<M, Record<string, never>>>, after?: string): { readonly ran: readonly string[]; readonly description: string } {
  const ran: string[] = [];
  (builder as Recording).ran = ran;
  try {
    fc.modelRun(() => ({ model: builder, real: {} }), cmds);
  } finally {
    delete (builder as Recording).ran;
  }
  const deviations = ran.filter((r) => r.endsWith('!')).length;
  const description = ran.length
    ? `Runs ${ran.length} operation${ran.length > 1 ? 's' : ''} (${deviations} deviation${deviations === 1 ? '' : 's'})${after ? ` after ${after}` : ''}: ${ran.join(', ')}.`
    : `Runs ${after ? `${after} and ` : ''}no operation.`;
  return { ran, description };
}

/**
 * The `sequences` generator of a protocol: `fc.commands` over valid
 * operations (three times as often) and deviations, at most `maxCommands`,
 * each list compiled eagerly against a fresh builder from `start` (which
 * appends the set-up steps, described by `after`) into a program.
 */
export function sequencePrograms<M extends { build(description: string): FuzzProgram }>(
  valid: fc.Arbitrary<fc.Command<M, Record<string, never>>>,
  deviation: fc.Arbitrary<fc.Command<M, Record<string, never>>>,
  maxCommands: number,
  start: () => M,
  after?: string,
): fc.Arbitrary<FuzzProgram> {
  const one = fc.oneof({ arbitrary: valid, weight: 3 }, { arbitrary: deviation, weight: 1 });
  return fc.commands([one], { maxCommands }).map((cmds) => {
    const b = start();
    return b.build(runSequence(b, cmds, after).description);
  });
}
