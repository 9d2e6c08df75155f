/**
 * The `wirecheck` command line. Each command lives in `harness/cli/<name>.ts`
 * and registers itself here. `main(argv)` returns the exit code and never
 * throws: usage errors exit 2, target and harness trouble 3, conformance
 * failures 1 (engine/errors.ts).
 */
import { Command, CommanderError } from 'commander';
import { ExitCode, UsageError, messageOf } from './engine/errors.js';
import { toolVersion } from './engine/runner.js';
import type { CliIo, CommandHost } from './cli/common.js';
import * as run from './cli/run.js';
import * as serve from './cli/serve.js';
import * as client from './cli/client.js';
import * as selftest from './cli/selftest.js';
import * as list from './cli/list.js';
import * as proxy from './cli/proxy.js';
import * as validate from './cli/validate.js';
import * as replay from './cli/replay.js';
import * as fuzz from './cli/fuzz.js';
import * as exportCmd from './cli/export.js';

export type { CliIo } from './cli/common.js';

const defaultIo: CliIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

/** The commands, in the order `--help` lists them. */
const commands: readonly { register(host: CommandHost): void | Promise<void> }[] = [run, replay, fuzz, validate, exportCmd, serve, client, selftest, proxy, list];

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
    for (const c of commands) await c.register(host);
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
