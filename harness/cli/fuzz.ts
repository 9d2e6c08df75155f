/**
 * `wirecheck fuzz`: a fuzz campaign against a target (harness/fuzz), with a
 * progress line, a summary, reports in `run`'s formats, the campaign file
 * and one fixture per finding; `wirecheck fuzz merge FILE...` merges the
 * campaign files of shards into one report.
 */
import { randomInt } from 'node:crypto';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { driverFor } from '../drivers/index.js';
import { createMemoryTarget } from '../drivers/memory.js';
import { VirtualClock } from '../engine/clock.js';
import type { ServerCore } from '../engine/server-core.js';
import { ExitCode, UsageError } from '../engine/errors.js';
import { loadProfile } from '../engine/profile.js';
import { listProtocols, loadReferenceCore, loadSuite } from '../engine/registry.js';
import { parseTarget } from '../engine/target.js';
import { runCampaign, type CampaignResult, type FuzzTarget } from '../fuzz/campaign.js';
import { overlapCloses } from '../fuzz/overlap.js';
import { CampaignFileError, campaignToRun, findingFixturePath, formatFuzzProgress, formatFuzzSummary, mergeCampaigns, readCampaign, writeCampaign } from '../fuzz/report.js';
import type { ShardSpec } from '../fuzz/types.js';
import { addConnectOptions, addReportOptions, checkTransport, connectOptionsFrom, intArg, type CliIo, type CommandHost, type ConnectFlags, type ReportFlags } from './common.js';
import { prepareOutDir, writeReports } from './outputs.js';
import { forTerminal } from '../reports/terminal.js';
import { onEmergency } from '../engine/process-guard.js';
import { messageOf } from '../engine/errors.js';

/** Report folder of `fuzz` when `--out` is not given. */
export const FUZZ_OUT = 'reports/fuzz';

/**
 * Parses a duration flag: `90` (seconds), `500ms`, `60s`, `2m`, `1h`.
 * @returns milliseconds.
 * @throws InvalidArgumentError for anything else.
 */
export function parseDurationFlag(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  if (!m) throw new InvalidArgumentError(`duration must be a number with an optional unit ms, s, m or h (e.g. 60s, 2m), got ${JSON.stringify(v)}`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const ms = unit === 'ms' ? n : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n * 3_600_000;
  if (ms < 1) throw new InvalidArgumentError(`duration must be at least 1 ms, got ${JSON.stringify(v)}`);
  return Math.round(ms);
}

/** Parses `--shard i/n` (1-based i, 1 ≤ i ≤ n). @throws InvalidArgumentError. */
export function parseShard(v: string): ShardSpec {
  const m = /^(\d+)\/(\d+)$/.exec(v.trim());
  const i = m ? Number(m[1]) : NaN;
  const n = m ? Number(m[2]) : NaN;
  if (!m || n < 1 || i < 1 || i > n) throw new InvalidArgumentError(`shard must be i/n with 1 ≤ i ≤ n (e.g. 2/4), got ${JSON.stringify(v)}`);
  return { index: i - 1, count: n };
}

/** Parses `--replay SEED:PATH` (fast-check seed, then the shrink path, e.g. `-12345:3:0:1`). @throws InvalidArgumentError. */
export function parseReplay(v: string): { seed: number; path: string } {
  const m = /^(-?\d+):(\d+(?::\d+)*)$/.exec(v.trim());
  if (!m || !Number.isSafeInteger(Number(m[1]))) throw new InvalidArgumentError(`replay must be SEED:PATH as a finding prints it (e.g. 1924735956:2:0:0), got ${JSON.stringify(v)}`);
  return { seed: Number(m[1]), path: m[2]! };
}

const parseSeed = (v: string): number => {
  if (!/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(Number(v))) throw new InvalidArgumentError(`seed must be an integer, got ${JSON.stringify(v)}`);
  return Number(v);
};

interface FuzzFlags extends ConnectFlags, ReportFlags {
  target?: string;
  protocol?: string;
  profile?: string;
  fast?: boolean;
  runs?: number;
  duration?: number;
  seed?: number;
  replay?: { seed: number; path: string };
  shard?: ShardSpec;
  arbitraries?: string;
  maxShrink?: number;
  inProcess?: boolean;
  fault?: string;
}

/** Registers `fuzz` and `fuzz merge`. */
export function register({ program, io, setExitCode }: CommandHost): void {
  const cmd = program
    .command('fuzz')
    .description('Fuzz a target: generated malformed frames, discriminators and model-based sequences, judged by the protocol\u2019s model; failures shrunk and saved as fixtures.')
    .option('-t, --target <url>', 'target: quic://host:port or tcp://host:port')
    .option('-p, --protocol <name>', `protocol (${listProtocols().join(', ')}); required`)
    .option('--profile <file>', 'target profile (JSON): timers and choices of the target; default: the seed\u2019s')
    .option('--fast', 'start from the suite\u2019s short-timer profile instead of the seed defaults')
    .option('--runs <n>', 'programs to generate over the whole campaign (all shards); default 100 unless --duration', intArg('--runs', 1))
    .option('--duration <time>', 'time box, e.g. 60s, 2m: no new program after it (with --runs: whichever comes first)', parseDurationFlag)
    .option('--seed <n>', 'campaign seed (default: random, printed)', parseSeed)
    .option('--replay <seed:path>', 'replay one counterexample as a finding prints it (with --arbitraries NAME)', parseReplay)
    .option('--shard <i/n>', 'run shard i of n (disjoint rounds of the same campaign; merge the campaign files with `wirecheck fuzz merge`)', parseShard)
    .option('--arbitraries <names>', 'generators to use, comma-separated (default: all of the protocol\u2019s)')
    .option('--max-shrink <n>', 'most cases spent shrinking one failure', intArg('--max-shrink', 0))
    .option('--in-process', 'fuzz the protocol\u2019s reference server core in this process (no sockets, virtual time) instead of --target')
    .option('--fault <name>', 'with --in-process: the reference core misbehaves on purpose (`wirecheck list PROTOCOL --faults`)');
  addReportOptions(addConnectOptions(cmd))
    .addHelpText(
      'after',
      `\nReports go to ${FUZZ_OUT}/ unless --out is given: <protocol>.tap/.json/.xml (one case per finding, one per generator, one for coverage),\n<protocol>.fuzz.json (the campaign, for \`wirecheck fuzz merge\`), findings/*.json (each counterexample as a fixture for \`wirecheck replay\`).\nExit codes: 0 no finding, 1 findings, 2 usage or input error, 3 target unreachable, interrupted, a generator failed or an internal error; 130/143 interrupted twice / terminated (partial reports written).`,
    )
    .action(async (o: FuzzFlags, c: { getOptionValueSource(k: string): string | undefined }) => {
      if (c.getOptionValueSource('out') === 'default') o.out = FUZZ_OUT;
      setExitCode(await fuzzCommand(o, io));
    });
  addReportOptions(
    cmd
      .command('merge')
      .description('Merge the campaign files (<protocol>.fuzz.json) of the shards of one campaign into one report.')
      .argument('<files...>', 'campaign files written by `wirecheck fuzz --shard i/n`'),
  )
    .addHelpText('after', `\nReports go to ${FUZZ_OUT}/merged/ unless --out is given. Exit codes as fuzz.`)
    .action(async (files: string[], o: ReportFlags, c: Command) => {
      // The root program parses options anywhere, so `fuzz` itself takes the report flags given after `merge`.
      const parent = c.parent;
      const mine = o as unknown as Record<string, unknown>;
      for (const k of ['out', 'reporter', 'color', 'quiet']) {
        if (c.getOptionValueSource(k) !== 'cli' && parent?.getOptionValueSource(k) === 'cli') mine[k] = parent.opts()[k];
      }
      if (c.getOptionValueSource('out') !== 'cli' && parent?.getOptionValueSource('out') !== 'cli') o.out = `${FUZZ_OUT}/merged`;
      setExitCode(await mergeCommand(files, o, io));
    });
}

async function fuzzCommand(o: FuzzFlags, io: CliIo): Promise<number> {
  // Checked here, not by commander: `fuzz merge` must not need it.
  if (o.protocol === undefined) throw new UsageError(`fuzz needs --protocol NAME (${listProtocols().join(', ')})`);
  const suite = await loadSuite(o.protocol);
  if (!suite.fuzz) throw new UsageError(`--protocol ${o.protocol}: this protocol has no fuzz generators (suite.fuzz)`);
  if (o.inProcess && o.target !== undefined) throw new UsageError('--in-process and --target exclude each other');
  if (!o.inProcess && o.target === undefined) throw new UsageError('fuzz needs --target URL (or --in-process for the reference core)');
  if (o.fault !== undefined && !o.inProcess) throw new UsageError('--fault needs --in-process (a live target misbehaves on its own: `wirecheck serve PROTOCOL --fault NAME`)');
  const profile = await loadProfile(suite, o.profile, o.fast ? suite.fastProfile : suite.defaultProfile);
  const names = o.arbitraries?.split(',').map((s) => s.trim()).filter(Boolean);
  const known = Object.keys(await suite.fuzz.arbitraries(profile));
  for (const n of names ?? []) if (!known.includes(n)) throw new UsageError(`--arbitraries: unknown generator ${JSON.stringify(n)} for ${suite.name}; known: ${known.join(', ')}`);
  if (o.replay && names?.length !== 1) throw new UsageError(`--replay needs --arbitraries with the one generator that found it (${known.join(', ')})`);
  let target: FuzzTarget;
  if (o.inProcess) {
    const create = await loadReferenceCore(suite.name);
    if (!create) throw new UsageError(`--in-process: protocol ${suite.name} has no reference core (reference-server/${suite.name}/index.ts createReferenceCore)`);
    let core: ServerCore;
    try {
      core = create({ profile, ...(o.fault !== undefined ? { fault: o.fault } : {}) });
    } catch (err) {
      throw new UsageError(`--fault ${o.fault ?? ''}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const clock = new VirtualClock();
    const alpn = suite.connectOptions(profile).alpn;
    const mem = createMemoryTarget({ core, clock, transport: suite.transport, ...(alpn ? { alpn } : {}) });
    target = { url: `memory:${suite.name}${o.fault !== undefined ? `?fault=${o.fault}` : ''}`, driver: mem.driver, connect: mem.connect, clock };
  } else {
    const t = parseTarget(o.target!);
    checkTransport(suite, t);
    // Closes overlap with the next case: set-up and teardown dominate a case over QUIC (harness/fuzz/overlap.ts).
    const ov = overlapCloses(driverFor(suite.transport));
    target = { url: t.url, driver: ov.driver, connect: await connectOptionsFrom(t, o), drain: () => ov.drain() };
  }
  await prepareOutDir(o.out);
  const seed = o.seed ?? randomInt(0, 2 ** 31);
  const shard = o.shard ?? { index: 0, count: 1 };

  const ac = new AbortController();
  const onSigint = () => {
    io.err('\nwirecheck: interrupted; finishing the current case and writing partial reports (Ctrl-C again to quit)\n');
    ac.abort();
    process.off('SIGINT', onSigint);
  };
  process.on('SIGINT', onSigint);
  const tty = process.stderr.isTTY === true && !o.quiet;
  let lastPrint = 0;
  let lastLine = '';
  const budget = o.replay ? `replay ${o.replay.seed}:${o.replay.path}` : `${o.runs !== undefined ? `${o.runs} programs` : o.duration === undefined ? '100 programs' : ''}${o.runs !== undefined && o.duration !== undefined ? ' or ' : ''}${o.duration !== undefined ? `${o.duration / 1000} s` : ''}`;
  if (!o.quiet) io.err(`wirecheck fuzz: ${suite.name} against ${target.url}, seed ${seed}, shard ${shard.index + 1}/${shard.count}, budget ${budget}, generators ${(names ?? known).join(', ')}\n`);
  // Partial reports (the cases run so far, `stopped` saying why) on every exit path, as `run` (cli/common.ts execute):
  // SIGINT ends the campaign after the current case (below); SIGTERM and uncaught errors go through the process guard; an internal error is caught here.
  let partial: ((why: string) => CampaignResult) | undefined;
  let flushed = false;
  /** The emergency flush under way, if one started: the campaign's own end then writes nothing (one writer per report). */
  let flushing: Promise<void> | undefined;
  const flushPartial = (why: string): Promise<void> => {
    if (flushed || partial === undefined) return Promise.resolve();
    flushed = true;
    ac.abort(); // no new case starts while the process goes down
    const r = partial(why);
    flushing = (async () => {
      const { campaignFile } = await writeCampaign(r, o.out);
      const { written } = await writeReports(campaignToRun(r), o, { campaign: r });
      io.err(`wirecheck: partial reports (${r.stats.cases} cases, ${forTerminal(why)}): ${[...written, campaignFile].join(', ')}\n`);
    })();
    return flushing;
  };
  const unguard = onEmergency(flushPartial);
  let result: CampaignResult;
  try {
    result = await runCampaign({
      onStart: (p) => void (partial = p),
      suite,
      profile,
      target,
      seed,
      ...(o.runs !== undefined ? { runs: o.runs } : {}),
      ...(o.duration !== undefined ? { durationMs: o.duration } : {}),
      shard,
      ...(names ? { arbitraries: names } : {}),
      ...(o.replay ? { replay: o.replay } : {}),
      ...(o.maxShrink !== undefined ? { maxShrinkCases: o.maxShrink } : {}),
      signal: ac.signal,
      onProgress: (p) => {
        if (o.quiet) return;
        const now = performance.now();
        if (now - lastPrint < (tty ? 200 : 5_000)) return;
        lastPrint = now;
        lastLine = formatFuzzProgress(p);
        io.err(tty ? `\r\x1b[2K${lastLine}` : `${lastLine}\n`);
      },
      onFinding: (f) => {
        if (o.quiet) return;
        io.err(`${tty ? '\r\x1b[2K' : ''}finding: ${f.id} ${f.rule} (${f.verdict}) after ${f.foundAfter.generated} programs, shrunk in ${f.shrinkCases} cases\n`);
      },
    });
  } catch (err) {
    // An internal error: keep what was gathered, then let the CLI report it (exit 3).
    await flushPartial(`internal error: ${messageOf(err)}`).catch((e: unknown) => io.err(`wirecheck: partial reports: ${forTerminal(messageOf(e))}\n`));
    throw err;
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (flushing) {
    // The process guard is writing the partial reports and ends the process (SIGTERM: 143); nothing more to write here.
    await flushing.catch(() => undefined);
    return ExitCode.TARGET;
  }
  flushed = true;
  unguard();
  if (tty && lastLine) io.err('\r\x1b[2K');
  const { campaignFile, fixtures } = await writeCampaign(result, o.out);
  const { written } = await writeReports(campaignToRun(result), o, { campaign: result });
  const conn = o.inProcess ? '' : `${o.insecure ? ' --insecure' : ''}${o.ca ? ` --ca ${o.ca}` : ''}${o.serverName ? ` --server-name ${o.serverName}` : ''}${o.alpn ? ` --alpn ${o.alpn}` : ''}`;
  const cmdline = (f: { arbitrary: string; seed: number; path: string }) =>
    `wirecheck fuzz ${o.inProcess ? '--in-process' : `--target ${target.url}`}${conn} --protocol ${suite.name}${o.fault ? ` --fault ${o.fault}` : ''}${o.profile ? ` --profile ${o.profile}` : ''}${o.fast ? ' --fast' : ''} --arbitraries ${f.arbitrary} --replay ${f.seed}:${f.path}`;
  io.out(formatFuzzSummary(result, { replayCommand: cmdline, fixtureFile: (f) => findingFixturePath(o.out, f) }));
  io.out(`Reports: ${[...written, campaignFile].join(', ')}\n`);
  if (fixtures.length) io.out(`Fixtures (replay with \`wirecheck replay --target URL ${path.join(o.out, 'findings')}/\`): ${fixtures.join(', ')}\n`);
  if (result.probeFailure) {
    io.err(`wirecheck: target ${target.url} answered the sanity probe wrongly before the first case, a conformance failure (${result.probeFailure.id} in the reports): ${forTerminal(result.stopped ?? '')}\n`);
    return ExitCode.FAILURES;
  }
  if (!result.firstProbeOk) {
    io.err(`wirecheck: target ${target.url} did not pass the sanity probe before the first case (unreachable, silent, or its answer broke the exchange): ${forTerminal(result.stopped ?? '')}\n`);
    return ExitCode.TARGET;
  }
  if (result.findings.length > 0) return ExitCode.FAILURES;
  if (result.stopped !== undefined) return ExitCode.TARGET;
  return ExitCode.OK;
}

async function mergeCommand(files: string[], o: ReportFlags, io: CliIo): Promise<number> {
  await prepareOutDir(o.out);
  let merged: CampaignResult;
  try {
    merged = mergeCampaigns(await Promise.all(files.map((f) => readCampaign(f))));
  } catch (err) {
    if (err instanceof CampaignFileError) throw new UsageError(err.message);
    throw err;
  }
  const { campaignFile, fixtures } = await writeCampaign(merged, o.out);
  const { written } = await writeReports(campaignToRun(merged), o, { campaign: merged });
  io.out(formatFuzzSummary(merged, { fixtureFile: (f) => findingFixturePath(o.out, f) }));
  io.out(`Reports: ${[...written, campaignFile].join(', ')}\n`);
  if (fixtures.length) io.out(`Fixtures: ${fixtures.join(', ')}\n`);
  if (!merged.firstProbeOk) return ExitCode.TARGET;
  return merged.findings.length > 0 ? ExitCode.FAILURES : merged.stopped !== undefined ? ExitCode.TARGET : ExitCode.OK;
}
