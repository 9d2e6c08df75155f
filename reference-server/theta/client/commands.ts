/**
 * The Theta REPL's command language (pure: no I/O, no clock), with the
 * Proton REPL's conventions (reference-server/proton/client/commands.ts):
 * `;` chains commands, a leading integer repeats one (`3 replicate hi`),
 * `#` starts a comment, names are case-insensitive, a line is rejected
 * whole on its first bad segment.
 *
 * Commands:
 * - `connect [cap …]`: connect, handshake (asking for the capability ids
 *   given, default the profile's server capabilities) and start
 *   heartbeats;
 * - `status`: the diagnostics (RTT, jitter, packets sent/received, as the
 *   seed's TransportDiagnostics);
 * - `watch <secs>`: the diagnostics once per heartbeat interval for `secs`;
 * - `replicate <text>`: one replication frame (the text's UTF-8 bytes), and
 *   its echo checked;
 * - `upload <file> [frame-bytes]`, `upload_random <bytes> [frame-bytes]`:
 *   an asset in frames of `frame-bytes` (default 64 KiB), then FIN, and the
 *   returned SHA-256 checked;
 * - `heartbeat on|off`: start or stop sending heartbeats (to see the
 *   server's timeout, THETA-5.6);
 * - `sleep <secs>`, `close`, `help`, `exit`.
 */

import { isReplParseError, commandCompletions, completeCommandName, parseCommandLine, replParseError, splitRepeat, type ReplParseError } from '../../../harness/engine/repl.js';

/** Names of the REPL commands, in the order `help` lists them. */
export const COMMAND_NAMES = ['connect', 'status', 'watch', 'replicate', 'upload', 'upload_random', 'heartbeat', 'sleep', 'close', 'help', 'exit'] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

/** Largest number of seconds `watch` and `sleep` accept (one day). */
export const MAX_SECS = 86_400;
/** Default asset frame size (bytes). */
export const DEFAULT_FRAME_BYTES = 64 * 1024;
/** Largest `upload_random` size (bytes): 1 GiB. */
export const MAX_UPLOAD_BYTES = 1 << 30;

/** One command with its validated arguments (seconds, bytes, capability ids in [0, 65535]). */
export type Command =
  | { readonly name: 'connect'; readonly capabilities: readonly number[] | undefined }
  | { readonly name: 'status' }
  | { readonly name: 'watch'; readonly secs: number }
  | { readonly name: 'replicate'; readonly text: string }
  | { readonly name: 'upload'; readonly file: string; readonly frameBytes: number }
  | { readonly name: 'upload_random'; readonly bytes: number; readonly frameBytes: number }
  | { readonly name: 'heartbeat'; readonly on: boolean }
  | { readonly name: 'sleep'; readonly secs: number }
  | { readonly name: 'close' }
  | { readonly name: 'help' }
  | { readonly name: 'exit' };

/** A command as parsed: the command, its repeat count (≥ 1) and its source segment. */
export type ParsedCommand = Command & { readonly repeat: number; readonly source: string };

/** Why a line was rejected; `segment` is the offending `;`-separated part. */
export type ParseError = ReplParseError;

/** True when {@link parseLine} rejected the line. */
export function isParseError(r: ParsedCommand[] | ParseError): r is ParseError {
  return isReplParseError(r);
}

const NUMBER = /^(?:\d+(?:\.\d*)?|\.\d+)$/;
const INTEGER = /^\d+$/;

const fail = replParseError;

function secsOf(cmd: string, text: string | undefined): number | string {
  if (text === undefined || !NUMBER.test(text)) return `${cmd}: expected a non-negative number of seconds, got ${JSON.stringify(text ?? '')}`;
  const n = Number(text);
  return n > MAX_SECS ? `${cmd}: at most ${MAX_SECS} seconds, got ${text}` : n;
}

/** A byte count: an integer with an optional `k`/`m` (KiB, MiB) suffix, in [min, max]. */
function bytesOf(cmd: string, what: string, text: string, min: number, max: number): number | string {
  const m = /^(\d+)([km]i?b?)?$/i.exec(text);
  const n = m ? Number(m[1]) * (m[2] === undefined ? 1 : m[2][0]!.toLowerCase() === 'k' ? 1024 : 1024 * 1024) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) return `${cmd}: ${what} must be a byte count in [${min}, ${max}] (e.g. 2m, 64k, 1000), got ${JSON.stringify(text)}`;
  return n;
}

function parseSegment(segment: string): ParsedCommand | ParseError {
  const split = splitRepeat(segment, 'replicate hi');
  if (isReplParseError(split)) return split;
  const { repeat } = split;
  const words = split.rest.split(/\s+/);
  const name = words[0]!.toLowerCase();
  const args = words.slice(1);
  if (!(COMMAND_NAMES as readonly string[]).includes(name)) return fail(segment, `unknown command ${JSON.stringify(words[0])}; known commands: ${COMMAND_NAMES.join(', ')}`);
  const base = { repeat, source: segment };
  const arity = (min: number, max: number, usage: string): ParseError | undefined =>
    args.length < min || args.length > max ? fail(segment, `${name}: expected "${usage}", got ${JSON.stringify(segment)}`) : undefined;
  switch (name as CommandName) {
    case 'connect': {
      const caps: number[] = [];
      for (const a of args.flatMap((x) => x.split(',')).filter((x) => x !== '')) {
        if (!INTEGER.test(a) || Number(a) > 0xffff) return fail(segment, `connect: capability ids are integers in [0, 65535], got ${JSON.stringify(a)}`);
        caps.push(Number(a));
      }
      return { ...base, name: 'connect', capabilities: args.length ? caps : undefined };
    }
    case 'watch':
    case 'sleep': {
      const bad = arity(1, 1, `${name} <secs>`);
      if (bad) return bad;
      const secs = secsOf(name, args[0]);
      return typeof secs === 'string' ? fail(segment, secs) : { ...base, name: name as 'watch' | 'sleep', secs };
    }
    case 'replicate': {
      if (args.length === 0) return fail(segment, 'replicate: expected "replicate <text>"');
      return { ...base, name: 'replicate', text: segment.replace(/^\s*(?:\d+\s+)?\S+\s+/, '') };
    }
    case 'upload':
    case 'upload_random': {
      const bad = arity(1, 2, `${name} ${name === 'upload' ? '<file>' : '<bytes>'} [frame-bytes]`);
      if (bad) return bad;
      const frame = args[1] === undefined ? DEFAULT_FRAME_BYTES : bytesOf(name, 'the frame size', args[1], 1, 16 * 1024 * 1024);
      if (typeof frame === 'string') return fail(segment, frame);
      if (name === 'upload') return { ...base, name, file: args[0]!, frameBytes: frame };
      const n = bytesOf(name, 'the asset size', args[0]!, 0, MAX_UPLOAD_BYTES);
      return typeof n === 'string' ? fail(segment, n) : { ...base, name: 'upload_random', bytes: n, frameBytes: frame };
    }
    case 'heartbeat': {
      const bad = arity(1, 1, 'heartbeat on|off');
      if (bad) return bad;
      const a = args[0]!.toLowerCase();
      if (a !== 'on' && a !== 'off') return fail(segment, `heartbeat: expected on or off, got ${JSON.stringify(args[0])}`);
      return { ...base, name: 'heartbeat', on: a === 'on' };
    }
    default: {
      const bad = arity(0, 0, name);
      return bad ?? { ...base, name: name as 'status' | 'close' | 'help' | 'exit' };
    }
  }
}

/**
 * Parses one input line into the commands to run, in order (see the module
 * docstring). Returns the commands (empty for a blank or comment-only line)
 * or a {@link ParseError} naming the segment and the problem.
 */
export function parseLine(line: string): ParsedCommand[] | ParseError {
  return parseCommandLine(line, parseSegment);
}

/** Command names starting with `prefix` (case-insensitive). */
export function completions(prefix: string): string[] {
  return commandCompletions(COMMAND_NAMES, prefix);
}

/** A `node:readline` completer: completes the command name of the last `;` segment. */
export function completeLine(line: string): [string[], string] {
  return completeCommandName(COMMAND_NAMES, line);
}
