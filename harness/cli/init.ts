/** `wirecheck init PROTOCOL`: scaffolds a new protocol's folders (harness/init). */
import { ExitCode, UsageError } from '../engine/errors.js';
import { codeRoot, projectRoot } from '../engine/registry.js';
import { scaffoldProtocol } from '../init/index.js';
import type { CliIo, CommandHost } from './common.js';

/** Registers `init`. */
export function register({ program, io, setExitCode }: CommandHost): void {
  program
    .command('init')
    .description('Scaffold a new protocol: SPEC.md skeleton, codec, model, profile schema, one case, one fixture, reference server core (a working example to replace).')
    .argument('<protocol>', 'protocol name (lower-case letters, digits, hyphens): the folder names and case id prefix')
    .option('--dir <dir>', 'project folder to write into (default: this wirecheck checkout)')
    .option('--title <text>', 'title for SPEC.md and reports (default from the name)')
    .addHelpText('after', '\nWrites suites/PROTOCOL/, fixtures/PROTOCOL/ and reference-server/PROTOCOL/; refuses when any exists.\nExit codes: 0 written, 2 bad name or the folders exist.')
    .action(async (name: string, o: { dir?: string; title?: string }) => setExitCode(await initCommand(name, o, io)));
}

async function initCommand(name: string, o: { dir?: string; title?: string }, io: CliIo): Promise<number> {
  // An installed package runs compiled code from dist/: TypeScript folders added to it would not be loaded.
  if (o.dir === undefined && codeRoot !== projectRoot) throw new UsageError('init adds TypeScript folders to a wirecheck checkout (git clone); this is an installed package: give --dir CHECKOUT');
  const dir = o.dir ?? projectRoot;
  const written = await scaffoldProtocol({ name, dir, ...(o.title !== undefined ? { title: o.title } : {}) });
  io.out(`Wrote ${written.length} files in ${dir}:\n${written.map((f) => `  ${f}\n`).join('')}`);
  io.out(`Next: npm test; wirecheck selftest --protocol ${name}; then replace the example (a length-prefixed echo) with your protocol, SPEC.md first (README "Adding a protocol").\n`);
  return ExitCode.OK;
}
