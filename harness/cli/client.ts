/** `wirecheck client PROTOCOL`: the protocol's reference client (a REPL, or --exec). */
import type { ConnectOptions } from '../drivers/types.js';
import { UsageError } from '../engine/errors.js';
import { loadProfile } from '../engine/profile.js';
import { loadReferenceClient, loadSuite } from '../engine/registry.js';
import { parseTarget } from '../engine/target.js';
import { forTerminalKeepLines } from '../reports/terminal.js';
import { addConnectOptions, checkTransport, connectOptionsFrom, type CliIo, type CommandHost, type ConnectFlags } from './common.js';

/** Registers `client`. */
export function register({ program, io, setExitCode }: CommandHost): void {
  const cmd = program
    .command('client')
    .description('Start a protocol\u2019s reference client against a target: a REPL, or the commands of --exec.')
    .argument('<protocol>', 'protocol name')
    .requiredOption('-t, --target <url>', 'target: quic://host:port or tcp://host:port')
    .option('--profile <file>', 'target profile (JSON): timers the client waits for; default: the seed\u2019s')
    .option('--fast', 'start from the suite\u2019s short-timer profile instead of the seed defaults')
    .option('--exec <commands>', 'run these commands (separated by ";" or newlines) and exit: 0 all succeeded, 1 one failed');
  addConnectOptions(cmd).action(async (protocol: string, o: ClientFlags) => setExitCode(await clientCommand(protocol, o, io)));
}

interface ClientFlags extends ConnectFlags {
  target: string;
  profile?: string;
  fast?: boolean;
  exec?: string;
}

/** `client <protocol>`: runs the protocol's reference client (reference-server/<protocol>/client/index.ts). */
async function clientCommand(protocol: string, o: ClientFlags, io: CliIo): Promise<number> {
  const suite = await loadSuite(protocol);
  const run = await loadReferenceClient(protocol);
  if (!run) throw new UsageError(`client ${protocol}: protocol ${protocol} has no reference client`);
  const target = parseTarget(o.target);
  checkTransport(suite, target);
  const profile = await loadProfile(suite, o.profile, o.fast ? suite.fastProfile : suite.defaultProfile);
  const connect: ConnectOptions = { ...suite.connectOptions(profile), ...(await connectOptionsFrom(target, o)) };
  // Safety net at the output boundary: whatever the client prints (close reasons, payloads) reaches the terminal without escape sequences or NULs.
  const safeIo: CliIo = { out: (t) => io.out(forTerminalKeepLines(t)), err: (t) => io.err(forTerminalKeepLines(t)) };
  return run({ connect, profile, targetUrl: target.url, io: safeIo, ...(o.exec !== undefined ? { exec: o.exec } : {}) });
}

