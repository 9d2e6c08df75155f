/**
 * The `wirecheck` command line. Each command lives in `harness/cli/<name>.ts`
 * and registers itself here. Commands load lazily: a start loads commander
 * and only the module of the command named on the command line (none for
 * `--help`), so that `wirecheck --help` starts at once and `run` loads no
 * fuzzer (README "Startup"). `main(argv)` returns the exit code and never
 * throws: usage errors exit 2, target and harness trouble 3, conformance
 * failures 1 (engine/errors.ts).
 */
import { Command, CommanderError, Help } from 'commander';
import { ExitCode, UsageError, messageOf } from './engine/errors.js';
import { toolVersion } from './engine/runner.js';
import type { CliIo, CommandHost } from './cli/common.js';

export type { CliIo } from './cli/common.js';
/** The process-level guard the entry point installs before {@link main} (engine/process-guard.ts). */
export { installProcessGuard } from './engine/process-guard.js';

const defaultIo: CliIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

/** A command module (`harness/cli/<name>.ts`): registers the command, its options and action. */
export interface CommandModule {
  register(host: CommandHost): void | Promise<void>;
}

/**
 * One command, as `--help` lists it before its module is loaded. `term` and
 * `description` repeat what the module registers (test/package/lazy.test.ts
 * checks that they agree).
 */
export interface CommandEntry {
  readonly name: string;
  /** The usage term `--help` lists, e.g. `list [options] [protocol]`. */
  readonly term: string;
  readonly description: string;
  /** Imports the command's module. */
  load(): Promise<CommandModule>;
}

/** The commands, in the order `--help` lists them. */
export const commands: readonly CommandEntry[] = [
  { name: 'run', term: 'run [options]', description: 'Run a protocol\u2019s conformance suite against a target.', load: () => import('./cli/run.js') },
  {
    name: 'replay',
    term: 'replay [options] <fixtures...>',
    description: 'Play fixtures against a live target, judge each trace with the protocol\u2019s model, and compare verdicts with the fixtures\u2019 expect.',
    load: () => import('./cli/replay.js'),
  },
  {
    name: 'fuzz',
    term: 'fuzz [options]',
    description: 'Fuzz a target: generated malformed frames, discriminators and model-based sequences, judged by the protocol\u2019s model; failures shrunk and saved as fixtures.',
    load: () => import('./cli/fuzz.js'),
  },
  {
    name: 'discover',
    term: 'discover [options]',
    description: 'Find a live target\u2019s profile by short, safe experiments: timers measured, readings detected, evidence for each; writes the profile.',
    load: () => import('./cli/discover.js'),
  },
  { name: 'validate', term: 'validate [options] <trace...>', description: 'Check trace files (JSON Lines) against the protocol\u2019s model, offline and streaming.', load: () => import('./cli/validate.js') },
  {
    name: 'export',
    term: 'export [options] <trace...>',
    description: 'Convert trace files (.jsonl) for other tools: qlog (JSON-SEQ .sqlog, for qvis and QUIC tooling).',
    load: () => import('./cli/export.js'),
  },
  { name: 'serve', term: 'serve [options] <protocol>', description: 'Start a protocol\u2019s reference server (until Ctrl-C).', load: () => import('./cli/serve.js') },
  { name: 'client', term: 'client [options] <protocol>', description: 'Start a protocol\u2019s reference client against a target: a REPL, or the commands of --exec.', load: () => import('./cli/client.js') },
  {
    name: 'load',
    term: 'load [options]',
    description: 'Load a target with many connections sending at a fixed rate; every delivered message checked by the protocol\u2019s model and timed (fan-out latency percentiles).',
    load: () => import('./cli/load.js'),
  },
  {
    name: 'selftest',
    term: 'selftest [options]',
    description: 'Start every reference server in-process on loopback with short timers, run its suite against it, write reports (the default job of `npm start`).',
    load: () => import('./cli/selftest.js'),
  },
  { name: 'proxy', term: 'proxy [options]', description: 'Run a TCP chaos proxy (Toxiproxy-style toxics) in front of a server, until Ctrl-C.', load: () => import('./cli/proxy.js') },
  {
    name: 'aura',
    term: 'aura [options] <action> <file>',
    description: 'Check an Aura choreography (well-formedness), project it to its roles, or draw it (Mermaid, DOT).',
    load: () => import('./cli/aura.js'),
  },
  { name: 'list', term: 'list [options] [protocol]', description: 'List protocols, or the cases and fixtures of one protocol.', load: () => import('./cli/list.js') },
  {
    name: 'init',
    term: 'init [options] <protocol>',
    description: 'Scaffold a new protocol: SPEC.md skeleton, codec, model, profile schema, one case, one fixture, reference server core (a working example to replace).',
    load: () => import('./cli/init.js'),
  },
];

/** The command `argv` runs (`help NAME` included), or undefined (`--help`, `--version`, unknown). */
function commandNamed(argv: readonly string[]): CommandEntry | undefined {
  const words = argv.filter((a) => !a.startsWith('-'));
  const name = words[0] === 'help' ? words[1] : words[0];
  return commands.find((c) => c.name === name);
}

/**
 * Registers the commands on `host.program`: the one `host.argv` names fully
 * (its module loaded), every other one as a stub that `--help` lists.
 * With `all`, every module is loaded and registered (tests compare both).
 */
export async function registerCommands(host: CommandHost, all = false): Promise<void> {
  const wanted = commandNamed(host.argv);
  const stubTerms = new WeakMap<Command, string>();
  const help = new Help();
  host.program.configureHelp({ subcommandTerm: (cmd) => stubTerms.get(cmd) ?? help.subcommandTerm(cmd) });
  for (const c of commands) {
    if (all || c === wanted) {
      await (await c.load()).register(host);
    } else {
      stubTerms.set(host.program.command(c.name).description(c.description), c.term);
    }
  }
}

/** Runs the CLI with `argv` (without node and script). Returns the exit code. */
export async function main(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  let code: number = ExitCode.OK;
  const program = new Command('wirecheck')
    .description('Conformance harness and fuzzer for protocols over QUIC and TCP.')
    .version(toolVersion)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  try {
    const host: CommandHost = { program, io, argv, setExitCode: (c) => void (code = c) };
    await registerCommands(host);
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
