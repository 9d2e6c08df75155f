/**
 * The generic fuzz program builder: what every protocol's builder shares.
 * A protocol supplies a small adapter (a subclass) that says how its
 * client actions become steps and client events, how its model is made,
 * and how a predicted server event reads; this class keeps:
 *
 *  - **steps and inputs**: every step appended at the current virtual time
 *    with the client events it causes (for the prediction); connections
 *    named `a`, `b`, … in connect order;
 *  - **prediction**: the protocol's model in server mode (the reference
 *    server's logic, harness/engine/server-core.ts `modelCore`) run over the
 *    client events in virtual time (harness/engine/sim.ts `predict`), cached
 *    per (inputs, time); generators ask it what state the target is in
 *    instead of keeping a second copy of the rules, and may ask the model
 *    itself ({@link modelNow}) where state is needed;
 *  - **guard bands**: no client action within `toleranceMs` (+10 ms) of a
 *    timer-driven server action the adapter calls racy; a named wait is
 *    inserted instead (in that band a SPEC lets the server act either way
 *    and the wire can reorder the two);
 *  - **waits**: duration expressions over the profile, advancing time;
 *  - **variables**: ids the server chooses (a room id in an answer) are
 *    taken by an expectation's `bind` and used as `{ "$var": NAME }` in later
 *    frames (harness/fixtures/vars.ts); the adapter records the model's value
 *    of each ({@link bindPredicted}) and feeds the prediction the frame with
 *    the model's ids ({@link predictedFrame}), while the fixture carries the
 *    variable the target's value fills at run time;
 *  - **the drain and the listing**: the last step lets every predicted
 *    reaction come (or be missed); each step is listed with what the model
 *    predicts after it, and the program's rules start with the rules of the
 *    closes the model predicts (carried by the close action, never parsed
 *    from its reason).
 */
import { predict } from '../engine/sim.js';
import { modelCore, type ServerModel } from '../engine/server-core.js';
import type { TraceEvent } from '../engine/trace.js';
import { evalDuration, type Duration, type FixtureStep } from '../fixtures/format.js';
import { substituteVars } from '../fixtures/vars.js';
import { formatProgram } from './program.js';
import type { FuzzProgram } from './types.js';

/** Microseconds per millisecond. */
export const US = 1000;
/** Extra margin of the guard band beyond `toleranceMs` (ms). */
export const GUARD_MARGIN_MS = 10;
/** Extra margin of a drain beyond the last predicted reaction and `toleranceMs` (ms). */
export const DRAIN_MARGIN_MS = 300;

/** A client event of the program (client's view; `conn` is the trace index) with the step that produced it. */
export interface ProgramInput {
  readonly ev: TraceEvent;
  /** Index of the step that produced it. */
  readonly step: number;
}

/** A server action the model predicts, as a trace event, with the step it answers. */
export interface PredictedEvent {
  readonly ev: TraceEvent;
  /** Index of the latest step at or before it (-1 before any). */
  readonly step: number;
  /** True when a timer of the server (not a client event) caused it. */
  readonly timer: boolean;
  /** Rule id the action enforces (a close's `rule`), when the model gave one. */
  readonly rule?: string;
}

/**
 * Runs a model in server mode over client events (sorted by `t`, µs) until
 * `endUs`, in virtual time: what a conforming server does and when. Input on
 * a connection the server closed is dropped, as the network would.
 */
export function predictServer(model: ServerModel, inputs: readonly ProgramInput[], endUs: number): PredictedEvent[] {
  return predict(modelCore(model), inputs.map((x) => x.ev), endUs).map((o) => ({
    ev: o.ev,
    step: o.after >= 0 ? inputs[o.after]!.step : -1,
    timer: o.timer,
    ...(o.rule !== undefined ? { rule: o.rule } : {}),
  }));
}

/** What every program connection has: its fixture name, trace index, and whether the client ended it. */
export interface BuilderConn {
  /** Fixture name (`a`, `b`, …). */
  readonly name: string;
  /** Trace connection index (connects in order). */
  readonly index: number;
  /** Closed (or reset) by the program's client. */
  clientClosed: boolean;
}

/**
 * A fuzz program under construction (see the module docstring). `P` is the
 * protocol's profile, `C` its connection record, `M` its model in server
 * mode. Subclasses add the protocol's steps (write, FIN, …) with
 * {@link push} and say how the program ends with {@link drain}.
 */
export abstract class ProgramBuilder<P extends object, C extends BuilderConn, M extends ServerModel> {
  protected readonly steps: FixtureStep[] = [];
  protected readonly inputs: ProgramInput[] = [];
  protected readonly conns: C[] = [];
  /** Virtual time of the next step (µs). */
  protected now = 0;
  /** Predictions for the current inputs, by end time (µs); emptied when an input is added. */
  private readonly cache = new Map<number, { readonly events: PredictedEvent[]; readonly model: M }>();
  /** Number of inputs the cached predictions were made from. */
  private cachedInputs = 0;
  /** Rules the steps exercise (insertion order). */
  protected readonly rulesSeen = new Set<string>();
  /** The model's values of the variables the program's expectations bind (name → value). */
  protected readonly predictedVars = new Map<string, unknown>();

  constructor(
    readonly profile: P,
    readonly arbitrary: string,
  ) {}

  /** A fresh model of the protocol in server mode, for the profile. */
  protected abstract createModel(): M;
  /** The band around a timer in which the SPEC lets the server act either way (ms): the profile's tolerance. */
  protected abstract get toleranceMs(): number;
  /** Readable form of a predicted server event, e.g. `ack 00000003 on a0`, `close a (…)`. */
  protected abstract serverText(ev: TraceEvent): string;
  /**
   * The program's last step(s): let every predicted reaction come (or be
   * missed). Called by {@link build}; append with {@link push} or
   * {@link appendWait}. Returns how far past now (ms) the final prediction
   * must look.
   */
  protected abstract drain(): number;

  /** Number of steps so far. */
  get length(): number {
    return this.steps.length;
  }

  /** Connections opened so far. */
  get connections(): readonly C[] {
    return this.conns;
  }

  // -------------------------------------------------------------- prediction

  private run(untilUs: number): { readonly events: PredictedEvent[]; readonly model: M } {
    // Inputs are only ever appended, so their count and the end time name a prediction.
    if (this.cachedInputs !== this.inputs.length) {
      this.cache.clear();
      this.cachedInputs = this.inputs.length;
    }
    const hit = this.cache.get(untilUs);
    if (hit) return hit;
    const model = this.createModel();
    const entry = { events: predictServer(model, this.inputs, untilUs), model };
    this.cache.set(untilUs, entry);
    return entry;
  }

  /** The model's prediction up to `untilUs` (default: now). */
  predict(untilUs = this.now): PredictedEvent[] {
    return this.run(untilUs).events;
  }

  /** The model in server mode after the prediction up to now: its state as the target's should be (read it, never feed it). */
  protected modelNow(): M {
    return this.run(this.now).model;
  }

  /** True when the server has closed `c` by now, as predicted. */
  serverClosed(c: C): boolean {
    return this.predict().some((p) => p.ev.type === 'conn_close' && p.ev.conn === c.index);
  }

  /** True when the connection is open now: neither the client nor (as predicted) the server closed it. */
  isLive(c: C): boolean {
    return !c.clientClosed && !this.serverClosed(c);
  }

  /** The connection opened last, when it is live. */
  liveConn(): C | undefined {
    const c = this.conns[this.conns.length - 1];
    return c && this.isLive(c) ? c : undefined;
  }

  /** Name of the next connection: `a` … `z`, then `conn26`, …. */
  protected nextConnName(): string {
    const n = this.conns.length;
    return n < 26 ? String.fromCharCode(97 + n) : `conn${n}`;
  }

  // ----------------------------------------------------------------- steps

  /**
   * Appends a step at the current time; `events` are the client events it
   * causes. With `racy`, the guard runs first: no client action within the
   * band around a timer-driven server action `racy` accepts.
   */
  protected push(step: FixtureStep, events: readonly TraceEvent[] = [], racy?: (p: PredictedEvent) => boolean): void {
    if (racy) this.guard(racy);
    const index = this.steps.length;
    this.steps.push(step);
    for (const ev of events) this.inputs.push({ ev: { ...ev, t: this.now } as TraceEvent, step: index });
  }

  /** Keeps client actions out of the band where a timer-driven server action may race with them. */
  private guard(racy: (p: PredictedEvent) => boolean): void {
    const g = (this.toleranceMs + GUARD_MARGIN_MS) * US;
    for (let round = 0; round < 8; round++) {
      const clash = this.predict(this.now + g).filter((p) => p.timer && racy(p) && p.ev.t > this.now - g && p.ev.t <= this.now + g);
      if (clash.length === 0) return;
      const until = Math.max(...clash.map((p) => p.ev.t)) + g + US;
      const ms = Math.ceil((until - this.now) / US);
      this.steps.push({ do: 'wait', ms, comment: `guard: ${ms} ms clear of the server's timer-driven ${clash.map((p) => this.serverText(p.ev)).join(', ')}` });
      this.now += ms * US;
    }
  }

  /**
   * Appends a wait of `ms` (a duration expression over the profile, e.g.
   * `"identTimeoutMs + toleranceMs + 20"`) named `comment`, and moves time.
   * Returns its value (ms); nothing is appended for 0 or less.
   */
  protected appendWait(ms: Duration, comment: (value: number) => string): number {
    const value = evalDuration(ms, this.profile);
    if (value <= 0) return value;
    this.push({ do: 'wait', ms, comment: comment(value) });
    this.now += value * US;
    return value;
  }

  /**
   * Records the model's value of a variable an expectation of the program
   * binds (its `bind`): the prediction goes on with the model's own ids,
   * the fixture with the target's, bound at run time.
   */
  protected bindPredicted(name: string, value: unknown): void {
    this.predictedVars.set(name, value);
  }

  /**
   * A frame object with every `{ "$var": NAME }` replaced by the model's
   * value (what the prediction is fed; encode it with the protocol's
   * fixture encoder).
   * @throws UnboundVarError (harness/fixtures/vars.ts) for a variable no {@link bindPredicted} recorded: a bug of the adapter.
   */
  protected predictedFrame<T>(frame: T): T {
    return substituteVars(frame, this.predictedVars) as T;
  }

  /** Records a rule the program exercises (the program's `rules`). */
  exercises(...rules: string[]): void {
    for (const r of rules) this.rulesSeen.add(r);
  }

  /** Milliseconds from now until the last of `events` (0 when none is later). */
  protected msUntilLast(events: readonly PredictedEvent[]): number {
    const lastUs = events.length ? Math.max(...events.map((p) => p.ev.t)) : this.now;
    return Math.max(0, Math.ceil((lastUs - this.now) / US));
  }

  /** The drain step most protocols end with: `expect settled` within the time of the last predicted reaction plus tolerance and a margin. */
  protected settledDrain(restMs: number, comment: string): FixtureStep {
    return { expect: 'settled', within: `${restMs > 0 ? `${restMs} + ` : ''}toleranceMs + ${DRAIN_MARGIN_MS}`, comment };
  }

  // ------------------------------------------------------------------ build

  /**
   * The listing's predictions of the final timeline, one `{ step, text }`
   * per line; a protocol may group events (e.g. a stream of pushed items).
   */
  protected predictionTexts(all: readonly PredictedEvent[]): { readonly step: number; readonly text: string }[] {
    return all.map((p) => ({ step: Math.max(0, p.step), text: `${this.serverText(p.ev)}${p.timer ? ` (timer, at +${Math.round(p.ev.t / US)} ms)` : ''}` }));
  }

  /** Rules the program exercises beyond the steps' and the predicted closes' (e.g. those of the stream types used), listed last. */
  protected extraRules(): readonly string[] {
    return [];
  }

  /**
   * Appends the drain and returns the program. Its rules: those of the
   * closes the model predicts (the deviations; a close without a rule adds
   * none), then those the steps exercised, then {@link extraRules}.
   */
  build(description: string): FuzzProgram {
    const horizonMs = this.drain();
    const all = this.predict(this.now + horizonMs * US);
    const predictions: string[] = this.steps.map(() => '');
    for (const { step, text } of this.predictionTexts(all)) predictions[step] = predictions[step] ? `${predictions[step]}; ${text}` : text;
    const closes = all.filter((p) => p.ev.type === 'conn_close' && p.rule !== undefined).map((p) => p.rule!);
    const rules = [...new Set([...closes, ...this.rulesSeen, ...this.extraRules()])];
    const program: FuzzProgram = {
      arbitrary: this.arbitrary,
      description,
      rules,
      steps: [...this.steps],
      predictions,
      toString: () => formatProgram(program),
    };
    return program;
  }
}
