/**
 * The Theta reference client's entry: the REPL and the library, loaded by
 * `wirecheck client theta` (the reference's `loadClient`). Conventions as
 * the Proton REPL (reference-server/proton/client/index.ts):
 *
 * - `exec`: runs the given lines (newlines or `;` separate commands) and
 *   returns; the whole script is parsed first (exit 2, nothing run, when a
 *   line does not parse);
 * - otherwise reads lines from `input` (default stdin). On a TTY: prompt
 *   `theta> `, tab completion of command names, history in
 *   `~/.wirecheck_theta_history` (best effort). Piped input runs like
 *   `exec`, each line echoed after the prompt.
 *
 * Lines the client prints between commands (a close, a server deviation
 * the monitor found during heartbeats) are printed above the prompt.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { Writable } from 'node:stream';
import type { Driver } from '../../../harness/drivers/types.js';
import type { ReferenceClientOptions } from '../../../harness/engine/reference.js';
import type { ThetaProfile } from '../../../suites/theta/profile.js';
import { ThetaClient } from './client.js';
import { completeLine, isParseError, parseLine, type ParsedCommand } from './commands.js';

export { ThetaClient, describeClose, epochUs, type CommandOutcome, type ThetaClientOptions } from './client.js';
export { COMMAND_NAMES, completeLine, completions, isParseError, parseLine, type Command, type CommandName, type ParseError, type ParsedCommand } from './commands.js';
export { checkAck, diagnosticsText, isEd25519PublicKey, ThetaClientSession, type ClientEvent, type ClientIdentity, type TransportDiagnostics } from './session.js';

/** The REPL prompt. */
export const PROMPT = 'theta> ';
const HISTORY_SIZE = 1_000;

/** Exit codes of {@link runClient}. */
export const ClientExit = { OK: 0, FAILED: 1, USAGE: 2 } as const;

/** Options of {@link runClient}: the engine's, plus a history file and a driver for tests. */
export interface RunClientOptions extends ReferenceClientOptions<ThetaProfile> {
  /** History file of the interactive mode (default `~/.wirecheck_theta_history`); TTY only. */
  readonly historyFile?: string;
  /** Transport driver (default QUIC). */
  readonly driver?: Driver;
}

/**
 * Runs the Theta REPL until `exit`, end of input, or the end of `exec`;
 * closes every session still open (code 0) before returning.
 * @returns {@link ClientExit}: 0 every command succeeded, 1 one failed, 2 the
 *   `exec` script does not parse. Never throws on target behaviour.
 */
export async function runClient(opts: RunClientOptions): Promise<number> {
  return opts.exec !== undefined ? runScript(opts) : runInteractive(opts);
}

function banner(opts: RunClientOptions): void {
  const c = opts.connect;
  const url = opts.targetUrl ?? `quic://${c.host.includes(':') ? `[${c.host}]` : c.host}:${c.port}`;
  opts.io.err(`Theta REPL client for ${url} (ALPN ${c.alpn?.[0] ?? 'theta'}). Type "help" for commands.\n`);
}

async function runScript(opts: RunClientOptions): Promise<number> {
  const out = (line: string) => opts.io.out(`${line}\n`);
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
  const client = new ThetaClient({ connect: opts.connect, profile: opts.profile, print: out, ...(opts.driver ? { driver: opts.driver } : {}) });
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
  const historyFile = opts.historyFile ?? path.join(homedir(), '.wirecheck_theta_history');
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
  const client = new ThetaClient({ connect: opts.connect, profile: opts.profile, print, ...(opts.driver ? { driver: opts.driver } : {}) });
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
