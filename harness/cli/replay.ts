/**
 * `wirecheck replay --target URL FIXTURE...`: plays fixtures (files or
 * folders) against a live target, judges every trace with the protocol's
 * monitor, reports like `run`, then compares each verdict with the
 * fixture's `expect` (or, with `--expect-observed`, its `observed`).
 */
import { readFile, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { UsageError } from '../engine/errors.js';
import { loadProfile } from '../engine/profile.js';
import { listProtocols, loadSuite } from '../engine/registry.js';
import { parseTarget } from '../engine/target.js';
import type { CaseResult, RunResult, Verdict } from '../engine/types.js';
import { findFixtureFiles, fixtureToCase, loadFixtures, type FixtureOutcome, type LoadedFixture } from '../fixtures/index.js';
import { addTraceBudgetOptions, addConnectOptions, addReportOptions, checkTransport, connectOptionsFrom, execute, type CliIo, type CommandHost, type ConnectFlags, type ReportFlags, type TraceBudgetFlags } from './common.js';

/** Report folder of `replay` when `--out` is not given (keeps `run`'s reports). */
export const REPLAY_OUT = 'reports/replay';

/** Registers `replay`. */
export function register({ program, io, setExitCode }: CommandHost): void {
  const cmd = program
    .command('replay')
    .description('Play fixtures against a live target, judge each trace with the protocol\u2019s model, and compare verdicts with the fixtures\u2019 expect.')
    .argument('<fixtures...>', 'fixture files (JSON) or folders of them (searched recursively, traces/ skipped)')
    .requiredOption('-t, --target <url>', 'target: quic://host:port or tcp://host:port')
    .option('-p, --protocol <name>', `protocol (${listProtocols().join(', ')}); default: the fixtures\u2019 own`)
    .option('--profile <file>', 'target profile (JSON): timers and choices of the target; default: the seed\u2019s')
    .option('--fast', 'start from the suite\u2019s short-timer profile instead of the seed defaults')
    .option('--cases <pattern>', 'only fixtures whose id matches (glob with *, comma-separated)')
    .option('--expect-observed', 'compare verdicts with each fixture\u2019s "observed" (the failure it was saved from) instead of "expect"');
  addTraceBudgetOptions(addReportOptions(addConnectOptions(cmd)))
    .addHelpText('after', `\nReports go to ${REPLAY_OUT}/ unless --out is given.\nExit codes (as run): 0 all passed, 1 conformance failures, 2 usage or input error (a bad fixture: file and JSON pointer), 3 target unreachable or harness error.\nMismatches with the fixtures' expectations are listed after the summary.`)
    .action(async (files: string[], o: ReplayFlags, c: Command) => {
      if (c.getOptionValueSource('out') === 'default') o.out = REPLAY_OUT;
      setExitCode(await replayCommand(files, o, io));
    });
}

interface ReplayFlags extends ConnectFlags, ReportFlags, TraceBudgetFlags {
  target: string;
  protocol?: string;
  profile?: string;
  fast?: boolean;
  cases?: string;
  expectObserved?: boolean;
}

/** The protocols named by the fixtures' `protocol` fields (unreadable files are left to the loader to report). */
async function protocolsOf(paths: readonly string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (const p of paths) {
    const st = await stat(p).catch(() => undefined);
    if (!st) throw new UsageError(`replay: ${p} does not exist`);
    for (const file of st.isDirectory() ? await findFixtureFiles(p) : [p]) {
      try {
        const data = JSON.parse(await readFile(file, 'utf8')) as { protocol?: unknown };
        if (typeof data.protocol === 'string') out.add(data.protocol);
      } catch {
        /* reported by loadFixtures */
      }
    }
  }
  return out;
}

async function replayCommand(paths: string[], o: ReplayFlags, io: CliIo): Promise<number> {
  const target = parseTarget(o.target);
  let protocol = o.protocol;
  if (protocol === undefined) {
    const named = [...(await protocolsOf(paths))];
    if (named.length !== 1) {
      throw new UsageError(named.length === 0 ? 'replay: no fixture names its protocol; add --protocol' : `replay: the fixtures are for several protocols (${named.join(', ')}); add --protocol`);
    }
    protocol = named[0]!;
  }
  const suite = await loadSuite(protocol);
  checkTransport(suite, target);
  const loaded = await loadFixtures(paths, suite);
  if (loaded.length === 0) throw new UsageError(`replay: no fixture (*.json) in ${paths.join(', ')}`);
  const profile = await loadProfile(suite, o.profile, o.fast ? suite.fastProfile : suite.defaultProfile);
  const caseList = loaded.map((l) => fixtureToCase(l, suite));
  return execute(suite, profile, target.url, await connectOptionsFrom(target, o), { ...o, caseList, fixtures: false, afterRun: (run) => void io.out(compareWithFixtures(run, loaded, o.expectObserved === true)) }, io);
}

/** Does a result meet an expected outcome? */
export function meets(r: CaseResult, want: FixtureOutcome): boolean {
  const verdicts: readonly Verdict[] = typeof want.verdict === 'string' ? [want.verdict] : want.verdict;
  return verdicts.includes(r.verdict) && (want.rule === undefined || r.rule === want.rule);
}

function outcomeText(o: FixtureOutcome): string {
  const v = typeof o.verdict === 'string' ? o.verdict : o.verdict.join(' or ');
  return o.rule !== undefined ? `${v} ${o.rule}` : v;
}

/**
 * The comparison of a replay's verdicts with the fixtures' `expect` (or
 * `observed`, falling back to `expect` for fixtures without one), as text:
 * a count line, then one line per mismatch naming the fixture, its file,
 * what was expected and what was seen.
 */
export function compareWithFixtures(run: RunResult, loaded: readonly LoadedFixture[], observed: boolean): string {
  const byId = new Map(loaded.map((l) => [l.fixture.id, l]));
  const lines: string[] = [];
  let met = 0;
  for (const r of run.cases) {
    const l = byId.get(r.id);
    if (!l) continue;
    const obs = l.fixture.observed;
    const want: FixtureOutcome = observed && obs ? { verdict: obs.verdict, ...(obs.rule !== undefined ? { rule: obs.rule } : {}) } : l.fixture.expect;
    if (meets(r, want)) {
      met++;
      continue;
    }
    const got = `${r.verdict}${r.rule ? ` ${r.rule}` : ''}${r.message ? ` (${r.message})` : ''}`;
    lines.push(`  MISMATCH ${r.id} (${l.file}): expected ${outcomeText(want)}${observed && obs ? ' (observed)' : ''}; got ${got}`);
  }
  const what = observed ? 'observed (else expect)' : 'expect';
  return `Fixture verdicts vs ${what}: ${met} met, ${lines.length} not met\n${lines.map((l) => `${l}\n`).join('')}`;
}
