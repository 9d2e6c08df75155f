/**
 * Pieces shared by the CLI's commands: output, integer flags, connection
 * flags, report flags, and running a suite with progress and reports.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { ConnectOptions } from '../drivers/types.js';
import { driverFor } from '../drivers/index.js';
import { ExitCode, UsageError } from '../engine/errors.js';
import { intArg } from './args.js';
import { checkProfileData } from '../engine/profile.js';
import { assembleRun, DEFAULT_RUN_TRACE_BYTES, MIN_CASE_TRACE_BYTES, runSuite, suiteCases, toolVersion } from '../engine/runner.js';
import { DEFAULT_CASE_TRACE_BYTES } from '../engine/trace.js';
import { forTerminal } from '../reports/terminal.js';
import { onEmergency } from '../engine/process-guard.js';
import type { Target } from '../engine/target.js';
import type { CaseResult, ConformanceCase, ProbeResult, ProtocolSuite, RunResult } from '../engine/types.js';
import { fixtureCasesFor } from '../fixtures/index.js';
import { formatProgress, formatSummary } from '../reports/index.js';
import { prepareOutDir, reportFormats, writeCaseTrace, writeReports } from './outputs.js';
import { finishBaseline, loadBaselineFlag, type BaselineFlags } from './baseline.js';
import { saveFailures } from './save-failures.js';

/** A report format: TAP 14, JSON, JUnit XML, HTML. */
export type ReportFormat = 'tap' | 'json' | 'junit' | 'html';

/**
 * A `--reporter` value: one format, `both` (tap and json, the default, kept
 * for compatibility), `all`, or a comma-separated list of these such as
 * `tap,junit` (see `reportFormats` in outputs.ts).
 */
export type Reporter = ReportFormat | 'both' | 'all' | `${string},${string}`;

/** Where a command writes: injectable for tests. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

/** What every command module gets to register itself. */
export interface CommandHost {
  readonly program: Command;
  readonly io: CliIo;
  /** The raw arguments (some commands add options that depend on them). */
  readonly argv: readonly string[];
  /** Sets the process exit code the command ends with. */
  setExitCode(code: number): void;
}

export { intArg } from './args.js';

/** Adds the connection flags (`--alpn`, `--ca`, `--insecure`, `--server-name`, `--connect-timeout`). */
export function addConnectOptions(cmd: Command): Command {
  return cmd
    .option('--alpn <id>', 'ALPN id to offer (default: the protocol\u2019s or the profile\u2019s)')
    .option('--ca <file>', 'PEM CA bundle to verify the target\u2019s certificate')
    .option('-k, --insecure', 'do not verify the target\u2019s certificate')
    .option('--server-name <name>', 'TLS server name (SNI); IP literals are never sent as SNI')
    .option('--connect-timeout <ms>', 'handshake deadline', intArg('--connect-timeout', 1), 3000);
}

/** Adds the report and terminal flags (`--reporter`, `--out`, `--no-color`, `--quiet`). */
export function addReportOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--reporter <kind>', 'reports to write: tap, json, junit, html, both (tap,json), all, or a list such as tap,html')
        .argParser((v: string): Reporter => {
          try {
            reportFormats(v);
          } catch (err) {
            // Commander already names the option and the value.
            const why = (err instanceof Error ? err.message : String(err)).replace(/^--reporter "[^"]*": /, '');
            throw new InvalidArgumentError(`${why.charAt(0).toUpperCase()}${why.slice(1)}`);
          }
          return v as Reporter;
        })
        .default('both'),
    )
    .option('-o, --out <dir>', 'folder for reports', 'reports')
    .option('--no-color', 'no colour in terminal output')
    .option('-q, --quiet', 'no per-case progress lines');
}

/** Report and terminal flags. */
export interface ReportFlags {
  reporter: Reporter;
  out: string;
  color: boolean;
  quiet?: boolean;
}

/** Connection flags shared by `run` and `client`. */
export interface ConnectFlags {
  alpn?: string;
  ca?: string;
  insecure?: boolean;
  serverName?: string;
  connectTimeout: number;
}

/**
 * Connect options from a target and the connection flags (reads `--ca`).
 * @throws UsageError for an unreadable CA file, a file without a PEM certificate, or `--insecure` with `--ca`.
 */
export async function connectOptionsFrom(target: Target, o: ConnectFlags): Promise<ConnectOptions> {
  let ca: string | undefined;
  if (o.ca !== undefined) {
    ca = await readFile(o.ca, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`--ca ${o.ca}: cannot read (${err.code ?? err.message})`);
    });
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`--ca ${o.ca}: no PEM certificate in the file`);
  }
  if (o.insecure && ca !== undefined) throw new UsageError('--insecure and --ca exclude each other');
  return {
    host: target.host,
    port: target.port,
    connectTimeoutMs: o.connectTimeout,
    ...(o.alpn !== undefined ? { alpn: [o.alpn] } : {}),
    ...(o.serverName !== undefined ? { serverName: o.serverName } : {}),
    ...(ca !== undefined ? { ca } : {}),
    ...(o.insecure ? { insecure: true } : {}),
  };
}

/**
 * Checks that a target URL's transport is the protocol's.
 * @throws UsageError naming both.
 */
export function checkTransport(suite: ProtocolSuite<object>, target: Target): void {
  if (suite.transport !== target.transport) {
    throw new UsageError(`--target ${target.url}: protocol ${suite.name} runs over ${suite.transport}, not ${target.transport}`);
  }
}

/** Adds `--fixtures DIR` and `--no-fixtures` (fixture cases added to the suite's, README "Adding fixture traces"). */
export function addFixtureOptions(cmd: Command): Command {
  return cmd
    .option('--fixtures <dir>', 'fixtures to add as cases: DIR/<protocol>/ when it exists, else DIR (default: fixtures/<protocol>/)')
    .option('--no-fixtures', 'run only the suite\u2019s own cases, no fixtures');
}

/** Which cases {@link execute} runs, and what it does with the run besides reporting. */
export interface CaseSourceFlags {
  /** `--fixtures DIR` (string), `--no-fixtures` (false); true or undefined: `fixtures/<protocol>/`. */
  fixtures?: string | boolean;
  /** `--save-failures DIR`: each failing case is written there as a replayable fixture. */
  saveFailures?: string;
  /** Cases to run instead of the suite's and its fixtures (`replay`). */
  caseList?: readonly ConformanceCase<object>[];
  /** Called with the finished run after the summary (e.g. `replay`'s comparison with the fixtures' `expect`). */
  afterRun?: (run: RunResult) => void | Promise<void>;
}

/** Adds the trace budget flags (`--max-trace-bytes`, `--max-run-trace-bytes`). */
export function addTraceBudgetOptions(cmd: Command): Command {
  return cmd
    .option('--max-trace-bytes <n>', `bytes of data one case's trace keeps (default ${DEFAULT_CASE_TRACE_BYTES}: 8 MiB); beyond, the model still sees every byte but the trace keeps counts`, intArg('--max-trace-bytes', 0))
    .option('--max-run-trace-bytes <n>', `bytes of data all traces of the run keep (default ${DEFAULT_RUN_TRACE_BYTES}: 64 MiB); beyond, each case keeps ${MIN_CASE_TRACE_BYTES}`, intArg('--max-run-trace-bytes', 0));
}

/** Trace budget flags. */
export interface TraceBudgetFlags {
  maxTraceBytes?: number;
  maxRunTraceBytes?: number;
}

/**
 * Runs a suite, prints progress and the summary, writes reports (and, with
 * the baseline flags, compares with / writes a baseline: cli/baseline.ts);
 * returns the exit code.
 *
 * Reports are never lost: the report folder is checked before the first
 * case (a bad `--out` is a UsageError), each case's trace file is written as
 * soon as the case ends, and the reports of the cases run so far are
 * written when the run ends in any way: normally, interrupted (SIGINT), on
 * an internal error (then rethrown: exit 3), or through the process guard
 * (engine/process-guard.ts: SIGTERM, uncaught errors).
 */
/**
 * A suite's own cases for a profile (engine/runner.ts `suiteCases`); a
 * profile that cannot yield cases (RangeError) is a usage error.
 */
export async function profileCases(suite: ProtocolSuite<object>, profile: object): Promise<readonly ConformanceCase<object>[]> {
  try {
    return await suiteCases(suite, profile);
  } catch (err) {
    if (err instanceof RangeError) throw new UsageError(`${suite.name} profile: ${err.message}`);
    throw err;
  }
}

export async function execute(
  suite: ProtocolSuite<object>,
  profile: object,
  targetUrl: string,
  connect: ConnectOptions,
  o: ReportFlags & BaselineFlags & CaseSourceFlags & TraceBudgetFlags & { cases?: string },
  io: CliIo,
): Promise<number> {
  await prepareOutDir(o.out);
  if (o.saveFailures !== undefined) await prepareOutDir(o.saveFailures, '--save-failures');
  const own = o.caseList ?? (await profileCases(suite, profile));
  const { casesFor: _generated, ...staticSuite } = suite;
  suite = { ...staticSuite, cases: o.caseList ?? [...own, ...(await fixtureCasesFor(suite, o.fixtures))] };
  const baseline = await loadBaselineFlag(suite.name, o);
  const color = o.color === false ? { color: false } : {};
  const ac = new AbortController();
  const onSigint = () => {
    io.err('\nwirecheck: interrupted; finishing the current case and writing partial reports (Ctrl-C again to quit)\n');
    ac.abort();
    process.off('SIGINT', onSigint);
  };
  process.on('SIGINT', onSigint);
  // What the run has gathered so far, for partial reports.
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const probes: ProbeResult[] = [];
  const done: CaseResult[] = [];
  const partial = (): RunResult => assembleRun({ suite, targetUrl, profile, startedAt, durationMs: performance.now() - started, probes, cases: done });
  let flushed = false;
  /** The emergency flush under way, if one started: the run's own end then writes nothing (one writer per report). */
  let flushing: Promise<void> | undefined;
  const flushPartial = (why: string): Promise<void> => {
    if (flushed || (done.length === 0 && probes.length === 0)) return Promise.resolve();
    flushed = true;
    ac.abort(); // no new case starts while the process goes down
    flushing = (async () => {
      const run = partial();
      const { written } = await writeReports(run, o);
      io.err(`wirecheck: partial reports (${run.cases.length} cases, ${why}): ${written.join(', ')}\n`);
    })();
    return flushing;
  };
  const unguard = onEmergency(flushPartial);
  let run: RunResult;
  try {
    if (!o.quiet) io.err(`wirecheck ${toolVersion}: ${suite.name} suite (${suite.cases.length} cases) against ${targetUrl}\n`);
    run = await runSuite({
      suite,
      driver: driverFor(suite.transport),
      targetUrl,
      connect,
      profile,
      ...(o.cases !== undefined ? { cases: o.cases } : {}),
      ...(o.maxTraceBytes !== undefined ? { traceMaxBytes: o.maxTraceBytes } : {}),
      ...(o.maxRunTraceBytes !== undefined ? { runTraceMaxBytes: o.maxRunTraceBytes } : {}),
      signal: ac.signal,
      onProbe: (when, ok, message, entry) => {
        if (entry) probes.push(entry);
        if (!ok || !o.quiet) io.err(`  probe ${when}: ${ok ? 'ok' : `FAILED (${forTerminal(message ?? '')})`}\n`);
      },
      onCase: async (r, i, n) => {
        if (!o.quiet) io.err(`${formatProgress(r, i, n, color)}\n`);
        const written = await writeCaseTrace(r, { protocol: suite.name, specVersion: suite.specVersion, target: targetUrl, profile }, o.out);
        done.push(written);
        return written;
      },
    });
  } catch (err) {
    // An internal error: keep what was gathered, then let the CLI report it (exit 3).
    await flushPartial(`internal error: ${err instanceof Error ? err.message : String(err)}`).catch((e: unknown) => io.err(`wirecheck: partial reports: ${e instanceof Error ? e.message : String(e)}\n`));
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
  if (run.cases.length === 0) throw new UsageError(`--cases ${JSON.stringify(o.cases)}: no ${suite.name} case matches (see \`wirecheck list ${suite.name}\`)`);
  const reported = await writeReports(run, o);
  run = reported.run;
  const written = reported.written;
  io.out(`${formatSummary(run, color)}\n`);
  io.out(`Reports: ${written.join(', ')}\n`);
  if (o.saveFailures !== undefined) await saveFailures(run, suite, o.saveFailures, io);
  await o.afterRun?.(run);
  const baselineCode = await finishBaseline(run, baseline, o, io, ac.signal.aborted);
  const first = run.probes[0];
  if (first?.ok === false) {
    // unreachable / silent: exit 3; wrong: a conformance failure (the probe case fails: exit 1 below).
    io.err(`wirecheck: target ${targetUrl} did not pass the sanity probe: ${forTerminal(first.message ?? '')}\n`);
    if (first.verdict !== 'wrong') return ExitCode.TARGET;
  }
  if (baselineCode !== undefined) return baselineCode;
  if (run.summary.fail + run.summary.timeout > 0) return ExitCode.FAILURES;
  if (run.summary.error > 0 || ac.signal.aborted) return ExitCode.TARGET;
  return ExitCode.OK;
}

/** `profile` with the profile-field flags given on the command line (`o[field]`), checked against the schema. */
export function applyProfileFlags(suite: ProtocolSuite<object>, o: Readonly<Record<string, unknown>>, profile: object): object {
  const fields = Object.fromEntries(Object.keys(schemaFields(suite)).filter((f) => o[f] !== undefined).map((f) => [f, o[f]]));
  return Object.keys(fields).length > 0 ? checkProfileData(suite, fields, 'from the command line', profile) : profile;
}

/** The protocol a command line names with `-p NAME`, `--protocol NAME` or `--protocol=NAME`, if any. */
export function protocolInArgv(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if ((a === '-p' || a === '--protocol') && i + 1 < argv.length) return argv[i + 1];
    if (a.startsWith('--protocol=')) return a.slice('--protocol='.length);
  }
  return undefined;
}

/** The top-level fields of a suite's profile schema. */
function schemaFields(suite: ProtocolSuite<object>): Record<string, FieldSpec> {
  const props = (suite.profileSchema as { properties?: Record<string, FieldSpec> }).properties ?? {};
  return Object.fromEntries(Object.entries(props).filter(([k]) => k !== '$schema'));
}

/** What `serve` and `run` read of a profile field's schema. */
interface FieldSpec {
  type?: string;
  enum?: unknown[];
  description?: string;
  items?: { type?: string };
}

/**
 * One CLI option per profile field: `identTimeoutMs` → `--ident-timeout-ms <n>`.
 * An array field takes comma-separated items (`--server-capabilities 1,2,3`;
 * an empty value is the empty list); a string field takes `@FILE` for the
 * file's text (e.g. a manifest), read whole as UTF-8.
 */
export function profileOptions(suite: ProtocolSuite<object>): Option[] {
  const defaults = suite.defaultProfile as Record<string, unknown>;
  return Object.entries(schemaFields(suite)).map(([field, spec]) => {
    const flag = field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    const opt = new Option(`--${flag} <value>`, `${spec.description ?? field} (default ${JSON.stringify(defaults[field])})`);
    if (spec.enum) return opt.choices(spec.enum.map(String));
    if (spec.type === 'integer') return opt.argParser(intArg(`--${flag}`));
    if (spec.type === 'number') {
      return opt.argParser((v: string) => {
        const n = Number(v);
        if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`--${flag} must be a number, got ${JSON.stringify(v)}`);
        return n;
      });
    }
    if (spec.type === 'array') {
      const item = spec.items?.type === 'integer' ? intArg(`--${flag}`) : spec.items?.type === 'number' ? Number : (v: string) => v;
      return opt.argParser((v: string) => (v.trim() === '' ? [] : v.split(',').map((x) => item(x.trim()))));
    }
    if (spec.type === 'string') {
      return opt.argParser((v: string) => {
        if (!v.startsWith('@')) return v;
        try {
          return readFileSync(v.slice(1), 'utf8');
        } catch (err) {
          throw new InvalidArgumentError(`--${flag} ${v}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
        }
      });
    }
    if (spec.type === 'boolean') {
      return opt.argParser((v: string) => {
        if (v !== 'true' && v !== 'false') throw new InvalidArgumentError(`--${flag} must be true or false`);
        return v === 'true';
      });
    }
    return opt;
  });
}
