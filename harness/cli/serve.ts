/** `wirecheck serve PROTOCOL`: a reference server until Ctrl-C; one flag per profile field. */
import { readFile } from 'node:fs/promises';
import { ExitCode, UsageError, messageOf } from '../engine/errors.js';
import { loadProfile } from '../engine/profile.js';
import { listProtocols, loadReferenceServer, loadSuite } from '../engine/registry.js';
import { applyProfileFlags, intArg, profileOptions, type CliIo, type CommandHost } from './common.js';

/** Registers `serve` (with the profile flags of the protocol named in `argv`, when there is one). */
export async function register({ program, io, argv, setExitCode }: CommandHost): Promise<void> {
  const serve = program
    .command('serve')
    .description('Start a protocol\u2019s reference server (until Ctrl-C).')
    .argument('<protocol>', 'protocol name')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--port <port>', 'port to bind (0: any free port)', intArg('--port'), 4433)
    .option('--profile <file>', 'timers and choices (JSON profile); flags below override it')
    .option('--fast', 'start from the short-timer profile instead of the seed defaults')
    .option('--cert <file>', 'PEM certificate (default: a self-signed one generated in-process)')
    .option('--key <file>', 'PEM private key for --cert')
    .option('--log', 'structured logs (JSON lines) on stdout')
    .option('--fault <name>', 'misbehave on purpose (see `wirecheck list PROTOCOL --faults`)')
    .action(async (protocol: string, o: ServeFlags) => setExitCode(await serveCommand(protocol, o, io)));
  // Timer flags come from the protocol's profile schema (e.g. --ident-timeout-ms).
  const servedName = argv[0] === 'serve' ? argv[1] : undefined;
  if (servedName && listProtocols().includes(servedName)) {
    for (const opt of profileOptions(await loadSuite(servedName))) serve.addOption(opt);
  } else {
    serve.addHelpText('after', '\nProfile fields are flags too: see `wirecheck serve <protocol> --help`.');
  }
}

interface ServeFlags {
  host: string;
  port: number;
  profile?: string;
  fast?: boolean;
  cert?: string;
  key?: string;
  log?: boolean;
  fault?: string;
  [field: string]: unknown;
}

async function serveCommand(protocol: string, o: ServeFlags, io: CliIo): Promise<number> {
  const suite = await loadSuite(protocol);
  const start = await loadReferenceServer(protocol);
  if (!start) throw new UsageError(`serve ${protocol}: this protocol has no reference server`);
  const profile = applyProfileFlags(suite, o, await loadProfile(suite, o.profile, o.fast ? suite.fastProfile : suite.defaultProfile));
  if ((o.cert === undefined) !== (o.key === undefined)) throw new UsageError('--cert and --key go together');
  const readPem = async (file: string, flag: string) =>
    readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`${flag} ${file}: cannot read (${err.code ?? err.message})`);
    });
  const cert = o.cert !== undefined ? await readPem(o.cert, '--cert') : undefined;
  const key = o.key !== undefined ? await readPem(o.key, '--key') : undefined;
  const log = o.log ? (entry: Record<string, unknown>) => io.out(`${JSON.stringify({ ts: new Date().toISOString(), ...entry })}\n`) : undefined;
  let server;
  try {
    server = await start({ host: o.host, port: o.port, profile, ...(cert ? { cert, key } : {}), ...(log ? { log } : {}), ...(o.fault !== undefined ? { fault: o.fault } : {}) });
  } catch (err) {
    if (err instanceof RangeError) throw new UsageError(`serve ${protocol}: ${err.message}`);
    throw new Error(`serve ${protocol}: cannot listen on ${o.host}:${o.port}: ${messageOf(err)}`);
  }
  const hostText = server.host.includes(':') ? `[${server.host}]` : server.host;
  io.err(`${suite.name} reference server listening on ${suite.transport}://${hostText}:${server.port}${suite.alpn ? ` (ALPN ${String((profile as { alpn?: string }).alpn ?? suite.alpn)})` : ''}${o.fault ? ` with fault ${o.fault}` : ''}\n`);
  io.err(`profile: ${JSON.stringify(profile)}\nCtrl-C to stop.\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.stop();
  io.err('stopped\n');
  return ExitCode.OK;
}
