/**
 * The Proton reference client's entry: the REPL of the seed's "Testing with
 * REPL" section (shared/seeds/000_03a81090c55d4a0c.txt), loaded by
 * `wirecheck client proton` (harness/engine/registry.ts `loadReferenceClient`).
 *
 * The loop is the shared one (harness/engine/repl.ts): `exec` runs the
 * given lines (newlines or `;` separate commands) and returns; otherwise
 * lines come from `input` (default stdin); on a TTY: prompt `proton> `, tab
 * completion of command names, history in `~/.wirecheck_proton_history`.
 */
import { homedir } from 'node:os';
import path from 'node:path';
import type { ConnectOptions, Driver } from '../../../harness/drivers/types.js';
import { ReplExit, runRepl } from '../../../harness/engine/repl.js';
import type { ProtonProfile } from '../../../suites/proton/profile.js';
import { ProtonClient } from './client.js';
import { completeLine, parseLine } from './commands.js';

export { ProtonClient, describeClose, type CommandOutcome, type ProtonClientOptions } from './client.js';
export { COMMAND_NAMES, completeLine, completions, isParseError, parseLine, type Command, type CommandName, type ParseError, type ParsedCommand } from './commands.js';

/** The REPL prompt. */
export const PROMPT = 'proton> ';

/** Exit codes of {@link runClient}: 0 every command succeeded; 1 at least one failed (could not do its job, or saw the target break the SPEC); 2 the `exec` script does not parse (nothing was run). */
export const ClientExit = ReplExit;

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
  const c = opts.connect;
  const url = opts.targetUrl ?? `quic://${c.host.includes(':') ? `[${c.host}]` : c.host}:${c.port}`;
  return runRepl(
    {
      prompt: PROMPT,
      banner: `Proton REPL client for ${url} (ALPN ${c.alpn?.[0] ?? opts.profile.alpn}). Type "help" for commands.\n`,
      historyFile: opts.historyFile ?? path.join(homedir(), '.wirecheck_proton_history'),
      parseLine,
      completeLine,
      createClient: (print) => new ProtonClient({ connect: opts.connect, profile: opts.profile, print, ...(opts.driver ? { driver: opts.driver } : {}) }),
    },
    { io: opts.io, ...(opts.exec !== undefined ? { exec: opts.exec } : {}), ...(opts.input ? { input: opts.input } : {}) },
  );
}
