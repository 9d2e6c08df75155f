/**
 * The Proton reference client's entry: the REPL of the seed's "Testing with
 * REPL" section (shared/seeds/000_03a81090c55d4a0c.txt), loaded by
 * `wirecheck client proton` (harness/engine/registry.ts `loadReferenceClient`).
 *
 * - `exec`: runs the given lines (newlines or `;` separate commands) and
 *   returns; no terminal needed.
 * - Otherwise reads lines from `input` (default stdin). On a TTY: prompt
 *   `proton> `, tab completion of command names, history persisted in
 *   `~/.wirecheck_proton_history` (best effort). Piped input is run like
 *   `exec`, each line echoed after the prompt.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { Writable } from 'node:stream';
import type { ConnectOptions, Driver } from '../../../harness/drivers/types.js';
import type { ProtonProfile } from '../../../suites/proton/profile.js';
import { ProtonClient } from './client.js';
import { completeLine, isParseError, parseLine, type ParsedCommand } from './commands.js';

export { ProtonClient, describeClose, type CommandOutcome, type ProtonClientOptions } from './client.js';
export { COMMAND_NAMES, completeLine, completions, isParseError, parseLine, type Command, type CommandName, type ParseError, type ParsedCommand } from './commands.js';

/** The REPL prompt. */
export const PROMPT = 'proton> ';

/** Lines of history kept. */
const HISTORY_SIZE = 1_000;

/** Exit codes of {@link runClient}. */
export const ClientExit = {
  /** Every command succeeded. */
  OK: 0,
  /** At least one command failed (could not do its job, or saw the target break the SPEC). */
  FAILED: 1,
  /** The `exec` script does not parse: nothing was run. */
  USAGE: 2,
} as const;

/** Options of {@link runClient}. */
export interface RunClientOptions {
  /**
   * Target and TLS options (host, port, alpn, ca, insecure, serverName,
   * connectTimeoutMs in ms). ALPN, idle timeout and keep-alive default to
   * the profile's.
   */
  readonly connect: ConnectOptions;
  /** The target's timers: startup delay, deadlines of every wait (SPEC.md "Profile fields"). */
  readonly profile: ProtonProfile;
  /** Target URL, for the banner (default `quic://host:port`). */
  readonly targetUrl?: string;
  /** Commands to run non-interactively (lines separated by newlines; commands by `;`). */
  readonly exec?: string;
  /** Output: `out` gets the REPL's lines (newline-terminated), `err` the banner. */
  readonly io: { out(text: string): void; err(text: string): void };
  /** Line source of the interactive mode (default `process.stdin`). */
  readonly input?: NodeJS.ReadableStream;
  /** History file of the interactive mode (default `~/.wirecheck_proton_history`); TTY only. */
  readonly historyFile?: string;
  /** Transport driver (default QUIC); for tests. */
  readonly driver?: Driver;
}

/**
 * Runs the Proton REPL until `exit`, end of input, or the end of `exec`;
 * closes every connection still open (code 0) before returning.
 * @returns {@link ClientExit}: 0 when every command succeeded, 1 when one
 *   failed (parse errors of an input line count as failures), 2 when the
 *   `exec` script does not parse (nothing run). Never throws on target
 *   behaviour.
 */
export async function runClient(opts: RunClientOptions): Promise<number> {
  const out = (line: string) => opts.io.out(`${line}\n`);
  if (opts.exec !== undefined) return runScript(opts, out);
  return runInteractive(opts);
}

/** `exec`: parse everything first, then run. */
async function runScript(opts: RunClientOptions, out: (line: string) => void): Promise<number> {
  const lines = opts.exec!.split(/\r?\n/);
  const parsed: { line: string; cmds: ParsedCommand[] }[] = [];
  for (const [i, line] of lines.entries()) {
    const r = parseLine(line);
    if (isParseError(r)) {
      opts.io.err(`exec${lines.length > 1 ? ` line ${i + 1}` : ''}: ${r.message}\n`);
      return ClientExit.USAGE;
    }
    if (r.length > 0) parsed.push({ line: line.trim(), cmds: r });
  }
  const client = new ProtonClient({ connect: opts.connect, profile: opts.profile, print: out, ...(opts.driver ? { driver: opts.driver } : {}) });
  banner(opts);
  const ac = new AbortController();
  const onSigint = () => {
    opts.io.err('\ninterrupted\n');
    ac.abort();
  };
  process.once('SIGINT', onSigint);
  let ok = true;
  try {
    for (const { line, cmds } of parsed) {
      out(`${PROMPT}${line}`);
      const r = await client.run(cmds, ac.signal);
      ok &&= r.ok;
      if (r.exit || ac.signal.aborted) break;
    }
  } finally {
    process.off('SIGINT', onSigint);
    await client.closeAll();
  }
  return ok && !ac.signal.aborted ? ClientExit.OK : ClientExit.FAILED;
}

function banner(opts: RunClientOptions): void {
  const c = opts.connect;
  const url = opts.targetUrl ?? `quic://${c.host.includes(':') ? `[${c.host}]` : c.host}:${c.port}`;
  opts.io.err(`Proton REPL client for ${url} (ALPN ${c.alpn?.[0] ?? opts.profile.alpn}). Type "help" for commands.\n`);
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

/** Interactive mode (or piped input without a TTY). */
async function runInteractive(opts: RunClientOptions): Promise<number> {
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
  const historyFile = opts.historyFile ?? path.join(homedir(), '.wirecheck_proton_history');
  const rl = readline.createInterface({
    input,
    output,
    terminal: tty,
    prompt: PROMPT,
    ...(tty
      ? { history: loadHistory(historyFile), historySize: HISTORY_SIZE, removeHistoryDuplicates: true, completer: (line: string) => completeLine(line) }
      : {}),
  });
  if (tty) rl.on('history', (h: string[]) => saveHistory(historyFile, h));

  let running: AbortController | undefined;
  let idle = false;
  // Closes seen between commands are printed above the prompt, which is then redrawn.
  const print = (line: string) => {
    if (tty && idle) {
      readline.clearLine(process.stdout, 0);
      readline.cursorTo(process.stdout, 0);
      opts.io.out(`${line}\n`);
      rl.prompt(true);
    } else {
      opts.io.out(`${line}\n`);
    }
  };
  const client = new ProtonClient({ connect: opts.connect, profile: opts.profile, print, ...(opts.driver ? { driver: opts.driver } : {}) });
  rl.on('SIGINT', () => {
    if (running) {
      running.abort();
    } else {
      opts.io.out('\n');
      rl.close();
    }
  });
  banner(opts);
  let ok = true;
  try {
    if (tty) {
      idle = true;
      rl.prompt();
    }
    for await (const line of rl) {
      idle = false;
      if (!tty) opts.io.out(`${PROMPT}${line}\n`);
      const r = parseLine(line);
      if (isParseError(r)) {
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
  return tty || ok ? ClientExit.OK : ClientExit.FAILED;
}
