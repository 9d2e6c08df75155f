/** `wirecheck selftest` (`npm start`): every reference server in-process, its suite against it. */
import type { ConnectOptions } from '../drivers/types.js';
import { ExitCode, UsageError } from '../engine/errors.js';
import { listProtocols, loadReferenceServer, loadSuite } from '../engine/registry.js';
import { addFixtureOptions, addReportOptions, execute, type CaseSourceFlags, type CliIo, type CommandHost, type ReportFlags } from './common.js';
import { addBaselineOptions, type BaselineFlags } from './baseline.js';

/** Reports `selftest` (`npm start`) writes when `--reporter` is not given: run's default and the HTML report. */
export const SELFTEST_REPORTERS = 'tap,json,html';

/** Registers `selftest`. */
export function register({ program, io, setExitCode }: CommandHost): void {
  const cmd = program
    .command('selftest')
    .description('Start every reference server in-process on loopback with short timers, run its suite against it, write reports (the default job of `npm start`).')
    .option('-p, --protocol <name>', 'only this protocol')
    .option('--cases <pattern>', 'only cases whose id matches');
  addBaselineOptions(addReportOptions(addFixtureOptions(cmd)))
    .addHelpText('after', `\nWithout --reporter, selftest writes ${SELFTEST_REPORTERS} (the HTML report to look at: reports/<protocol>.html).`)
    .action(async (o: SelftestFlags, c: { getOptionValueSource(k: string): string | undefined }) => {
      if (c.getOptionValueSource('reporter') === 'default') o.reporter = SELFTEST_REPORTERS;
      setExitCode(await selftestCommand(o, io));
    });
}

interface SelftestFlags extends ReportFlags, BaselineFlags, Pick<CaseSourceFlags, 'fixtures'> {
  protocol?: string;
  cases?: string;
}

async function selftestCommand(o: SelftestFlags, io: CliIo): Promise<number> {
  const names = o.protocol !== undefined ? [o.protocol] : listProtocols();
  if ((o.baseline !== undefined || o.writeBaseline !== undefined) && names.length > 1) {
    throw new UsageError('--baseline and --write-baseline hold one protocol: add --protocol');
  }
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

