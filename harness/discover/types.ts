/**
 * Profile discovery's contract with protocol suites (`wirecheck discover`,
 * `run --discover`). A suite that can discover its target's profile exports
 * `discover` ({@link DiscoverySupport}) beside its cases: a list of short,
 * safe experiments. The engine (harness/discover/run.ts) runs them against
 * a live target under a time budget, each wait with a deadline, collects
 * what each experiment determined (or could not) with trace excerpts as
 * evidence, checks the result against the suite's profile schema, its
 * cross-field checks and its model, and writes the profile with an
 * explanation. Nothing here names a protocol.
 */
import type { TraceEvent } from '../engine/trace.js';
import type { CaseContext, Verdict } from '../engine/types.js';

/**
 * A profile field name (a property of the suite's profile schema). Plain
 * strings keep `DiscoverySupport<Profile>` assignable to
 * `DiscoverySupport<object>` (the registry's view); protocol experiments
 * name their own fields.
 */
export type FieldName = string;

/**
 * Evidence: a case-like excerpt of one attempt's trace, the events that
 * show the finding marked. Built by {@link Attempt.cite}.
 */
export interface Evidence {
  /** Experiment and attempt the excerpt comes from, e.g. `identification: silent connection`. */
  readonly attempt: string;
  /** What the excerpt shows, in one line. */
  readonly caption: string;
  /** Formatted trace lines (harness/reports/trace-format.ts), cited events marked `<--`. */
  readonly lines: readonly string[];
}

/**
 * One run of a scripted exchange inside an experiment: a fresh trace (and
 * connections) under a deadline, like a conformance case, but judged by
 * the experiment rather than by a monitor.
 */
export interface Attempt {
  /** `experiment: label`. */
  readonly label: string;
  /** The recorded trace. */
  readonly trace: readonly TraceEvent[];
  /** How the attempt ended: `pass` (the body returned), `timeout` (its deadline passed), `error` (harness or network trouble). */
  readonly verdict: Exclude<Verdict, 'skipped' | 'fail' | 'non-strict'>;
  /** Why, for `timeout` and `error`. */
  readonly message?: string;
  readonly durationMs: number;
  /** Evidence citing the events at `indices` of {@link trace} (events around them shown too). */
  cite(caption: string, indices: readonly number[]): Evidence;
}

/** How a field was found: one line, the raw measurements and the evidence. */
export interface FindingDetails {
  /** What was seen, in one line (e.g. `connection closed 0x3 401.2 ms after the handshake, no stream opened`). */
  readonly summary: string;
  /** Raw timer measurements (ms), for a timer: the value is their median, rounded; their spread widens the tolerance. */
  readonly samplesMs?: readonly number[];
  readonly evidence: readonly Evidence[];
}

/** Why a field was not determined. */
export interface UndeterminedDetails {
  readonly summary: string;
  /** For a timer not seen to fire: it is longer than this (ms), a lower bound, not a value. */
  readonly lowerBoundMs?: number;
  readonly evidence?: readonly Evidence[];
}

/** What a running experiment can do. Every wait has a deadline. */
export interface DiscoveryContext<P extends object> {
  /** The profile known so far: the base (`--profile`, `--fast` or the defaults) with what earlier experiments determined. */
  readonly profile: P;
  /**
   * Latency (ms) to take off a delay timed from a client's act to the
   * server's reaction, both as the client sees them (harness/discover/evidence.ts
   * `delayTimer`): half the smallest round trip of three sanity-probe
   * exchanges (0 in process). Such a measurement holds the way there and
   * back; a probe's exchange also pays for opening its stream, so its whole
   * round trip would overstate what a timer measurement carries.
   */
  readonly latencyMs: number;
  /** This experiment's share of the budget (ms). */
  readonly budgetMs: number;
  /** Time left of the share (ms, ≥ 0). */
  remainingMs(): number;
  /** Fields determined by earlier experiments (values as written). */
  determined(field: FieldName): unknown;
  /**
   * Runs `body` as an attempt: a fresh trace, connections closed at the end,
   * aborted after `deadlineMs` (default: the time left of the share, and
   * never beyond it). Never rejects for anything the target does.
   */
  attempt(label: string, body: (ctx: CaseContext<P>) => Promise<void>, deadlineMs?: number): Promise<Attempt>;
  /**
   * Records a determined field. A timer (`samplesMs` given) is written as
   * `value` (the caller rounds, {@link roundTimer}); the evidence must show it.
   */
  determine(field: FieldName, value: unknown, details: FindingDetails): void;
  /** Records that a field could not be determined (left out of the profile). */
  undetermined(field: FieldName, details: UndeterminedDetails): void;
  /** A progress line (printed on stderr by the CLI). */
  progress(text: string): void;
}

/** One discovery experiment of a protocol. */
export interface DiscoveryExperiment<P extends object> {
  /** Stable id, e.g. `identification`. */
  readonly id: string;
  /** What it sends, in one line. */
  readonly description: string;
  /** Profile fields it may determine. */
  readonly fields: readonly FieldName[];
  /** Least time (ms) it needs to say anything; reserved for it while earlier experiments run. */
  minMs(profile: P): number;
  /** Share of the budget relative to the others (default 1). */
  readonly weight?: number;
  /** The most it ever waits (ms), whatever the budget (default: its share). */
  maxMs?(profile: P): number;
  /** Drives the target; records findings on `ctx`. Throws only on harness trouble. */
  run(ctx: DiscoveryContext<P>): Promise<void>;
}

/** What a suite exports as `discover` (harness/engine/types.ts `ProtocolSuite.discover`). */
export interface DiscoverySupport<P extends object> {
  /** The experiments, in the order they run (later ones may use what earlier ones found). */
  readonly experiments: readonly DiscoveryExperiment<P>[];
  /** The profile field holding the timing tolerance (ms), widened to cover the measurement spread (e.g. `toleranceMs`). */
  readonly toleranceField?: FieldName;
  /** Profile fields discovery cannot determine, with why (reported as not determined, so that a user knows to set them). */
  readonly notMeasured?: Readonly<Record<FieldName, string>>;
}

/** What discovery says about one field. */
export type FieldReport =
  | {
      readonly status: 'determined';
      readonly value: unknown;
      readonly summary: string;
      readonly samplesMs?: readonly number[];
      readonly evidence: readonly Evidence[];
      readonly experiment: string;
    }
  | {
      readonly status: 'undetermined';
      readonly summary: string;
      readonly lowerBoundMs?: number;
      readonly evidence: readonly Evidence[];
      readonly experiment?: string;
      /** Set when the field was measured but dropped by a check (schema, cross-field checks, the model); `summary` says which. */
      readonly rejectedValue?: unknown;
    };

/** One experiment as the explanation reports it. */
export interface ExperimentReport {
  readonly id: string;
  readonly description: string;
  readonly budgetMs: number;
  readonly durationMs: number;
  /** Set when the experiment was skipped (budget spent) or threw (harness trouble). */
  readonly message?: string;
  readonly attempts: readonly { readonly label: string; readonly verdict: Attempt['verdict']; readonly durationMs: number; readonly message?: string }[];
}

/** Outcome of a discovery: the profile to write and its explanation. */
export interface DiscoveryResult {
  readonly tool: { readonly name: 'wirecheck'; readonly version: string };
  readonly protocol: string;
  readonly target: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly budgetMs: number;
  /** The sanity probe before the experiments: `ok`, `wrong` (answers; discovery goes on), `unreachable` or `silent` (no experiment ran). */
  readonly probe: { readonly verdict: 'ok' | 'unreachable' | 'wrong' | 'silent'; readonly message?: string };
  /** The discovered fields only (valid against the suite's profile schema): what `--out` writes. */
  readonly profile: Readonly<Record<string, unknown>>;
  /** Every field an experiment covers (and the tolerance field): determined or not, why, evidence. */
  readonly fields: Readonly<Record<string, FieldReport>>;
  readonly experiments: readonly ExperimentReport[];
}
