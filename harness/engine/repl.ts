/**
 * The REPL loop every reference client shares (`wirecheck client NAME`),
 * with the conventions of the seed's "Testing with REPL" section
 * (shared/seeds/000_03a81090c55d4a0c.txt): `;` chains commands, a leading
 * integer repeats one, `#` starts a comment.
 *
 * - `exec`: every line is parsed first (nothing runs when one does not
 *   parse: exit 2), then run, each echoed after the prompt.
 * - Otherwise lines come from `input` (default stdin). On a TTY: the
 *   prompt, tab completion, history in a file (best effort); lines printed
 *   between commands appear above the prompt, which is redrawn. Piped
 *   input runs like `exec`, each line echoed after the prompt.
 *
 * The protocol supplies the parser, the completer and the client that runs
 * parsed commands; this loop owns input, output, SIGINT and the exit code.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import readline from 'node:readline';
import { Writable } from 'node:stream';
import type { ConnectOptions, Driver } from '../drivers/types.js';
import { forTerminal } from '../reports/terminal.js';
import { errorMessage } from './util.js';

/** Exit codes of {@link runRepl}: 0 every command succeeded, 1 one failed, 2 the `exec` script does not parse. */
export const ReplExit = { OK: 0, FAILED: 1, USAGE: 2 } as const;

/** Lines of history kept. */
const HISTORY_SIZE = 1_000;

/** A line the parser rejected: the message names the segment and the problem. */
export interface ReplParseError {
  readonly kind: 'parse-error';
  readonly message: string;
  readonly segment: string;
}

/** Largest repeat count of the `N cmd` prefix. */
export const MAX_REPEAT = 100_000;

/** A {@link ReplParseError} for `segment`. */
export function replParseError(segment: string, message: string): ReplParseError {
  return { kind: 'parse-error', message, segment };
}

/**
 * Splits a segment's repeat prefix (the seed's REPL convention: `3 send_event`
 * runs `send_event` three times) from its words.
 * @param example a command to suggest when the count stands alone (e.g. `send_event`).
 * @param segment a trimmed, non-empty segment.
 * @param example a command to suggest when the count stands alone (e.g. `send_event`).
 * @returns the count (1 when absent) and the rest of the segment (the command, as typed), or
 *   a {@link ReplParseError} for a count outside [1, {@link MAX_REPEAT}] or without a command.
 */
export function splitRepeat(segment: string, example: string): { readonly repeat: number; readonly rest: string } | ReplParseError {
  const m = /^(\d+)(?:\s+|$)/.exec(segment);
  if (!m) return { repeat: 1, rest: segment };
  const n = Number(m[1]);
  if (n < 1 || n > MAX_REPEAT) return replParseError(segment, `repeat count must be an integer in [1, ${MAX_REPEAT}], got ${m[1]!}`);
  if (m[0].length === segment.length) return replParseError(segment, `repeat count ${m[1]!} without a command (e.g. "${m[1]!} ${example}")`);
  return { repeat: n, rest: segment.slice(m[0].length) };
}

/** Options of a protocol's reference client class (the library behind its REPL). */
export interface ReplClientOptions<P> {
  /** Where and how to connect; the client fills in what its profile implies (ALPN, idle timeout, …). */
  readonly connect: ConnectOptions;
  /** The target's timers and choices: every deadline the client waits by comes from it. */
  readonly profile: P;
  /** Output, one line at a time (no newline); may be called between commands (what the client sees as it arrives). */
  readonly print: (line: string) => void;
  /** Transport driver (default: the QUIC driver). */
  readonly driver?: Driver;
}

/** How one command (all its repetitions) went, in a reference client: `exit` asks the caller to stop. */
export type CommandOutcome = 'ok' | 'failed' | 'exit';

/** What every parsed command carries: its name, repeat count (≥ 1) and source segment. */
export interface RepeatedCommand {
  readonly name: string;
  readonly repeat: number;
  readonly source: string;
}

/**
 * Runs one command `cmd.repeat` times through `once` (true: it succeeded,
 * false: it failed and printed why, `exit`: stop), printing `Execution i of
 * n:` before each repetition of a repeated command, and stopping at the
 * first failure (saying how many repetitions were not run). A throw from
 * `once` is printed (sanitised for the terminal) as a failure.
 * @returns `failed` as well when `signal` aborts before a repetition.
 */
export async function executeRepeated(cmd: RepeatedCommand, once: () => Promise<boolean | 'exit'>, print: (line: string) => void, signal?: AbortSignal): Promise<CommandOutcome> {
  for (let i = 1; i <= cmd.repeat; i++) {
    if (signal?.aborted) return 'failed';
    if (cmd.repeat > 1) print(`Execution ${i} of ${cmd.repeat}:`);
    let ok: boolean | 'exit';
    try {
      ok = await once();
    } catch (err) {
      print(`${cmd.name}: error: ${forTerminal(errorMessage(err))}`);
      ok = false;
    }
    if (ok === 'exit') return 'exit';
    if (!ok) {
      if (i < cmd.repeat) print(`(stopping "${cmd.source}" after a failure: ${cmd.repeat - i} repetition(s) not run)`);
      return 'failed';
    }
  }
  return 'ok';
}

/**
 * Runs commands in order through `execute` (a failed one does not stop the
 * chain; `exit` does): the {@link ReplClient.run} of the reference clients.
 */
export async function runInOrder<C>(cmds: readonly C[], execute: (cmd: C) => Promise<CommandOutcome>, signal?: AbortSignal): Promise<{ readonly ok: boolean; readonly exit: boolean }> {
  let ok = true;
  for (const cmd of cmds) {
    if (signal?.aborted) return { ok: false, exit: false };
    const r = await execute(cmd);
    if (r === 'exit') return { ok, exit: true };
    if (r === 'failed') ok = false;
  }
  return { ok, exit: false };
}

/** What runs parsed commands: the protocol's client. */
export interface ReplClient<C> {
  /** Runs commands in order; `exit` asks the loop to stop. Never throws on target behaviour. */
  run(cmds: readonly C[], signal: AbortSignal): Promise<{ readonly ok: boolean; readonly exit: boolean }>;
  /** Closes every connection still open. */
  closeAll(): Promise<void>;
}

/** A protocol's REPL. */
export interface ReplSpec<C> {
  /** e.g. `garou> `. */
  readonly prompt: string;
  /** The banner, written to `err` before the first command. */
  readonly banner: string;
  /** History file of the interactive mode (TTY only). */
  readonly historyFile: string;
  parseLine(line: string): C[] | ReplParseError;
  /** A `node:readline` completer. */
  completeLine(line: string): [string[], string];
  /** Makes the client; `print` takes one line (no newline) and may be called between commands. */
  createClient(print: (line: string) => void): ReplClient<C>;
}

/** Options of {@link runRepl}. */
export interface ReplRunOptions {
  /** Commands to run non-interactively (lines separated by newlines; commands by `;`). */
  readonly exec?: string;
  /** Output: `out` gets the REPL's lines (newline-terminated), `err` the banner and script errors. */
  readonly io: { out(text: string): void; err(text: string): void };
  /** Line source of the interactive mode (default `process.stdin`). */
  readonly input?: NodeJS.ReadableStream;
}

/**
 * Splits a line into its commands (the seed's REPL conventions): `#`
 * starts a comment, `;` separates commands, blank segments are skipped;
 * each trimmed segment goes to `parseSegment`. The whole line is rejected
 * on the first bad segment, so that nothing of a mistyped chain runs.
 */
export function parseCommandLine<C>(line: string, parseSegment: (segment: string) => C | ReplParseError): C[] | ReplParseError {
  const hash = line.indexOf('#');
  const code = hash === -1 ? line : line.slice(0, hash);
  const out: C[] = [];
  for (const raw of code.split(';')) {
    const segment = raw.trim();
    if (segment === '') continue;
    const r = parseSegment(segment);
    if (isReplParseError(r)) return r;
    out.push(r);
  }
  return out;
}

/** Command names of `names` starting with `prefix` (case-insensitive), in `names` order. */
export function commandCompletions(names: readonly string[], prefix: string): string[] {
  const p = prefix.toLowerCase();
  return names.filter((n) => n.startsWith(p));
}

/**
 * A `node:readline` completer over a whole line for clients whose arguments
 * are not completed: completes the command name being typed in the last
 * `;` segment (after an optional repeat count).
 * @returns `[candidates, the word they complete]`; no candidates once the name is followed by a space.
 */
export function completeCommandName(names: readonly string[], line: string): [string[], string] {
  const segment = line.slice(line.lastIndexOf(';') + 1).replace(/^\s+/, '');
  const m = /^(?:\d+\s+)?(\S*)$/.exec(segment);
  if (!m) return [[], ''];
  const word = m[1]!;
  return [commandCompletions(names, word), word];
}

/** True for a {@link ReplParseError}. */
export function isReplParseError(r: unknown): r is ReplParseError {
  return typeof r === 'object' && r !== null && (r as { kind?: unknown }).kind === 'parse-error';
}

/**
 * Runs a REPL until `exit`, end of input, or the end of `exec`; closes
 * every connection still open before returning.
 * @returns {@link ReplExit}. Never throws on target behaviour.
 */
export async function runRepl<C>(spec: ReplSpec<C>, opts: ReplRunOptions): Promise<number> {
  return opts.exec !== undefined ? runScript(spec, opts, opts.exec) : runInteractive(spec, opts);
}

async function runScript<C>(spec: ReplSpec<C>, opts: ReplRunOptions, exec: string): Promise<number> {
  const out = (line: string): void => opts.io.out(`${line}\n`);
  const lines = exec.split(/\r?\n/);
  const parsed: { line: string; cmds: C[] }[] = [];
  for (const [i, line] of lines.entries()) {
    const r = spec.parseLine(line);
    if (isReplParseError(r)) {
      opts.io.err(`exec${lines.length > 1 ? ` line ${i + 1}` : ''}: ${r.message}\n`);
      return ReplExit.USAGE;
    }
    if (r.length > 0) parsed.push({ line: line.trim(), cmds: r });
  }
  const client = spec.createClient(out);
  opts.io.err(spec.banner);
  const ac = new AbortController();
  const onSigint = (): void => {
    opts.io.err('\ninterrupted\n');
    ac.abort();
  };
  process.once('SIGINT', onSigint);
  let ok = true;
  try {
    for (const { line, cmds } of parsed) {
      out(`${spec.prompt}${line}`);
      const r = await client.run(cmds, ac.signal);
      ok &&= r.ok;
      if (r.exit || ac.signal.aborted) break;
    }
  } finally {
    process.off('SIGINT', onSigint);
    await client.closeAll();
  }
  return ok && !ac.signal.aborted ? ReplExit.OK : ReplExit.FAILED;
}

function loadHistory(file: string): string[] {
  try {
    // readline wants the newest first; the file is oldest first.
    return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').slice(-HISTORY_SIZE).reverse();
  } catch {
    return [];
  }
}

function saveHistory(file: string, newestFirst: readonly string[]): void {
  try {
    writeFileSync(file, `${[...newestFirst].reverse().join('\n')}\n`, { mode: 0o600 });
  } catch {
    /* best effort */
  }
}

async function runInteractive<C>(spec: ReplSpec<C>, opts: ReplRunOptions): Promise<number> {
  const input = opts.input ?? process.stdin;
  const tty = (input as NodeJS.ReadableStream & { isTTY?: boolean }).isTTY === true && process.stdout.isTTY === true;
  const output: NodeJS.WritableStream = tty
    ? process.stdout
    : new Writable({
        write(chunk: Buffer | string, _enc, cb) {
          opts.io.out(chunk.toString());
          cb();
        },
      });
  const rl = readline.createInterface({
    input,
    output,
    terminal: tty,
    prompt: spec.prompt,
    ...(tty ? { history: loadHistory(spec.historyFile), historySize: HISTORY_SIZE, removeHistoryDuplicates: true, completer: (line: string) => spec.completeLine(line) } : {}),
  });
  if (tty) rl.on('history', (h: string[]) => saveHistory(spec.historyFile, h));
  let running: AbortController | undefined;
  let idle = false;
  // Lines printed between commands go above the prompt, which is then redrawn.
  const print = (line: string): void => {
    if (tty && idle) {
      readline.clearLine(process.stdout, 0);
      readline.cursorTo(process.stdout, 0);
      opts.io.out(`${line}\n`);
      rl.prompt(true);
    } else opts.io.out(`${line}\n`);
  };
  const client = spec.createClient(print);
  rl.on('SIGINT', () => {
    if (running) running.abort();
    else {
      opts.io.out('\n');
      rl.close();
    }
  });
  opts.io.err(spec.banner);
  let ok = true;
  try {
    if (tty) {
      idle = true;
      rl.prompt();
    }
    for await (const line of rl) {
      idle = false;
      if (!tty) opts.io.out(`${spec.prompt}${line}\n`);
      const r = spec.parseLine(line);
      if (isReplParseError(r)) {
        print(r.message);
        ok = false;
      } else if (r.length > 0) {
        running = new AbortController();
        const res = await client.run(r, running.signal);
        running = undefined;
        ok &&= res.ok;
        if (res.exit) break;
      }
      if (tty) {
        idle = true;
        rl.prompt();
      }
    }
  } finally {
    idle = false;
    rl.close();
    await client.closeAll();
  }
  return tty || ok ? ReplExit.OK : ReplExit.FAILED;
}
