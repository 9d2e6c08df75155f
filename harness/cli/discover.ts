/**
 * `wirecheck discover`: finds a live target's profile (timers, readings of
 * the seed's open points) by short, safe experiments (harness/discover),
 * prints what it found and why, and writes the profile and its
 * explanation. Also what `run --discover` does before its run
 * ({@link discoverBeforeRun}).
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import type { ConnectOptions } from '../drivers/types.js';
import { driverFor } from '../drivers/index.js';
import { DEFAULT_DISCOVERY_BUDGET_MS, runDiscovery } from '../discover/run.js';
import { explanationFile, explanationText, formatDiscovery, profileText } from '../discover/summary.js';
import type { DiscoveryResult } from '../discover/types.js';
import { ExitCode, UsageError } from '../engine/errors.js';
import { loadProfile } from '../engine/profile.js';
import { listProtocols, loadSuite } from '../engine/registry.js';
import { parseTarget, type Target } from '../engine/target.js';
import type { ProtocolSuite } from '../engine/types.js';
import { writeFileAtomic } from '../reports/atomic.js';
import { shouldColor } from '../reports/summary.js';
import { forTerminal } from '../reports/terminal.js';
import { addConnectOptions, checkTransport, connectOptionsFrom, type CliIo, type CommandHost, type ConnectFlags } from './common.js';
import { prepareOutDir } from './outputs.js';

/** Parses `--budget-ms`: a whole number of ms ≥ 1000. */
export const budgetArg = (v: string): number => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1000) throw new InvalidArgumentError(`--budget-ms must be an integer ≥ 1000 (ms), got ${JSON.stringify(v)}`);
  return n;
};

/** Registers `discover`. */
export function register({ program, io, setExitCode }: CommandHost): void {
  const cmd = program
    .command('discover')
    .description('Find a live target\u2019s profile by short, safe experiments: timers measured, readings detected, evidence for each; writes the profile.')
    .requiredOption('-t, --target <url>', 'target: quic://host:port or tcp://host:port')
    .requiredOption('-p, --protocol <name>', `protocol (${listProtocols().join(', ')})`)
    .option('-o, --out <file>', 'write the discovered profile there, and its explanation with the evidence beside it (x.json: x.discovery.json); default: print the profile')
    .option('--profile <file>', 'base profile the experiments start from (their waits, the least tolerance); default: the seed\u2019s')
    .option('--fast', 'start from the suite\u2019s short-timer profile instead of the seed defaults')
    .option('--budget-ms <ms>', 'time the whole discovery may take; a timer longer than its share is reported as not determined, with a lower bound', budgetArg, DEFAULT_DISCOVERY_BUDGET_MS)
    .option('--evidence', 'print the evidence (trace excerpts) of every field, not only of dropped ones')
    .option('--no-color', 'no colour in terminal output')
    .option('-q, --quiet', 'no progress lines');
  addConnectOptions(cmd)
    .addHelpText('after', '\nA field that could not be determined is left out of the profile and reported, never guessed.\nExit codes: 0 discovery done (some fields may be undetermined: see the summary), 2 usage or input error, 3 target unreachable or silent, or a harness error.')
    .action(async (o: DiscoverFlags) => setExitCode(await discoverCommand(o, io)));
}

interface DiscoverFlags extends ConnectFlags {
  target: string;
  protocol: string;
  out?: string;
  profile?: string;
  fast?: boolean;
  budgetMs: number;
  evidence?: boolean;
  color: boolean;
  quiet?: boolean;
}

/**
 * Checks at once that `file` can be written (its folder exists or can be
 * made, is writable, and `file` is not a folder).
 * @throws UsageError naming the flag and the reason.
 */
export async function checkOutFile(file: string, flag = '--out'): Promise<void> {
  const st = await stat(file).catch(() => undefined);
  if (st?.isDirectory()) throw new UsageError(`${flag} ${file}: is a folder; give a file name such as ${path.join(file, 'profile.json')}`);
  await prepareOutDir(path.dirname(path.resolve(file)), flag);
}

/** Runs a discovery with progress on stderr; never throws for the target's doing. */
async function discoverWith(suite: ProtocolSuite<object>, base: object, target: Target, connect: ConnectOptions, budgetMs: number, quiet: boolean, io: CliIo): Promise<DiscoveryResult> {
  const ac = new AbortController();
  const onSigint = () => {
    io.err('\nwirecheck: interrupted; finishing the current experiment (Ctrl-C again to quit)\n');
    ac.abort();
    process.off('SIGINT', onSigint);
  };
  process.on('SIGINT', onSigint);
  try {
    if (!quiet) io.err(`wirecheck: discovering the ${suite.name} profile of ${target.url} (budget ${budgetMs} ms)\n`);
    return await runDiscovery({ suite, driver: driverFor(suite.transport), targetUrl: target.url, connect, base, budgetMs, signal: ac.signal, ...(quiet ? {} : { onProgress: (l: string) => io.err(`  ${forTerminal(l)}\n`) }) });
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** The suite's discovery, or a UsageError naming the protocol. */
function requireDiscovery(suite: ProtocolSuite<object>): void {
  if (!suite.discover) throw new UsageError(`--protocol ${suite.name}: this protocol has no profile discovery (suites/${suite.name}/discover.ts); write a profile by hand (see its profile.schema.json)`);
}

async function discoverCommand(o: DiscoverFlags, io: CliIo): Promise<number> {
  const target = parseTarget(o.target);
  const suite = await loadSuite(o.protocol);
  checkTransport(suite, target);
  requireDiscovery(suite);
  const base = await loadProfile(suite, o.profile, o.fast ? suite.fastProfile : suite.defaultProfile);
  if (o.out !== undefined) await checkOutFile(o.out);
  const connect = await connectOptionsFrom(target, o);
  const r = await discoverWith(suite, base, target, connect, o.budgetMs, o.quiet === true, io);
  const color = o.color === false ? false : shouldColor();
  io.out(`${formatDiscovery(r, { color, evidence: o.evidence === true })}\n`);
  if (r.probe.verdict === 'unreachable' || r.probe.verdict === 'silent') {
    io.err(`wirecheck: target ${target.url} is ${r.probe.verdict}: ${forTerminal(r.probe.message ?? '')}; nothing discovered\n`);
    return ExitCode.TARGET;
  }
  if (o.out !== undefined) {
    const explain = explanationFile(o.out);
    await writeFileAtomic(o.out, [profileText(r)]);
    await writeFileAtomic(explain, [explanationText(r)]);
    io.out(`Profile: ${o.out} (${Object.keys(r.profile).length} fields); explanation and evidence: ${explain}\n`);
    io.out(`Next: wirecheck run --target ${target.url} --protocol ${suite.name} --profile ${o.out}${o.fast ? ' --fast' : ''}\n`);
  } else {
    io.out(`Profile:\n${profileText(r)}`);
  }
  return ExitCode.OK;
}

/** What `run --discover` passes. */
export interface DiscoverBeforeRunOptions {
  readonly suite: ProtocolSuite<object>;
  /** The run's profile (`--profile`, `--fast` or the defaults): the base of the discovery. */
  readonly base: object;
  readonly target: Target;
  readonly connect: ConnectOptions;
  /** The run's report folder: the profile and explanation go to `OUT/<protocol>.profile.json` and `OUT/<protocol>.profile.discovery.json`. */
  readonly out: string;
  readonly budgetMs: number;
  readonly quiet: boolean;
  /** Colour the summary (default: when stdout is a terminal, reports/summary.ts shouldColor). */
  readonly color?: boolean;
}

/**
 * `run --discover`: discovers the profile, prints the summary, writes the
 * profile and its explanation into the report folder, and returns the
 * profile the run uses (the base with the discovered fields), or the exit
 * code when the target is unreachable or silent.
 * @throws UsageError when the protocol has no discovery or the report folder cannot be written.
 */
export async function discoverBeforeRun(o: DiscoverBeforeRunOptions, io: CliIo): Promise<object | number> {
  requireDiscovery(o.suite);
  await prepareOutDir(o.out);
  const r = await discoverWith(o.suite, o.base, o.target, o.connect, o.budgetMs, o.quiet, io);
  io.out(`${formatDiscovery(r, { color: o.color ?? shouldColor() })}\n`);
  if (r.probe.verdict === 'unreachable' || r.probe.verdict === 'silent') {
    io.err(`wirecheck: target ${o.target.url} is ${r.probe.verdict}: ${forTerminal(r.probe.message ?? '')}; nothing discovered, no case run\n`);
    return ExitCode.TARGET;
  }
  const file = path.join(o.out, `${o.suite.name}.profile.json`);
  await writeFileAtomic(file, [profileText(r)]);
  await writeFileAtomic(explanationFile(file), [explanationText(r)]);
  io.out(`Discovered profile: ${file}; explanation and evidence: ${explanationFile(file)}\n\n`);
  return { ...o.base, ...r.profile };
}
