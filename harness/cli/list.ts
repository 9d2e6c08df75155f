/** `wirecheck list [PROTOCOL] [--faults]`. */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ExitCode } from '../engine/errors.js';
import { listProtocols, loadSuite, projectRoot } from '../engine/registry.js';
import { fixtureCasesFor } from '../fixtures/index.js';
import type { CliIo, CommandHost } from './common.js';

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
      const file = path.join(projectRoot, 'reference-server', name, 'faults.ts');
      const mod = (await import(pathToFileURL(file).href).catch(() => ({}))) as { faults?: Record<string, { description: string }> };
      io.out(`${name} faults (wirecheck serve ${name} --fault NAME):\n`);
      for (const [f, d] of Object.entries(mod.faults ?? {})) io.out(`  ${f.padEnd(30)} ${d.description}\n`);
      continue;
    }
    const fixtures = await fixtureCasesFor(suite);
    if (protocol === undefined) {
      io.out(`${name.padEnd(12)} ${suite.transport.padEnd(5)} ${String(suite.cases.length).padStart(3)} cases ${String(fixtures.length).padStart(3)} fixtures  ${suite.title}\n`);
      continue;
    }
    for (const c of [...suite.cases, ...fixtures]) io.out(`${c.id.padEnd(56)} ${c.rules.join(',')}\n    ${c.description}\n`);
  }
  return ExitCode.OK;
}

