/**
 * The fuzzer's contracts. A protocol offers generators of fuzz programs
 * (`ProtocolSuite.fuzz`, written once next to its model); the engine
 * (harness/fuzz/campaign.ts) runs each program as a fixture case judged
 * live by the protocol's monitor, checks liveness after it with the suite's
 * sanity probe, shrinks failures with fast-check and reports them. The
 * engine names no protocol.
 */
import type * as fc from 'fast-check';
import type { FixtureStep } from '../fixtures/format.js';

/**
 * A fuzz program: a script of client steps in the fixture format
 * (harness/fixtures/format.ts), so that any program, and every shrunk
 * counterexample, is a fixture `wirecheck replay` plays back. Every step
 * carries a `comment` naming it ("event id 7 (not greater than 9:
 * PROTON-4.2)"), which the trace records as a note.
 */
export interface FuzzProgram {
  /** Name of the generator (a key of {@link FuzzSupport.arbitraries}). */
  readonly arbitrary: string;
  /** One line: what it sends ("Sends …"), the fixture's description. */
  readonly description: string;
  /** Rule ids the program exercises (its deviations and timers first), from the suite's SPEC.md; may be empty. */
  readonly rules: readonly string[];
  /** The script; the last steps let every reaction the model predicts come (or be missed). */
  readonly steps: readonly FixtureStep[];
  /**
   * What the protocol's model predicts a conforming server does after each
   * step (same length as `steps`; `''` for nothing), for readable listings.
   */
  readonly predictions?: readonly string[];
  /** Readable listing: one numbered line per step (its name, then the prediction). fast-check prints it in counterexamples. */
  toString(): string;
}

/** What a protocol gives the fuzzer: `ProtocolSuite.fuzz`. */
export interface FuzzSupport<P> {
  /**
   * The generators for a target profile, by name (kebab-case, e.g.
   * `malformed-frames`). Programs depend on the profile: waits are placed
   * around its timers. Asynchronous so that a suite loads its generators
   * (and fast-check) only when a campaign asks for them, never for a run
   * (`import('./arbitraries.js')` in the suite's index).
   */
  arbitraries(profile: P): Promise<Readonly<Record<string, fc.Arbitrary<FuzzProgram>>>>;
  /**
   * Every label the protocol's monitor may return from `Monitor.coverage()`,
   * each `state:…` (a model state) or `transition:…` (a model transition),
   * so that reports can list what a campaign never reached.
   */
  readonly coverageLabels: readonly string[];
  /** Rule a failed liveness check after a case is reported under (e.g. the SPEC's "the next connection is served at once"). */
  readonly livenessRule: string;
}

/** A campaign's split over shards: shard `index` (0-based) of `count`. */
export interface ShardSpec {
  readonly index: number;
  readonly count: number;
}
