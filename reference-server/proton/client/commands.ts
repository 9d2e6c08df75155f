/**
 * The Proton REPL's command language (pure: no I/O, no clock).
 *
 * Source: the seed's "Testing with REPL" section
 * (shared/seeds/000_03a81090c55d4a0c.txt): commands `connect [secs]`,
 * `send_event`, `commit <id>`, `read_action`, `close`, `sleep <secs>`,
 * `reset`, `help`, `exit`; chaining with `;` ("Commands can be chained with
 * semicolons"); a repeat prefix ("Commands can be prefixed with a number to
 * repeat them", e.g. `3 send_event`). Additions: `#` starts a comment (the
 * seed's own examples annotate lines that way), command names are
 * case-insensitive, `commit` also takes `0x` hex ids.
 */

import { isReplParseError, MAX_REPEAT, commandCompletions, completeCommandName, parseCommandLine, replParseError, splitRepeat, type ReplParseError } from '../../../harness/engine/repl.js';

/** Names of the REPL commands, in the order `help` lists them (seed "Available commands"). */
export const COMMAND_NAMES = ['connect', 'send_event', 'commit', 'read_action', 'close', 'sleep', 'reset', 'help', 'exit'] as const;

/** A REPL command name. */
export type CommandName = (typeof COMMAND_NAMES)[number];

/** Largest number of seconds `connect` and `sleep` accept (one day). */
export const MAX_SECS = 86_400;

/** Largest commit id: items are 4-byte unsigned integers (PROTON-1.3). */
const MAX_ID = 0xffff_ffff;

/**
 * One command, with its validated arguments:
 * - `connect`: `delaySecs` is the startup delay to wait first (seconds, ≥ 0),
 *   or undefined for the default (PROTON-2.5);
 * - `commit`: `id` is the StateCommit request, an integer in [0, 2^32) (PROTON-5.1);
 * - `sleep`: `secs` seconds (≥ 0).
 */
export type Command =
  | { readonly name: 'connect'; readonly delaySecs: number | undefined }
  | { readonly name: 'send_event' }
  | { readonly name: 'commit'; readonly id: number }
  | { readonly name: 'read_action' }
  | { readonly name: 'close' }
  | { readonly name: 'sleep'; readonly secs: number }
  | { readonly name: 'reset' }
  | { readonly name: 'help' }
  | { readonly name: 'exit' };

/**
 * A command as parsed from a line: the command, how many times to run it
 * (`repeat` ≥ 1, from the `N cmd` prefix; 1 without one) and its source text
 * (the trimmed `;`-separated segment, for messages).
 */
export type ParsedCommand = Command & { readonly repeat: number; readonly source: string };

/** Why a line was rejected. `segment` is the offending `;`-separated part (trimmed). */
export type ParseError = ReplParseError;

/** True when {@link parseLine} rejected the line. */
export function isParseError(r: ParsedCommand[] | ParseError): r is ParseError {
  return !Array.isArray(r);
}

const NUMBER = /^(?:\d+(?:\.\d*)?|\.\d+)$/;
const INTEGER = /^\d+$/;
const HEX = /^0x[0-9a-f]+$/i;

function isCommandName(s: string): s is CommandName {
  return (COMMAND_NAMES as readonly string[]).includes(s);
}

const fail = replParseError;

/** Parses seconds (non-negative decimal, at most {@link MAX_SECS}); returns a message when invalid. */
function parseSecs(cmd: string, what: string, text: string): number | string {
  if (!NUMBER.test(text)) return `${cmd}: ${what} must be a non-negative number of seconds, got ${JSON.stringify(text)}`;
  const n = Number(text);
  if (!Number.isFinite(n) || n > MAX_SECS) return `${cmd}: ${what} must be at most ${MAX_SECS} seconds, got ${text}`;
  return n;
}

/** Parses a commit id (decimal or 0x hex) in [0, 2^32); returns a message when invalid. */
function parseId(text: string): number | string {
  const n = INTEGER.test(text) ? Number(text) : HEX.test(text) ? Number.parseInt(text.slice(2), 16) : NaN;
  if (!Number.isSafeInteger(n) || n > MAX_ID) {
    return `commit: id must be an integer in [0, 2^32) (a 4-byte item, PROTON-1.3), got ${JSON.stringify(text)}`;
  }
  return n;
}

/** Parses one `;`-separated segment (non-empty, trimmed). */
function parseSegment(segment: string): ParsedCommand | ParseError {
  const split = splitRepeat(segment, 'send_event');
  if (isReplParseError(split)) return split;
  const { repeat } = split;
  const words = split.rest.split(/\s+/);
  const name = words[0]!.toLowerCase();
  const args = words.slice(1);
  if (!isCommandName(name)) {
    return fail(segment, `unknown command ${JSON.stringify(words[0])}; known commands: ${COMMAND_NAMES.join(', ')}`);
  }
  const arity = (min: number, max: number, usage: string): ParseError | undefined =>
    args.length < min || args.length > max ? fail(segment, `${name}: expected ${usage}, got ${JSON.stringify(segment)}`) : undefined;
  const base = { repeat, source: segment };
  switch (name) {
    case 'connect': {
      const bad = arity(0, 1, '"connect [secs]"');
      if (bad) return bad;
      if (args.length === 0) return { ...base, name, delaySecs: undefined };
      const secs = parseSecs(name, 'the startup delay', args[0]!);
      return typeof secs === 'string' ? fail(segment, secs) : { ...base, name, delaySecs: secs };
    }
    case 'commit': {
      const bad = arity(1, 1, '"commit <id>"');
      if (bad) return bad;
      const id = parseId(args[0]!);
      return typeof id === 'string' ? fail(segment, id) : { ...base, name, id };
    }
    case 'sleep': {
      const bad = arity(1, 1, '"sleep <secs>"');
      if (bad) return bad;
      const secs = parseSecs(name, 'the duration', args[0]!);
      return typeof secs === 'string' ? fail(segment, secs) : { ...base, name, secs };
    }
    default: {
      const bad = arity(0, 0, `"${name}" with no arguments`);
      return bad ?? { ...base, name };
    }
  }
}

/**
 * Parses one input line into the commands to run, in order.
 *
 * - `;` separates commands; empty segments are skipped (`a;;b;` is `a; b`).
 * - `#` starts a comment that runs to the end of the line.
 * - A leading integer is a repeat count in [1, {@link MAX_REPEAT}]: `3 send_event`.
 * - Arguments: `connect [secs]` and `sleep <secs>` take a non-negative
 *   number of seconds (decimals allowed, at most {@link MAX_SECS});
 *   `commit <id>` an integer in [0, 2^32), decimal or `0x` hex; the others none.
 *
 * The whole line is rejected on the first bad segment, so that nothing of a
 * mistyped chain runs.
 * @returns the commands (empty for a blank or comment-only line), or a
 *   {@link ParseError} naming the segment and the problem (an unknown
 *   command's error lists the known ones).
 */
export function parseLine(line: string): ParsedCommand[] | ParseError {
  return parseCommandLine(line, parseSegment);
}

/** Command names starting with `prefix` (case-insensitive), in {@link COMMAND_NAMES} order. */
export function completions(prefix: string): string[] {
  return commandCompletions(COMMAND_NAMES, prefix);
}

/**
 * A `node:readline` completer over a whole line: completes the command name
 * being typed in the last `;` segment (after an optional repeat count).
 * @returns `[candidates, the word they complete]`; no candidates once the
 *   name is followed by a space (arguments are not completed).
 */
export function completeLine(line: string): [string[], string] {
  return completeCommandName(COMMAND_NAMES, line);
}
