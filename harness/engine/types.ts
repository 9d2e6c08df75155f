/**
 * The engine's contracts with protocol suites. The engine knows nothing of
 * any protocol: a suite folder exports a {@link ProtocolSuite} and the engine
 * runs its cases, feeds every recorded trace to its {@link Monitor}, and
 * reports.
 */
import type { LoadSupport } from './load.js';
import type { DataBytes, ImpairKind, TraceTruncation, TraceEvent, TraceRecorder } from './trace.js';
import type { ClientConnection, ConnectOptions } from '../drivers/types.js';
import type { FuzzSupport } from '../fuzz/types.js';
import type { DiscoverySupport } from '../discover/types.js';

/** Severity of a rule: a MUST breaks conformance, a SHOULD makes a case non-strict. */
export type Severity = 'must' | 'should';

/**
 * The first event a monitor could not accept, with the evidence a report
 * needs. `index` is the position in the trace (-1 when raised by the passage
 * of time at the end of a trace).
 */
export interface Violation {
  /** Rule id from the suite's SPEC.md, e.g. `PROTON-4.2`. */
  readonly rule: string;
  readonly severity: Severity;
  /** Index of the offending trace event, or -1 when a deadline passed with nothing seen. */
  readonly index: number;
  /** Time of the offending event or of the missed deadline (µs since the trace origin). */
  readonly t: number;
  /** What the model would have accepted there. */
  readonly expected: string;
  /** What was seen instead. */
  readonly seen: string;
  /** The model's state, for the report. */
  readonly state: string;
  /** True when the violation is a missed deadline (nothing came in time). */
  readonly missing: boolean;
}

/**
 * An online monitor: the protocol model run over a trace. Fed in trace
 * order; time moves forward with each event or with {@link advance}.
 * Implementations are pure: they read no clock and do no I/O.
 */
export interface Monitor {
  /** Feeds one event; returns the violations it reveals (empty when accepted). */
  feed(ev: TraceEvent, index: number): readonly Violation[];
  /**
   * Optional: feeds a data event whose payload the trace reader already
   * decoded (a {@link DataBytes}, reused from line to line: valid only during
   * the call), with no event object or hex string made. It must give exactly
   * what `feed(dataEventOf(d), index)` gives; `wirecheck validate` uses it
   * when present (test/traces/data-bytes.test.ts compares the two).
   */
  feedData?(d: DataBytes, index: number): readonly Violation[];
  /** Moves time to `t` (µs) with no event; returns deadlines missed by then. */
  advance(t: number): readonly Violation[];
  /** Earliest time (µs) at which {@link advance} could report or change something. */
  nextDeadline(): number | undefined;
  /** True when the target owes nothing and no armed timer would make it owe something. */
  settled(): boolean;
  /** One-line description of the model state. */
  describe(): string;
  /**
   * What the codec decoded from the data event just fed (e.g. a
   * discriminator, items), for trace files; undefined when nothing.
   */
  decoded?(): readonly Readonly<Record<string, unknown>>[] | undefined;
  /**
   * Labels of the model states and transitions exercised so far
   * (`state:…`, `transition:…`; all of them listed in the suite's
   * `fuzz.coverageLabels`), for the fuzzer's coverage report.
   */
  coverage?(): readonly string[];
}

/** Outcome of one case. */
export type Verdict = 'pass' | 'fail' | 'non-strict' | 'timeout' | 'error' | 'skipped';

/** What a case's own check found, beyond the monitor's verdict. */
export interface CaseFinding {
  readonly rule: string;
  readonly severity: Severity;
  readonly expected: string;
  readonly seen: string;
}

/** What a running case can do. Every wait has a deadline. */
export interface CaseContext<P> {
  /** The target profile in force. */
  readonly profile: P;
  /** Where the target is (host, port), e.g. to put a proxy in front of it. */
  readonly target: { readonly host: string; readonly port: number };
  /** The case's trace (also fed live to the monitor). */
  readonly trace: TraceRecorder;
  /** Aborted when the case's deadline passes. */
  readonly signal: AbortSignal;
  /**
   * Opens a connection to the target (options from the target URL and
   * profile). `role` (trace v2) names the client: it is recorded as the
   * `role` of the connection's `conn_open` (or `conn_fail`).
   */
  connect(overrides?: Partial<ConnectOptions>, role?: string): Promise<ClientConnection>;
  /** Sleeps `ms`, cut short (rejecting) when the case is aborted. */
  sleep(ms: number): Promise<void>;
  /**
   * Waits until the monitor is settled, a violation is seen, or `timeoutMs`
   * passes (default: the case deadline). Returns which came first.
   */
  settle(timeoutMs?: number): Promise<'settled' | 'violation' | 'timeout'>;
  /**
   * Waits until `pred()` holds (checked after every trace event), a
   * violation is seen, or `timeoutMs` passes. Returns true when `pred` held.
   */
  until(pred: () => boolean, timeoutMs: number): Promise<boolean>;
  /** True once the monitor has seen a MUST violation (the case can stop driving the target). */
  violated(): boolean;
  /** Records a harness annotation in the trace. */
  note(text: string): void;
  /**
   * Records an `impair` event (trace v2): the harness impairs connection
   * `conn` (trace connection index) on purpose (`stall`, `restore`, `cut`,
   * harness/engine/trace.ts {@link ImpairKind}), so that monitors suspend or
   * end what is owed on it. `detail` says why (free text).
   */
  impair(kind: ImpairKind, conn: number, detail?: string): void;
  /** Reports a finding of the case's own (the monitor's findings are added by the engine). */
  report(finding: CaseFinding): void;
}

/** One conformance case. Ids are stable strings, never positions. */
export interface ConformanceCase<P> {
  /** Stable id, `<protocol>/<section-slug>/<name>`, e.g. `proton/event/pipelined`. */
  readonly id: string;
  /** SPEC section number this case belongs to (the file it lives in). */
  readonly section: string;
  /** Rule ids it checks. */
  readonly rules: readonly string[];
  /** One line: what it sends ("Sends ..."). */
  readonly description: string;
  /** The requirement checked, quoted from the SPEC. */
  readonly requirement: string;
  /** Acceptable outcomes, in words (profile-dependent figures filled in). */
  expected(profile: P): readonly string[];
  /** Upper bound on the case's duration (ms); the engine aborts it then. */
  deadlineMs(profile: P): number;
  /** Drives the target. Throws only on harness or network trouble. */
  run(ctx: CaseContext<P>): Promise<void>;
}

/** A reference server started in-process. */
export interface RunningServer {
  readonly host: string;
  readonly port: number;
  /** The server certificate (PEM), for clients that verify it. */
  readonly certPem?: string;
  /** Stops the server and everything it started (idempotent). */
  stop(): Promise<void>;
}

/** Options every reference server understands. */
export interface ReferenceServerOptions<P> {
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  /** Timers and choices; missing fields take the suite defaults. */
  readonly profile?: Partial<P>;
  /** PEM certificate and key (QUIC); a self-signed pair is generated when absent. */
  readonly cert?: string;
  readonly key?: string;
  /** Structured log sink (one JSON object per call); none by default. */
  readonly log?: (entry: Record<string, unknown>) => void;
}

/**
 * The part of a protocol's suite that judges traces: its profile (schema,
 * defaults, cross-field checks) and its monitor. A protocol folder may
 * export it as `monitorSuite` from `suites/<name>/monitor-suite.ts`, which
 * imports only the model, the monitor and the profile: `wirecheck validate`
 * then loads neither the cases nor the probe nor discovery (about 15 ms of
 * its start-up for Proton; registry.ts `loadMonitorSuite`). Without that
 * file, validation loads the whole suite, which has every field of this one.
 */
export interface MonitorSuite<P extends object> {
  /** Lower-case protocol name; also the folder name. */
  readonly name: string;
  /** Version of the suite's SPEC.md. */
  readonly specVersion: string;
  /** JSON Schema (draft 2020-12) of a target profile, and its defaults. */
  readonly profileSchema: object;
  readonly defaultProfile: P;
  /** Cross-field checks a JSON Schema cannot express; returns messages naming the fields. */
  checkProfile?(profile: P): string[];
  /** Creates a fresh monitor (the protocol model over a trace). */
  createMonitor(profile: P): Monitor;
}

/** What a protocol folder (`suites/<name>/index.ts`) exports as `suite`: its {@link MonitorSuite} and everything a run needs. */
export interface ProtocolSuite<P extends object> extends MonitorSuite<P> {
  readonly title: string;
  readonly transport: 'quic' | 'tcp';
  /** Default ALPN id (QUIC). */
  readonly alpn?: string;
  /** Short timers for the in-process reference run (`npm start`). */
  readonly fastProfile: P;
  /** Connection options the profile implies (idle timeout, keep-alive). */
  connectOptions(profile: P): Partial<ConnectOptions>;
  /** The sanity probe: one valid exchange. Throws an Error naming what failed. */
  probe(ctx: CaseContext<P>): Promise<void>;
  readonly cases: readonly ConformanceCase<P>[];
  /**
   * Cases that depend on the profile (e.g. generated from a protocol
   * description the profile names). When present, the runner, `list` and
   * `selftest` use its result instead of {@link cases}.
   * @throws Error naming the profile field when the profile cannot yield cases
   */
  casesFor?(profile: P): Promise<readonly ConformanceCase<P>[]>;
  /**
   * Fixtures (harness/fixtures): JSON Schema (draft 2020-12) of a `frame`
   * object that a fixture's `write` step may give instead of hex.
   */
  readonly frameSchema?: object;
  /** Encodes a fixture `frame` (valid against {@link frameSchema}) to the bytes a client writes. Throws on an invalid frame. */
  encodeFrame?(frame: unknown): Uint8Array;
  /** Splits bytes the server sent on a stream into whole frames (decoded value, byte length), for fixture `frames` expectations; a trailing partial frame is left out. */
  decodeFrames?(bytes: Uint8Array): readonly { readonly frame: unknown; readonly bytes: number }[];
  /** Fuzzing (`wirecheck fuzz`, harness/fuzz): generators of fuzz programs from the model, and coverage labels. */
  readonly fuzz?: FuzzSupport<P>;
  /** Profile discovery (`wirecheck discover`, `run --discover`, harness/discover): experiments that measure the target's timers and detect its readings. */
  readonly discover?: DiscoverySupport<P>;
  /** Load generation (`wirecheck load`, engine/load.ts), loaded on demand; absent when the protocol has none. */
  load?(): Promise<LoadSupport<P>>;
}

/** Result of one case, as reports carry it. */
export interface CaseResult {
  readonly id: string;
  readonly section: string;
  readonly rules: readonly string[];
  readonly description: string;
  readonly requirement: string;
  readonly expected: readonly string[];
  readonly verdict: Verdict;
  /** Rule broken, for fail / non-strict / timeout. */
  readonly rule?: string;
  /** One line saying why (what was seen). */
  readonly message?: string;
  /** The monitor's or the case's finding. */
  readonly violation?: Violation | CaseFinding;
  readonly durationMs: number;
  /** The recorded trace (excerpted by reporters). */
  readonly trace: readonly TraceEvent[];
  /** Set when the sanity probe failed right after this case. */
  readonly targetDiedAfter?: boolean;
  /** Where the case's trace was written (relative to the report folder), when it was. */
  readonly traceFile?: string;
  /** Set when the trace went over its byte budget and was truncated (engine/trace.ts {@link TraceTruncation}). */
  readonly traceTruncated?: TraceTruncation;
}

/**
 * Verdict of a sanity probe (engine/probe.ts): `ok`; `unreachable` (no
 * connection: refused, handshake, TLS or ALPN failure); `wrong` (the target
 * answered and the protocol's model flags the answer); `silent` (connected
 * but no valid answer within the probe's deadline, or the connection ended first).
 */
export type ProbeVerdict = 'ok' | 'unreachable' | 'wrong' | 'silent';

/** Outcome of one sanity probe, as reports carry it. */
export interface ProbeResult {
  readonly when: string;
  readonly ok: boolean;
  readonly verdict?: ProbeVerdict;
  /** Rule the model flagged (`wrong`, and `silent` when a model deadline passed). */
  readonly rule?: string;
  readonly message?: string;
}

/** A whole run, as reports carry it. */
export interface RunResult {
  readonly tool: { readonly name: 'wirecheck'; readonly version: string };
  readonly protocol: string;
  readonly specVersion: string;
  readonly target: string;
  readonly profile: object;
  readonly startedAt: string;
  readonly durationMs: number;
  /** Outcome of the sanity probes. */
  readonly probes: readonly ProbeResult[];
  readonly cases: readonly CaseResult[];
  readonly summary: Readonly<Record<Verdict, number>> & { readonly total: number };
}
