/** `wirecheck run`: a protocol's conformance suite against a target. */
import { loadProfile } from '../engine/profile.js';
import { listProtocols, loadSuite } from '../engine/registry.js';
import { parseTarget } from '../engine/target.js';
import { applyProfileFlags, profileOptions, protocolInArgv, addTraceBudgetOptions, addConnectOptions, addFixtureOptions, addReportOptions, checkTransport, connectOptionsFrom, execute, intArg, type CaseSourceFlags, type CliIo, type CommandHost, type ConnectFlags, type ReportFlags, type TraceBudgetFlags } from './common.js';
import { addBaselineOptions, type BaselineFlags } from './baseline.js';

/** Registers `run` (with the profile flags of the protocol named in `argv`, when there is one). */
export async function register({ program, io, argv, setExitCode }: CommandHost): Promise<void> {
  const cmd = program
    .command('run')
    .description('Run a protocol\u2019s conformance suite against a target.')
    .requiredOption('-t, --target <url>', 'target: quic://host:port or tcp://host:port')
    .requiredOption('-p, --protocol <name>', `protocol suite (${listProtocols().join(', ')})`)
    .option('--profile <file>', 'target profile (JSON): timers and choices of the target; default: the seed\u2019s')
    .option('--fast', 'start from the suite\u2019s short-timer profile instead of the seed defaults')
    .option('--cases <pattern>', 'only cases whose id matches (glob with *, comma-separated), e.g. "proton/event/*"')
    .option('--save-failures <dir>', 'write each failing case to DIR as a replayable fixture (wirecheck replay)')
    .option('--qlog <dir>', 'also write each case\u2019s trace as qlog (DIR/<protocol>/<case>.sqlog; QUIC protocols only)')
    .option('--discover', 'discover the target\u2019s profile first (wirecheck discover) and run with it over the base profile; writes OUT/<protocol>.profile.json and its explanation')
    .option('--budget-ms <ms>', 'with --discover: time the discovery may take', intArg('--budget-ms', 1000), 60_000);
  addBaselineOptions(addTraceBudgetOptions(addReportOptions(addConnectOptions(addFixtureOptions(cmd)))))
    .addHelpText('after', '\nExit codes: 0 all passed, 1 conformance failures (a wrong answer to the sanity probe included), 2 usage or input error, 3 target unreachable or silent, or a harness error; 130/143 interrupted twice / terminated (partial reports written).\nWith --baseline: 0 matches the baseline (known failures allowed), 1 a new failure or an unexpected pass.')
    .action(async (o: RunFlags) => setExitCode(await runCommand(o, io)));
  // Profile fields are flags too (e.g. Aura's --choreography and --roles), unless a run flag has the name.
  const named = argv[0] === 'run' ? protocolInArgv(argv) : undefined;
  if (named && listProtocols().includes(named)) {
    for (const opt of profileOptions(await loadSuite(named))) if (!cmd.options.some((x) => x.long === opt.long)) cmd.addOption(opt);
  }
}

interface RunFlags extends ConnectFlags, ReportFlags, TraceBudgetFlags, BaselineFlags, Pick<CaseSourceFlags, 'fixtures' | 'saveFailures' | 'afterRun'> {
  target: string;
  protocol: string;
  profile?: string;
  fast?: boolean;
  cases?: string;
  qlog?: string;
  discover?: boolean;
  budgetMs: number;
  [field: string]: unknown;
}

async function runCommand(o: RunFlags, io: CliIo): Promise<number> {
  const target = parseTarget(o.target);
  const suite = await loadSuite(o.protocol);
  checkTransport(suite, target);
  let profile = applyProfileFlags(suite, o, await loadProfile(suite, o.profile, o.fast ? suite.fastProfile : suite.defaultProfile));
  const qlogDir = o.qlog;
  if (qlogDir !== undefined) {
    // Checked before the run: qlog's events are QUIC's.
    const { requireQuic, writeRunQlogs } = await import('../export/index.js');
    requireQuic(suite, `--qlog ${qlogDir}`);
    o.afterRun = async (run) => {
      const files = await writeRunQlogs(run, qlogDir);
      io.out(`qlog: ${files.length} file${files.length === 1 ? '' : 's'} in ${qlogDir}/${run.protocol}/\n`);
    };
  }
  const connect = await connectOptionsFrom(target, o);
  if (o.discover) {
    const { discoverBeforeRun } = await import('./discover.js');
    const found = await discoverBeforeRun({ suite, base: profile, target, connect, out: o.out, budgetMs: o.budgetMs, quiet: o.quiet === true, ...(o.color === false ? { color: false } : {}) }, io);
    if (typeof found === 'number') return found;
    profile = found;
  }
  return execute(suite, profile, target.url, connect, o, io);
}
