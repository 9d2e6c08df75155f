/**
 * The Garou reference client: the library (state.ts: the Sans-I/O client
 * state machine; connection.ts: the thin driver over the harness's QUIC
 * driver) and the REPL loaded by `wirecheck client garou`
 * (harness/engine/registry.ts `loadReferenceClient`), with Proton's REPL
 * conventions (reference-server/proton/client/index.ts):
 *
 * - `exec`: parses every line first (nothing runs when one does not parse:
 *   exit 2), then runs them, each echoed after the prompt.
 * - Otherwise reads lines from `input` (default stdin). On a TTY: prompt
 *   `garou> `, tab completion of command names and choices, history in
 *   `~/.wirecheck_garou_history` (best effort); events that arrive between
 *   commands are printed above the prompt. Piped input runs like `exec`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { Writable } from 'node:stream';
import type { ConnectOptions, Driver } from '../../../harness/drivers/types.js';
import type { GarouProfile } from '../../../suites/garou/profile.js';
import { GarouReplClient } from './client.js';
import { completeLine, isParseError, parseLine, type ParsedCommand } from './commands.js';

export { GarouClientState, type ClientEvent, type ClientWrite, type GarouClientOptions, type RoomView, type Step } from './state.js';
export { GarouConnection, GarouHandshakeError, describeClose, epochMs, type GarouConnectionOptions, type WaitOutcome } from './connection.js';
export { GarouReplClient, describeAnswer, describeRoomFrame, type CommandOutcome, type GarouReplClientOptions } from './client.js';
export { COMMANDS, COMMAND_NAMES, completeLine, isParseError, parseLine, usage, type CommandName, type ParseError, type ParsedCommand } from './commands.js';

/** The REPL prompt. */
export const PROMPT = 'garou> ';
/** Lines of history kept. */
const HISTORY_SIZE = 1_000;

/** Exit codes of {@link runClient}: 0 every command succeeded, 1 one failed, 2 the `exec` script does not parse. */
export const ClientExit = { OK: 0, FAILED: 1, USAGE: 2 } as const;

/** Options of {@link runClient} (the registry's `ReferenceClientOptions`, plus test hooks). */
export interface RunClientOptions {
  /** Target and TLS options (host, port, ca, insecure, connectTimeoutMs in ms); ALPN defaults to the profile's. */
  readonly connect: ConnectOptions;
  /** The target's timers and limits (SPEC.md "Profile"). */
  readonly profile: GarouProfile;
  /** Target URL, for the banner. */
  readonly targetUrl?: string;
  /** Commands to run non-interactively (lines separated by newlines; commands by `;`). */
  readonly exec?: string;
  /** Output: `out` gets the REPL's lines (newline-terminated), `err` the banner. */
  readonly io: { out(text: string): void; err(text: string): void };
  /** Line source of the interactive mode (default `process.stdin`). */
  readonly input?: NodeJS.ReadableStream;
  /** History file of the interactive mode (default `~/.wirecheck_garou_history`); TTY only. */
  readonly historyFile?: string;
  /** Transport driver (default QUIC); for tests. */
  readonly driver?: Driver;
}

function banner(opts: RunClientOptions): void {
  const c = opts.connect;
  const url = opts.targetUrl ?? `quic://${c.host.includes(':') ? `[${c.host}]` : c.host}:${c.port}`;
  opts.io.err(`Garou REPL client for ${url} (ALPN ${c.alpn?.[0] ?? opts.profile.alpn}). Type "help" for commands; start with "connect USER".\n`);
}

/**
 * Runs the Garou REPL until `exit`, end of input, or the end of `exec`;
 * closes every connection still open before returning.
 * @returns {@link ClientExit}. Never throws on target behaviour.
 */
export async function runClient(opts: RunClientOptions): Promise<number> {
  return opts.exec !== undefined ? runScript(opts) : runInteractive(opts);
}

async function runScript(opts: RunClientOptions): Promise<number> {
  const out = (line: string): void => opts.io.out(`${line}\n`);
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
  const client = new GarouReplClient({ connect: opts.connect, profile: opts.profile, print: out, ...(opts.driver ? { driver: opts.driver } : {}) });
  banner(opts);
  const ac = new AbortController();
  const onSigint = (): void => {
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

function loadHistory(file: string): string[] {
  try {
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
  const historyFile = opts.historyFile ?? path.join(homedir(), '.wirecheck_garou_history');
  const rl = readline.createInterface({
    input,
    output,
    terminal: tty,
    prompt: PROMPT,
    ...(tty ? { history: loadHistory(historyFile), historySize: HISTORY_SIZE, removeHistoryDuplicates: true, completer: (line: string) => completeLine(line) } : {}),
  });
  if (tty) rl.on('history', (h: string[]) => saveHistory(historyFile, h));
  let running: AbortController | undefined;
  let idle = false;
  // Events between commands are printed above the prompt, which is then redrawn.
  const print = (line: string): void => {
    if (tty && idle) {
      readline.clearLine(process.stdout, 0);
      readline.cursorTo(process.stdout, 0);
      opts.io.out(`${line}\n`);
      rl.prompt(true);
    } else opts.io.out(`${line}\n`);
  };
  const client = new GarouReplClient({ connect: opts.connect, profile: opts.profile, print, ...(opts.driver ? { driver: opts.driver } : {}) });
  rl.on('SIGINT', () => {
    if (running) running.abort();
    else {
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
