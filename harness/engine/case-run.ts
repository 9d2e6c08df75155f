/**
 * Runs one case (or the sanity probe) against a target: a fresh trace fed
 * live to the protocol's monitor, deadlines on every wait, every connection
 * closed afterwards, and a verdict with evidence.
 */
import type { ClientConnection, ConnectOptions, Driver } from '../drivers/types.js';
import { TraceRecorder, type DistributiveOmit, type ImpairEvent, type TraceEvent } from './trace.js';
import type { CaseContext, CaseFinding, Monitor, Verdict, Violation } from './types.js';
import { messageOf } from './errors.js';
import { realClock, type Clock, type ClockTimer } from './clock.js';

/** What {@link runCase} needs. */
export interface CaseRunOptions<P> {
  readonly driver: Driver;
  /** Base connect options (target, TLS, profile-derived timers). */
  readonly connect: ConnectOptions;
  readonly profile: P;
  readonly monitor: Monitor;
  /** The case body. */
  readonly body: (ctx: CaseContext<P>) => Promise<void>;
  /** Overall deadline (ms). */
  readonly deadlineMs: number;
  /** Time and timers of the case and its trace (default the real clock; a `VirtualClock` for in-process runs). */
  readonly clock?: Clock;
  /** Byte budget of the case's trace (default engine/trace.ts DEFAULT_CASE_TRACE_BYTES). */
  readonly traceMaxBytes?: number;
}

/** Outcome of {@link runCase}. */
export interface CaseRunOutcome {
  readonly verdict: Exclude<Verdict, 'skipped'>;
  readonly rule?: string;
  readonly message?: string;
  readonly violation?: Violation | CaseFinding;
  readonly trace: TraceRecorder;
  readonly durationMs: number;
}

class Aborted extends Error {
  constructor() {
    super('case deadline passed');
    this.name = 'Aborted';
  }
}

/**
 * The trace as one connect sees it: the `conn_open` or `conn_fail` of the
 * connection it allocates carries `role` (trace v2); everything else goes
 * to `trace` unchanged (same events, listeners and clock).
 */
function withRole(trace: TraceRecorder, role: string): TraceRecorder {
  let mine: number | undefined;
  const view = Object.create(trace) as TraceRecorder;
  view.allocConn = () => (mine = trace.allocConn());
  view.record = <E extends TraceEvent>(ev: DistributiveOmit<E, 't'>): E =>
    trace.record<E>((ev.type === 'conn_open' || ev.type === 'conn_fail') && ev.conn === mine ? { ...ev, role } : ev);
  return view;
}

/** How long closing the case's connections may take (ms). */
const CLEANUP_MS = 3_000;

/**
 * Runs a case body with a live monitor. Never throws: harness and network
 * trouble become verdict `error`, a passed deadline `timeout`.
 */
export async function runCase<P>(opts: CaseRunOptions<P>): Promise<CaseRunOutcome> {
  const started = performance.now();
  const clock = opts.clock ?? realClock;
  const setTimeout = (fn: () => void, ms: number): ClockTimer => clock.setTimeout(fn, ms);
  const clearTimeout = (t: ClockTimer): void => clock.clearTimeout(t);
  const trace = new TraceRecorder(clock.nowUs(), () => clock.nowUs(), opts.traceMaxBytes);
  const { monitor } = opts;
  const conns: ClientConnection[] = [];
  const findings: CaseFinding[] = [];
  let mustViolation: Violation | undefined;
  let shouldViolation: Violation | undefined;
  let monitoring = true;
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of [...waiters]) w();
  };

  const take = (vs: readonly Violation[]) => {
    for (const v of vs) {
      if (v.severity === 'must') {
        mustViolation ??= v;
        monitoring = false;
      } else shouldViolation ??= v;
      if (!monitoring) break;
    }
  };
  let deadlineTimer: ClockTimer | undefined;
  const armDeadline = () => {
    if (deadlineTimer) clearTimeout(deadlineTimer);
    deadlineTimer = undefined;
    if (!monitoring) return;
    const next = monitor.nextDeadline();
    if (next === undefined) return;
    const delayMs = Math.max(0, Math.ceil((next - trace.now()) / 1000));
    deadlineTimer = setTimeout(() => {
      if (!monitoring) return;
      take(monitor.advance(trace.now()));
      armDeadline();
      wake();
    }, delayMs);
  };
  const unlisten = trace.listen((ev, index) => {
    if (!monitoring) return;
    take(monitor.feed(ev, index));
    armDeadline();
    wake();
  });

  const ac = new AbortController();
  const { signal } = ac;
  const abortPromise = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Aborted()), { once: true }));
  abortPromise.catch(() => undefined);
  const caseTimer = setTimeout(() => ac.abort(), opts.deadlineMs);

  /** Waits until `cond()` holds, a MUST violation is seen, the timeout passes or the case is aborted. */
  const waitFor = (cond: () => boolean, timeoutMs: number): Promise<'ok' | 'violation' | 'timeout'> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (cond()) return finish('ok'), true;
        if (mustViolation) return finish('violation'), true;
        return false;
      };
      const timer = setTimeout(() => finish('timeout'), Math.max(0, timeoutMs));
      const onAbort = () => {
        cleanup();
        reject(new Aborted());
      };
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(waker);
        signal.removeEventListener('abort', onAbort);
      };
      const finish = (r: 'ok' | 'violation' | 'timeout') => {
        cleanup();
        resolve(r);
      };
      const waker = () => void check();
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      waiters.add(waker);
      check();
    });

  const ctx: CaseContext<P> = {
    profile: opts.profile,
    target: { host: opts.connect.host, port: opts.connect.port },
    trace,
    signal,
    async connect(overrides, role) {
      if (signal.aborted) throw new Aborted();
      const conn = await Promise.race([opts.driver.connect(role !== undefined ? withRole(trace, role) : trace, { ...opts.connect, ...overrides }), abortPromise]);
      conns.push(conn);
      return conn;
    },
    sleep(ms) {
      return new Promise<void>((resolve, reject) => {
        if (signal.aborted) return reject(new Aborted());
        const timer = setTimeout(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        }, ms);
        const onAbort = () => {
          clearTimeout(timer);
          reject(new Aborted());
        };
        signal.addEventListener('abort', onAbort, { once: true });
      });
    },
    async settle(timeoutMs) {
      const r = await waitFor(() => monitor.settled(), timeoutMs ?? opts.deadlineMs);
      return r === 'ok' ? 'settled' : r;
    },
    async until(pred, timeoutMs) {
      return (await waitFor(pred, timeoutMs)) === 'ok';
    },
    violated: () => mustViolation !== undefined,
    note(text) {
      trace.note(text);
    },
    impair(kind, conn, detail) {
      trace.record<ImpairEvent>({ type: 'impair', kind, conn, ...(detail !== undefined ? { detail } : {}) });
    },
    report(finding) {
      findings.push(finding);
    },
  };

  let thrown: unknown;
  let aborted = false;
  try {
    await Promise.race([opts.body(ctx), abortPromise]);
  } catch (err) {
    if (err instanceof Aborted) aborted = true;
    else thrown = err;
  }
  clearTimeout(caseTimer);
  if (monitoring) take(monitor.advance(trace.now()));
  monitoring = false;
  if (deadlineTimer) clearTimeout(deadlineTimer);
  unlisten();
  let cleanupTimer: ClockTimer | undefined;
  await Promise.race([
    Promise.allSettled(conns.map((c) => c.close(0, 'wirecheck: case done'))),
    new Promise<void>((r) => {
      cleanupTimer = setTimeout(r, CLEANUP_MS);
      if (typeof cleanupTimer === 'object' && 'unref' in cleanupTimer) cleanupTimer.unref?.();
    }),
  ]);
  if (cleanupTimer !== undefined) clearTimeout(cleanupTimer);

  const durationMs = Math.round(performance.now() - started);
  const must = mustViolation;
  const finding = findings.find((f) => f.severity === 'must');
  if (must) {
    return { verdict: must.missing ? 'timeout' : 'fail', rule: must.rule, message: `expected ${must.expected}; saw ${must.seen}`, violation: must, trace, durationMs };
  }
  if (finding) return { verdict: 'fail', rule: finding.rule, message: `expected ${finding.expected}; saw ${finding.seen}`, violation: finding, trace, durationMs };
  if (thrown !== undefined) return { verdict: 'error', message: errorMessage(thrown, trace), trace, durationMs };
  if (aborted) return { verdict: 'timeout', message: `case did not finish within its ${opts.deadlineMs} ms deadline`, trace, durationMs };
  const should = shouldViolation ?? findings.find((f) => f.severity === 'should');
  if (should) return { verdict: 'non-strict', rule: should.rule, message: `expected ${should.expected}; saw ${should.seen}`, violation: should, trace, durationMs };
  return { verdict: 'pass', trace, durationMs };
}

/**
 * The message of a case's error. When the target had closed a connection
 * before it (the usual cause: a write or an open on that connection), the
 * close is named, code, reason (JSON-quoted: it is the target's text) and
 * time: a close the model found no MUST fault with (or the verdict would be
 * fail), which the case did not expect, so that a reader tells the case's
 * limit from the harness's.
 */
function errorMessage(err: unknown, trace: TraceRecorder): string {
  const msg = messageOf(err);
  const events = trace.events;
  for (let i = events.length - 1; i >= 0; i--) {
    const ev = events[i]!;
    if (ev.type !== 'conn_close' || ev.by === 'client') continue;
    const reason = ev.reason === '' ? '' : ` ${JSON.stringify(ev.reason.length > 80 ? `${ev.reason.slice(0, 80)}…` : ev.reason)}`;
    return `${msg} (after the target's close of connection ${ev.conn} at +${(ev.t / 1000).toFixed(1)} ms: ${ev.isApp ? 'application' : 'transport'} code 0x${ev.code.toString(16)}${reason}, which the model did not fault and the case did not expect)`;
  }
  return msg;
}
