/**
 * `wirecheck aura check|project|graph FILE [--role R] [--format F]`: the
 * Aura choreography language's checker, projection and diagrams
 * (suites/aura/SPEC.md). The work is done by `suites/aura/cli.ts`; this
 * module only parses the command line. Exit codes: 0 well-formed, 1 not,
 * 2 the file cannot be read or parsed, or bad usage.
 */
import { Argument, Option } from 'commander';
import type { CommandHost } from './common.js';

/** Registers `aura`. */
export function register({ program, io, setExitCode }: CommandHost): void {
  program
    .command('aura')
    .description('Check an Aura choreography (well-formedness), project it to its roles, or draw it (Mermaid, DOT).')
    .addArgument(new Argument('<action>', 'what to do').choices(['check', 'project', 'graph']))
    .argument('<file>', 'the choreography (.aura, or a Scribble/nuScr global protocol)')
    .option('--role <role>', 'only this role (project, graph)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'mermaid', 'dot']).default('text'))
    .addHelpText('after', '\nExit codes: 0 well-formed, 1 not (the rule, the role and the two conflicting continuations are named), 2 cannot read or parse.')
    .action(async (action: 'check' | 'project' | 'graph', file: string, o: { role?: string; format: 'text' | 'json' | 'mermaid' | 'dot' }) => {
      const { auraCommand } = await import('../../suites/aura/cli.js');
      const r = auraCommand({ action, file, format: o.format, ...(o.role !== undefined ? { role: o.role } : {}) });
      if (r.stdout) io.out(r.stdout);
      if (r.stderr) io.err(r.stderr);
      setExitCode(r.exitCode);
    });
}
