/**
 * The Garou reference client: the library (suites/garou/client-state.ts:
 * the Sans-I/O client state machine; suites/garou/client.ts: the thin
 * driver over the harness's QUIC driver; in suites/ so that the load tool
 * uses it without importing reference-server/) and the REPL loaded by `wirecheck client garou`
 * (harness/engine/registry.ts `loadReferenceClient`), with Proton's REPL
 * conventions (the shared loop, harness/engine/repl.ts): `exec` or
 * interactive; on a TTY prompt `garou> `, tab completion of command names
 * and choices, history in `~/.wirecheck_garou_history`; events that arrive
 * between commands are printed above the prompt.
 */
import { homedir } from 'node:os';
import path from 'node:path';
import type { Driver } from '../../../harness/drivers/types.js';
import type { ReferenceClientOptions } from '../../../harness/engine/reference.js';
import { ReplExit, runRepl } from '../../../harness/engine/repl.js';
import type { GarouProfile } from '../../../suites/garou/profile.js';
import { GarouReplClient } from './client.js';
import { completeLine, parseLine } from './commands.js';

export { GarouClientState, type ClientEvent, type ClientWrite, type GarouClientOptions, type RoomView, type Step } from '../../../suites/garou/client-state.js';
export { GarouConnection, GarouHandshakeError, describeClose, epochMs, type GarouConnectionOptions, type WaitOutcome } from '../../../suites/garou/client.js';
export { GarouReplClient, describeAnswer, describeRoomFrame, type CommandOutcome, type GarouReplClientOptions } from './client.js';
export { COMMANDS, COMMAND_NAMES, completeLine, isParseError, parseLine, usage, type CommandName, type ParseError, type ParsedCommand } from './commands.js';

/** The REPL prompt. */
export const PROMPT = 'garou> ';

/** Exit codes of {@link runClient}: 0 every command succeeded, 1 one failed, 2 the `exec` script does not parse. */
export const ClientExit = ReplExit;

/** Options of {@link runClient}: the registry's `ReferenceClientOptions`, plus a history file (default `~/.wirecheck_garou_history`, TTY only) and a transport driver (default QUIC; for tests). */
export type RunClientOptions = ReferenceClientOptions<GarouProfile> & { readonly historyFile?: string; readonly driver?: Driver };

/**
 * Runs the Garou REPL (harness/engine/repl.ts) until `exit`, end of input,
 * or the end of `exec`; closes every connection still open before returning.
 * @returns {@link ClientExit}. Never throws on target behaviour.
 */
export async function runClient(opts: RunClientOptions): Promise<number> {
  const c = opts.connect;
  const url = opts.targetUrl ?? `quic://${c.host.includes(':') ? `[${c.host}]` : c.host}:${c.port}`;
  return runRepl(
    {
      prompt: PROMPT,
      banner: `Garou REPL client for ${url} (ALPN ${c.alpn?.[0] ?? opts.profile.alpn}). Type "help" for commands; start with "connect USER".\n`,
      historyFile: opts.historyFile ?? path.join(homedir(), '.wirecheck_garou_history'),
      parseLine,
      completeLine,
      createClient: (print) => new GarouReplClient({ connect: opts.connect, profile: opts.profile, print, ...(opts.driver ? { driver: opts.driver } : {}) }),
    },
    { io: opts.io, ...(opts.exec !== undefined ? { exec: opts.exec } : {}), ...(opts.input ? { input: opts.input } : {}) },
  );
}
