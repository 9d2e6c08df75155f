/**
 * Whole-suite runs for the project's tests, in this process: the protocol's
 * conformance suite against its reference server's Sans-I/O core
 * (`reference-server/<name>/index.ts` `createReferenceCore`, optionally with a
 * deliberate fault) over the in-memory driver (harness/drivers/memory.ts) on
 * a {@link VirtualClock}: no socket, no real timer, so no verdict depends on
 * how loaded the machine is. This is what `wirecheck fuzz --in-process` does
 * for fuzz campaigns (harness/cli/fuzz.ts), applied to `runSuite`.
 *
 * Plus the same run over real sockets on loopback ({@link runSuiteOverSockets},
 * the smoke runs) and the helpers that compare the two.
 */
import { createMemoryTarget } from '../../harness/drivers/memory.js';
import { VirtualClock } from '../../harness/engine/clock.js';
import { driverFor } from '../../harness/drivers/index.js';
import { loadReferenceCore, loadReferenceServer } from '../../harness/engine/registry.js';
import { runSuite } from '../../harness/engine/runner.js';
import type { ProtocolSuite, RunResult } from '../../harness/engine/types.js';

/** What {@link runSuiteInProcess} needs. */
export interface InProcessRunOptions<P extends object> {
  readonly suite: ProtocolSuite<P>;
  readonly profile: P;
  /** Profile of the reference core (default: `profile`): another reading than the suite's shows what a mismatched profile reports. */
  readonly serverProfile?: P;
  /** A fault of the reference core (`wirecheck list PROTOCOL --faults`); absent: the conforming core. */
  readonly fault?: string;
  /** Case id filter, as `runSuite`'s `cases` (globs with `*`, comma-separated). */
  readonly cases?: string;
}

/**
 * Runs `suite` (or the cases `cases` selects) against a fresh reference core
 * in memory, in virtual time, with the suite's driver transport (`quic`:
 * streams numbered as RFC 9000 §2.1; `tcp`: one byte stream per connection).
 * One core serves the whole run, as one server process would.
 * @throws Error when the protocol has no reference core, or the fault or profile is rejected by it.
 * @throws VirtualClockStall (harness/engine/clock.ts) when a case waits on something outside virtual time (a real socket or timer).
 */
export async function runSuiteInProcess<P extends object>(opts: InProcessRunOptions<P>): Promise<RunResult> {
  const { suite, profile } = opts;
  const create = await loadReferenceCore(suite.name);
  if (!create) throw new Error(`runSuiteInProcess: protocol ${suite.name} has no reference core (reference-server/${suite.name}/index.ts createReferenceCore)`);
  const core = create({ profile: opts.serverProfile ?? profile, ...(opts.fault !== undefined ? { fault: opts.fault } : {}) });
  const clock = new VirtualClock();
  const alpn = suite.connectOptions(profile).alpn;
  const mem = createMemoryTarget({ core, clock, transport: suite.transport, ...(alpn ? { alpn } : {}) });
  try {
    return await clock.run(
      runSuite({
        suite,
        driver: mem.driver,
        targetUrl: `memory:${suite.name}${opts.fault !== undefined ? `?fault=${opts.fault}` : ''}`,
        connect: mem.connect,
        profile,
        clock,
        ...(opts.cases !== undefined ? { cases: opts.cases } : {}),
      }),
    );
  } finally {
    mem.stop();
  }
}

/**
 * Starts the protocol's reference server on loopback (its transport, a free
 * port, `fault` if given), runs `suite` (or the cases `cases` selects)
 * against it with the transport's driver (QUIC: verifying the server's
 * certificate), and stops the server, whatever the run did.
 * @throws Error when the protocol has no reference server, or the fault or profile is rejected by it.
 */
export async function runSuiteOverSockets<P extends object>(opts: Omit<InProcessRunOptions<P>, 'serverProfile'>): Promise<RunResult> {
  const { suite, profile } = opts;
  const start = await loadReferenceServer(suite.name);
  if (!start) throw new Error(`runSuiteOverSockets: protocol ${suite.name} has no reference server (reference-server/${suite.name}/index.ts)`);
  const server = await start({ profile, ...(opts.fault !== undefined ? { fault: opts.fault } : {}) });
  try {
    return await runSuite({
      suite,
      driver: driverFor(suite.transport),
      targetUrl: `${suite.transport}://127.0.0.1:${server.port}`,
      connect: { host: server.host, port: server.port, connectTimeoutMs: 3000, ...(server.certPem !== undefined ? { ca: server.certPem, serverName: 'localhost' } : {}) },
      profile,
      ...(opts.cases !== undefined ? { cases: opts.cases } : {}),
    });
  } finally {
    await server.stop();
  }
}

/** Case ids by verdict, for readable assertions. */
export function byVerdict(run: RunResult): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const c of run.cases) (out[c.verdict] ??= []).push(c.id);
  return out;
}

/**
 * Each case's outcome as one comparable line: `verdict` and, for a failure
 * or timeout, the rule it names (`fail PROTON-4.3`). With `nonStrictAsPass`,
 * `non-strict` (a SHOULD window missed) reads as `pass`.
 */
export function outcomes(run: RunResult, opts: { readonly nonStrictAsPass?: boolean } = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of run.cases) {
    const v = opts.nonStrictAsPass && c.verdict === 'non-strict' ? 'pass' : c.verdict;
    out[c.id] = v === 'fail' || v === 'timeout' ? `${v} ${c.rule ?? '(no rule)'}` : v;
  }
  return out;
}

/**
 * The cases of `run` whose outcome differs from `reference` (same case ids
 * expected), as `id: got … / in-process …` lines; empty when they agree.
 * A `non-strict` over sockets counts as the `pass` it would be with an
 * exact clock: SHOULD windows are measured in wall time, which a loaded
 * machine stretches; every MUST verdict (and its rule) must be equal.
 */
export function outcomeDifferences(overSockets: RunResult, inProcess: RunResult): string[] {
  const a = outcomes(overSockets, { nonStrictAsPass: true });
  const b = outcomes(inProcess);
  const ids = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return ids.filter((id) => a[id] !== b[id]).map((id) => `${id}: over sockets ${a[id] ?? 'not run'} / in process ${b[id] ?? 'not run'}`);
}
