/**
 * The `wirecheck` command line: `run`, `serve`, `client`, `selftest`, `list`.
 * `main(argv)` returns the exit code and never throws: usage errors exit 2,
 * target and harness trouble 3, conformance failures 1 (errors.ts).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { ConnectOptions } from './drivers/types.js';
import { driverFor } from './drivers/index.js';
import { ExitCode, UsageError, messageOf } from './engine/errors.js';
import { checkProfileData, loadProfile } from './engine/profile.js';
import { listProtocols, loadReferenceClient, loadReferenceServer, loadSuite, projectRoot } from './engine/registry.js';
import { runSuite, toolVersion } from './engine/runner.js';
import { parseTarget, type Target } from './engine/target.js';
import type { ProtocolSuite, RunResult } from './engine/types.js';
import { formatProgress, formatSummary, writeJsonReport, writeTapReport } from './reports/index.js';

/** How reports are written. */
type Reporter = 'tap' | 'json' | 'both';

/** Where a command writes: injectable for tests. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

const defaultIo: CliIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

const intArg = (name: string, min = 0) => (v: string): number => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return n;
};

/** Runs the CLI with `argv` (without node and script). Returns the exit code. */
export async function main(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  let code: number = ExitCode.OK;
  const program = new Command('wirecheck')
    .description('Conformance harness and fuzzer for protocols over QUIC and TCP.')
    .version(toolVersion)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });

  program
    .command('run')
    .description('Run a protocol\u2019s conformance suite against a target.')
    .requiredOption('-t, --target <url>', 'target: quic://host:port or tcp://host:port')
    .requiredOption('-p, --protocol <name>', `protocol suite (${listProtocols().join(', ')})`)
    .option('--profile <file>', 'target profile (JSON): timers and choices of the target; default: the seed\u2019s')
    .option('--fast', 'start from the suite\u2019s short-timer profile instead of the seed defaults')
    .option('--cases <pattern>', 'only cases whose id matches (glob with *, comma-separated), e.g. "proton/event/*"')
    .addOption(new Option('--reporter <kind>', 'reports to write').choices(['tap', 'json', 'both']).default('both'))
    .option('-o, --out <dir>', 'folder for reports', 'reports')
    .option('--alpn <id>', 'ALPN id to offer (default: the protocol\u2019s or the profile\u2019s)')
    .option('--ca <file>', 'PEM CA bundle to verify the target\u2019s certificate')
    .option('-k, --insecure', 'do not verify the target\u2019s certificate')
    .option('--server-name <name>', 'TLS server name (SNI); IP literals are never sent as SNI')
    .option('--connect-timeout <ms>', 'handshake deadline', intArg('--connect-timeout', 1), 3000)
    .option('--no-color', 'no colour in terminal output')
    .option('-q, --quiet', 'no per-case progress lines')
    .addHelpText('after', '\nExit codes: 0 all passed, 1 conformance failures, 2 usage or input error, 3 target unreachable or harness error.')
    .action(async (o: RunFlags) => {
      code = await runCommand(o, io);
    });

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
    .option('--fault <name>', 'misbehave on purpose (see `wirecheck list --faults`)')
    .action(async (protocol: string, o: ServeFlags) => {
      code = await serveCommand(protocol, o, io);
    });
  // Timer flags come from the protocol's profile schema (e.g. --ident-timeout-ms).
  const servedName = argv[0] === 'serve' ? argv[1] : undefined;
  if (servedName && listProtocols().includes(servedName)) {
    for (const opt of profileOptions(await loadSuite(servedName))) serve.addOption(opt);
  } else {
    serve.addHelpText('after', '\nProfile fields are flags too: see `wirecheck serve <protocol> --help`.');
  }

  program
    .command('client')
    .description('Start a protocol\u2019s reference client against a target: a REPL, or the commands of --exec.')
    .argument('<protocol>', 'protocol name')
    .requiredOption('-t, --target <url>', 'target: quic://host:port or tcp://host:port')
    .option('--profile <file>', 'target profile (JSON): timers the client waits for; default: the seed\u2019s')
    .option('--fast', 'start from the suite\u2019s short-timer profile instead of the seed defaults')
    .option('--exec <commands>', 'run these commands (separated by ";" or newlines) and exit: 0 all succeeded, 1 one failed')
    .option('--alpn <id>', 'ALPN id to offer (default: the protocol\u2019s or the profile\u2019s)')
    .option('--ca <file>', 'PEM CA bundle to verify the target\u2019s certificate')
    .option('-k, --insecure', 'do not verify the target\u2019s certificate')
    .option('--server-name <name>', 'TLS server name (SNI); IP literals are never sent as SNI')
    .option('--connect-timeout <ms>', 'handshake deadline', intArg('--connect-timeout', 1), 3000)
    .action(async (protocol: string, o: ClientFlags) => {
      code = await clientCommand(protocol, o, io);
    });

  program
    .command('selftest')
    .description('Start every reference server in-process on loopback with short timers, run its suite against it, write reports (the default job of `npm start`).')
    .option('-p, --protocol <name>', 'only this protocol')
    .addOption(new Option('--reporter <kind>', 'reports to write').choices(['tap', 'json', 'both']).default('both'))
    .option('-o, --out <dir>', 'folder for reports', 'reports')
    .option('--cases <pattern>', 'only cases whose id matches')
    .option('--no-color', 'no colour in terminal output')
    .option('-q, --quiet', 'no per-case progress lines')
    .action(async (o: SelftestFlags) => {
      code = await selftestCommand(o, io);
    });

  program
    .command('list')
    .description('List protocols, or the cases of one protocol.')
    .argument('[protocol]', 'protocol name')
    .option('--faults', 'list the deliberate faults of the reference servers')
    .action(async (protocol: string | undefined, o: { faults?: boolean }) => {
      code = await listCommand(protocol, o, io);
    });

  try {
    if (argv.length === 0) {
      io.out(program.helpInformation());
      return ExitCode.USAGE;
    }
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    }
    if (err instanceof UsageError) {
      io.err(`wirecheck: ${err.message}\n`);
      return ExitCode.USAGE;
    }
    io.err(`wirecheck: error: ${messageOf(err)}\n`);
    if (process.env['WIRECHECK_DEBUG'] && err instanceof Error) io.err(`${err.stack ?? ''}\n`);
    return ExitCode.TARGET;
  }
}

interface RunFlags {
  target: string;
  protocol: string;
  profile?: string;
  fast?: boolean;
  cases?: string;
  reporter: Reporter;
  out: string;
  alpn?: string;
  ca?: string;
  insecure?: boolean;
  serverName?: string;
  connectTimeout: number;
  color: boolean;
  quiet?: boolean;
}

async function runCommand(o: RunFlags, io: CliIo): Promise<number> {
  const target = parseTarget(o.target);
  const suite = await loadSuite(o.protocol);
  if (suite.transport !== target.transport) {
    throw new UsageError(`--target ${target.url}: protocol ${suite.name} runs over ${suite.transport}, not ${target.transport}`);
  }
  const profile = await loadProfile(suite, o.profile, o.fast ? suite.fastProfile : suite.defaultProfile);
  return execute(suite, profile, target.url, await connectOptionsFrom(target, o), o, io);
}

/** Connection flags shared by `run` and `client`. */
interface ConnectFlags {
  alpn?: string;
  ca?: string;
  insecure?: boolean;
  serverName?: string;
  connectTimeout: number;
}

/**
 * Connect options from a target and the connection flags (reads `--ca`).
 * @throws UsageError for an unreadable CA file, a file without a PEM certificate, or `--insecure` with `--ca`.
 */
async function connectOptionsFrom(target: Target, o: ConnectFlags): Promise<ConnectOptions> {
  let ca: string | undefined;
  if (o.ca !== undefined) {
    ca = await readFile(o.ca, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`--ca ${o.ca}: cannot read (${err.code ?? err.message})`);
    });
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`--ca ${o.ca}: no PEM certificate in the file`);
  }
  if (o.insecure && ca !== undefined) throw new UsageError('--insecure and --ca exclude each other');
  return {
    host: target.host,
    port: target.port,
    connectTimeoutMs: o.connectTimeout,
    ...(o.alpn !== undefined ? { alpn: [o.alpn] } : {}),
    ...(o.serverName !== undefined ? { serverName: o.serverName } : {}),
    ...(ca !== undefined ? { ca } : {}),
    ...(o.insecure ? { insecure: true } : {}),
  };
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
  if (suite.transport !== target.transport) {
    throw new UsageError(`--target ${target.url}: protocol ${suite.name} runs over ${suite.transport}, not ${target.transport}`);
  }
  const profile = await loadProfile(suite, o.profile, o.fast ? suite.fastProfile : suite.defaultProfile);
  const connect: ConnectOptions = { ...suite.connectOptions(profile), ...(await connectOptionsFrom(target, o)) };
  return run({ connect, profile, targetUrl: target.url, io, ...(o.exec !== undefined ? { exec: o.exec } : {}) });
}

/** Runs a suite, prints progress and the summary, writes reports; returns the exit code. */
async function execute(
  suite: ProtocolSuite<object>,
  profile: object,
  targetUrl: string,
  connect: ConnectOptions,
  o: { cases?: string; reporter: Reporter; out: string; color: boolean; quiet?: boolean },
  io: CliIo,
): Promise<number> {
  const color = o.color === false ? { color: false } : {};
  const ac = new AbortController();
  const onSigint = () => {
    io.err('\nwirecheck: interrupted; finishing the current case and writing partial reports (Ctrl-C again to quit)\n');
    ac.abort();
    process.off('SIGINT', onSigint);
  };
  process.on('SIGINT', onSigint);
  let run: RunResult;
  try {
    if (!o.quiet) io.err(`wirecheck ${toolVersion}: ${suite.name} suite (${suite.cases.length} cases) against ${targetUrl}\n`);
    run = await runSuite({
      suite,
      driver: driverFor(suite.transport),
      targetUrl,
      connect,
      profile,
      ...(o.cases !== undefined ? { cases: o.cases } : {}),
      signal: ac.signal,
      onProbe: (when, ok, message) => {
        if (!ok || !o.quiet) io.err(`  probe ${when}: ${ok ? 'ok' : `FAILED (${message ?? ''})`}\n`);
      },
      onCase: (r, i, n) => {
        if (!o.quiet) io.err(`${formatProgress(r, i, n, color)}\n`);
      },
    });
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (run.cases.length === 0) throw new UsageError(`--cases ${JSON.stringify(o.cases)}: no ${suite.name} case matches (see \`wirecheck list ${suite.name}\`)`);
  const written: string[] = [];
  const base = path.join(o.out, suite.name);
  if (o.reporter !== 'json') written.push(await writeTapReport(run, `${base}.tap`));
  if (o.reporter !== 'tap') written.push(await writeJsonReport(run, `${base}.json`));
  io.out(`${formatSummary(run, color)}\n`);
  io.out(`Reports: ${written.join(', ')}\n`);
  if (run.probes[0]?.ok === false) {
    io.err(`wirecheck: target ${targetUrl} did not pass the sanity probe: ${run.probes[0].message ?? ''}\n`);
    return ExitCode.TARGET;
  }
  if (run.summary.fail + run.summary.timeout > 0) return ExitCode.FAILURES;
  if (run.summary.error > 0 || ac.signal.aborted) return ExitCode.TARGET;
  return ExitCode.OK;
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
  let profile = await loadProfile(suite, o.profile, o.fast ? suite.fastProfile : suite.defaultProfile);
  const fields = Object.fromEntries(Object.keys(schemaFields(suite)).filter((f) => o[f] !== undefined).map((f) => [f, o[f]]));
  if (Object.keys(fields).length > 0) profile = checkProfileData(suite, fields, 'from the command line', profile);
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
    server = await start({ host: o.host, port: o.port, profile, ...(cert ? { cert, key } : {}), ...(log ? { log } : {}), ...(o.fault !== undefined ? { fault: o.fault } : {}) } as Parameters<typeof start>[0]);
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

interface SelftestFlags {
  protocol?: string;
  reporter: Reporter;
  out: string;
  cases?: string;
  color: boolean;
  quiet?: boolean;
}

async function selftestCommand(o: SelftestFlags, io: CliIo): Promise<number> {
  const names = o.protocol !== undefined ? [o.protocol] : listProtocols();
  let worst: number = ExitCode.OK;
  for (const name of names) {
    const suite = await loadSuite(name);
    const start = await loadReferenceServer(name);
    if (!start) {
      io.err(`${name}: no reference server yet; skipped\n`);
      continue;
    }
    const profile = suite.fastProfile;
    const server = await start({ host: '127.0.0.1', port: 0, profile });
    try {
      const connect: ConnectOptions = {
        host: server.host,
        port: server.port,
        connectTimeoutMs: 3000,
        // Verify the generated certificate like a real client would, by DNS name (RFC 6066 §3).
        ...(server.certPem ? { ca: server.certPem, serverName: 'localhost' } : { insecure: true }),
      };
      const code = await execute(suite, profile, `${suite.transport}://${server.host}:${server.port}`, connect, o, io);
      worst = Math.max(worst, code);
    } finally {
      await server.stop();
    }
  }
  return worst;
}

async function listCommand(protocol: string | undefined, o: { faults?: boolean }, io: CliIo): Promise<number> {
  const names = protocol !== undefined ? [protocol] : listProtocols();
  for (const name of names) {
    const suite = await loadSuite(name);
    if (o.faults) {
      const file = path.join(projectRoot, 'reference-server', name, 'faults.ts');
      const mod = (await import(file).catch(() => ({}))) as { faults?: Record<string, { description: string }> };
      io.out(`${name} faults (wirecheck serve ${name} --fault NAME):\n`);
      for (const [f, d] of Object.entries(mod.faults ?? {})) io.out(`  ${f.padEnd(30)} ${d.description}\n`);
      continue;
    }
    if (protocol === undefined) {
      io.out(`${name.padEnd(12)} ${suite.transport.padEnd(5)} ${String(suite.cases.length).padStart(3)} cases  ${suite.title}\n`);
      continue;
    }
    for (const c of suite.cases) io.out(`${c.id.padEnd(56)} ${c.rules.join(',')}\n    ${c.description}\n`);
  }
  return ExitCode.OK;
}

/** The top-level fields of a suite's profile schema. */
function schemaFields(suite: ProtocolSuite<object>): Record<string, { type?: string; enum?: unknown[]; description?: string }> {
  const props = (suite.profileSchema as { properties?: Record<string, { type?: string; enum?: unknown[]; description?: string }> }).properties ?? {};
  return Object.fromEntries(Object.entries(props).filter(([k]) => k !== '$schema'));
}

/** One CLI option per profile field: `identTimeoutMs` → `--ident-timeout-ms <n>`. */
function profileOptions(suite: ProtocolSuite<object>): Option[] {
  const defaults = suite.defaultProfile as Record<string, unknown>;
  return Object.entries(schemaFields(suite)).map(([field, spec]) => {
    const flag = field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    const opt = new Option(`--${flag} <value>`, `${spec.description ?? field} (default ${JSON.stringify(defaults[field])})`);
    if (spec.enum) return opt.choices(spec.enum.map(String));
    if (spec.type === 'integer') return opt.argParser(intArg(`--${flag}`));
    if (spec.type === 'boolean') {
      return opt.argParser((v: string) => {
        if (v !== 'true' && v !== 'false') throw new InvalidArgumentError(`--${flag} must be true or false`);
        return v === 'true';
      });
    }
    return opt;
  });
}
