/**
 * A protocol's monitor run live over a client's own trace: how reference
 * clients (reference-server/<name>/client) judge what a server does,
 * without rules of their own. Every event recorded is fed to the monitor;
 * a command takes a mark before it acts and asks for the verdict on what
 * came after.
 */
import type { TraceRecorder } from './trace.js';
import type { Monitor, Violation } from './types.js';

/** A violation in one line: `PROTON-4.3: expected …; saw …` (`(SHOULD)` after the rule for a SHOULD). */
export function violationText(v: Violation): string {
  return `${v.rule}${v.severity === 'should' ? ' (SHOULD)' : ''}: expected ${v.expected}; saw ${v.seen}`;
}

/** A monitor fed live from a trace (see the module docstring). */
export class TraceJudge {
  private readonly found: Violation[] = [];

  /** Starts feeding `monitor` every event `trace` records from now on (the trace must be empty or already fed). */
  constructor(
    private readonly trace: TraceRecorder,
    private readonly monitor: Monitor,
  ) {
    trace.listen((ev, index) => this.found.push(...monitor.feed(ev, index)));
  }

  /** Violations found so far, in order. */
  get violations(): readonly Violation[] {
    return this.found;
  }

  /** A mark: what the monitor found so far (pass it to {@link verdict}). */
  mark(): number {
    return this.found.length;
  }

  /**
   * The verdict on what happened since `mark`, with the monitor's time
   * moved to now (deadlines that passed count): the first MUST violation,
   * else the first SHOULD one, else undefined.
   */
  verdict(mark: number): Violation | undefined {
    this.found.push(...this.monitor.advance(this.trace.now()));
    const since = this.found.slice(mark);
    return since.find((v) => v.severity === 'must') ?? since[0];
  }
}
