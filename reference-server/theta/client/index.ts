/**
 * The Theta reference client's entry: the REPL and the library, loaded by
 * `wirecheck client theta` (the reference's `loadClient`). The REPL is the
 * shared one (harness/engine/repl.ts: `exec` scripts parsed first, then
 * run; on a TTY prompt `theta> `, tab completion, history in
 * `~/.wirecheck_theta_history`; piped input run line by line), driving a
 * {@link ThetaClient}.
 */
import { homedir } from 'node:os';
import path from 'node:path';
import type { Driver } from '../../../harness/drivers/types.js';
import type { ReferenceClientOptions } from '../../../harness/engine/reference.js';
import { runRepl } from '../../../harness/engine/repl.js';
import type { ThetaProfile } from '../../../suites/theta/profile.js';
import { ThetaClient } from './client.js';
import { completeLine, parseLine } from './commands.js';

export { ReplExit as ClientExit } from '../../../harness/engine/repl.js';
export { ThetaClient, describeClose, epochUs, type CommandOutcome, type ThetaClientOptions } from './client.js';
export { COMMAND_NAMES, completeLine, completions, isParseError, parseLine, type Command, type CommandName, type ParseError, type ParsedCommand } from './commands.js';
export { checkAck, diagnosticsText, isEd25519PublicKey, ThetaClientSession, type ClientEvent, type ClientIdentity, type TransportDiagnostics } from './session.js';

/** The REPL prompt. */
export const PROMPT = 'theta> ';

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
 * @returns 0 every command succeeded, 1 one failed, 2 the `exec` script does
 *   not parse (harness/engine/repl.ts `ReplExit`). Never throws on target behaviour.
 */
export function runClient(opts: RunClientOptions): Promise<number> {
  const c = opts.connect;
  const url = opts.targetUrl ?? `quic://${c.host.includes(':') ? `[${c.host}]` : c.host}:${c.port}`;
  return runRepl(
    {
      prompt: PROMPT,
      banner: `Theta REPL client for ${url} (ALPN ${c.alpn?.[0] ?? 'theta'}). Type "help" for commands.`,
      historyFile: opts.historyFile ?? path.join(homedir(), '.wirecheck_theta_history'),
      parseLine,
      completeLine,
      createClient: (print) => new ThetaClient({ connect: opts.connect, profile: opts.profile, print, ...(opts.driver ? { driver: opts.driver } : {}) }),
    },
    { io: opts.io, ...(opts.exec !== undefined ? { exec: opts.exec } : {}), ...(opts.input ? { input: opts.input } : {}) },
  );
}
