/** `wirecheck list [PROTOCOL] [--faults]`. */
import { existsSync } from 'node:fs';
import { ExitCode } from '../engine/errors.js';
import { listProtocols, loadReferenceFaults, loadSuite } from '../engine/registry.js';
import { defaultFixtureDir, findFixtureFiles, fixtureCasesFor } from '../fixtures/index.js';
import { profileCases, type CliIo, type CommandHost } from './common.js';

/** Registers `list`. */
export function register({ program, io, setExitCode }: CommandHost): void {
  program
    .command('list')
    .description('List protocols, or the cases and fixtures of one protocol.')
    .argument('[protocol]', 'protocol name')
    .option('--faults', 'list the deliberate faults of the reference servers')
    .action(async (protocol: string | undefined, o: { faults?: boolean }) => setExitCode(await listCommand(protocol, o, io)));
}

async function listCommand(protocol: string | undefined, o: { faults?: boolean }, io: CliIo): Promise<number> {
  const names = protocol !== undefined ? [protocol] : listProtocols();
  for (const name of names) {
    const suite = await loadSuite(name);
    if (o.faults) {
      const faults = await loadReferenceFaults(name);
      io.out(`${name} faults (wirecheck serve ${name} --fault NAME):\n`);
      for (const [f, d] of Object.entries(faults)) io.out(`  ${f.padEnd(30)} ${d.description}\n`);
      continue;
    }
    if (protocol === undefined) {
      // The overview counts fixture files without checking them (fast start; `list PROTOCOL`, `run` and `replay` check them).
      const dir = defaultFixtureDir(name);
      const fixtures = existsSync(dir) ? (await findFixtureFiles(dir)).length : 0;
      const own = suite.casesFor ? await profileCases(suite, suite.defaultProfile).catch(() => []) : suite.cases;
      io.out(`${name.padEnd(12)} ${suite.transport.padEnd(5)} ${String(own.length).padStart(3)} cases ${String(fixtures).padStart(3)} fixtures  ${suite.title}\n`);
      continue;
    }
    const fixtures = await fixtureCasesFor(suite);
    for (const c of [...(await profileCases(suite, suite.defaultProfile)), ...fixtures]) io.out(`${c.id.padEnd(56)} ${c.rules.join(',')}\n    ${c.description}\n`);
  }
  return ExitCode.OK;
}

