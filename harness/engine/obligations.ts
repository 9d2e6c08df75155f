/**
 * Timed obligations as data: one record per SPEC rule that says what arms
 * it, when a conforming server acts, which times are acceptable, and what
 * is owed. Both uses of a protocol model are derived from the same records:
 *
 *  - **server mode** (the reference cores, fuzz predictions): act at the
 *    nominal time ({@link dueBy}, {@link nextDueOf});
 *  - **monitor mode**: deadlines ({@link deadlineOf}, {@link nextDeadlineOf},
 *    {@link overdueAt}) and early/late verdicts on what the server did
 *    ({@link judge}), each naming the record's rule.
 *
 * A model keeps its own state and says which obligations are armed now
 * (an {@link Armed} per trigger instance: a request received, a timer
 * started); the timing arithmetic lives only here. The engine knows no
 * protocol: triggers and subjects are the model's own names and values.
 *
 * Units: records are in ms (profile fields); trigger times and every time
 * derived here are µs on the trace clock, as trace events carry them.
 */
import type { Severity } from './types.js';

const US_PER_MS = 1000;

/** A span of times relative to an obligation's trigger, in ms; `-Infinity` / `Infinity` for an open end. */
export interface Band {
  readonly earliestMs: number;
  readonly latestMs: number;
}

/**
 * How binding an obligation is: a missed or mistimed MUST fails a case, a
 * SHOULD makes it non-strict; a MAY is a permission (server mode does it at
 * the nominal time; a monitor never reports it missing, only mistimed).
 */
export type ObligationSeverity = Severity | 'may';

/** What the server owes when the obligation is due. */
export type Owed =
  /** Close the connection with this application error code (a pseudo code where the transport carries none). */
  | { readonly kind: 'close'; readonly code: number; /** Exact reason phrase required, if any. */ readonly reason?: string }
  /** Answer a request (an ack, a reply), in words. */
  | { readonly kind: 'answer'; readonly what: string }
  /** Act unprompted (a pushed item, a FIN), in words. */
  | { readonly kind: 'action'; readonly what: string };

/**
 * One timed obligation of a protocol (one record per SPEC rule).
 *
 * Acceptance: acting inside the `should` band conforms; inside `must` but
 * outside `should` breaks a SHOULD (non-strict); outside `must` breaks a
 * MUST. `should` lies inside `must`, and `nominalMs` inside `should`.
 * A trigger time is when the trigger happened (µs); bands are relative to it.
 *
 * `triggers` lists what arms the record, in the model's terms (e.g.
 * `'handshake'`, `'partial-item'`): a profile choice between two readings of
 * a rule is a different `triggers` list, with no change to the derivations.
 */
export interface ObligationRecord<Trigger extends string = string> {
  /** Rule id from the suite's SPEC.md (as in `Violation.rule`). */
  readonly rule: string;
  /** What arms it (any one of them), in model terms. */
  readonly triggers: readonly Trigger[];
  /** When a conforming server acts, ms after the trigger (server mode acts exactly then). */
  readonly nominalMs: number;
  /** Times that conform fully (ms after the trigger). */
  readonly should: Band;
  /** Times that do not break a MUST (ms after the trigger). */
  readonly must: Band;
  /** Strength of the obligation; what a missed deadline is. */
  readonly severity: ObligationSeverity;
  /** What is owed. */
  readonly owed: Owed;
  /** The obligation in words, for reports (e.g. `answer after the processing delay`). */
  readonly summary: string;
}

/** An obligation armed by one trigger instance: its record, which trigger, when (µs), and the model's subject (a stream, a request). */
export interface Armed<Trigger extends string = string, Subject = unknown> {
  readonly record: ObligationRecord<Trigger>;
  readonly trigger: Trigger;
  /** Trigger time (µs). */
  readonly since: number;
  readonly subject: Subject;
}

/** A time window in µs. */
export interface Window {
  readonly lo: number;
  readonly hi: number;
}

/** A verdict on an act or a miss: the rule, its severity, and whether it came too early or too late (or not at all). */
export interface Judgement {
  readonly rule: string;
  readonly severity: Severity;
  readonly when: 'early' | 'late';
  /** The band broken, µs (the SHOULD band for a SHOULD verdict, else the MUST band). */
  readonly window: Window;
  readonly nominal: number;
}

/**
 * The records one trigger arms, with the least offsets after the trigger
 * (µs) that a monitor's horizon look needs: the earliest a close can be
 * owed and the earliest deadline, without an {@link Armed} per obligation.
 * A model looking at every event keeps one per trigger of its state instead
 * of a lookup by trigger name ({@link ObligationTable.trigger}).
 */
export interface TriggerRecords<Trigger extends string = string> {
  readonly trigger: Trigger;
  /** Records it arms, in table order (empty when none). */
  readonly records: readonly ObligationRecord<Trigger>[];
  /** Least nominal offset among its records that owe a close (µs after the trigger; Infinity when none does). */
  readonly closeUs: number;
  /** Least deadline offset among its records ({@link deadlineOf}; µs after the trigger; Infinity when none has one). */
  readonly deadlineUs: number;
}

/** A validated set of obligation records, indexed by trigger. */
export interface ObligationTable<Trigger extends string = string> {
  readonly records: readonly ObligationRecord<Trigger>[];
  /** Records a trigger arms, in table order (empty when none). */
  byTrigger(trigger: Trigger): readonly ObligationRecord<Trigger>[];
  /** {@link byTrigger} with the trigger's least close and deadline offsets (one object per trigger, made once). */
  trigger(trigger: Trigger): TriggerRecords<Trigger>;
  /** The record of a rule. @throws Error when the table has none. */
  byRule(rule: string): ObligationRecord<Trigger>;
}

const NONE: readonly never[] = [];

/**
 * Checks and indexes a protocol's records.
 * @throws Error naming the rule when a record is inconsistent: a duplicate
 *   rule id, a band whose earliest is after its latest, a SHOULD band not
 *   inside the MUST band, a nominal time outside the SHOULD band, or a MUST
 *   (SHOULD) obligation with no finite MUST (SHOULD) deadline.
 */
export function defineObligations<Trigger extends string>(records: readonly ObligationRecord<Trigger>[]): ObligationTable<Trigger> {
  const rules = new Map<string, ObligationRecord<Trigger>>();
  const triggers = new Map<Trigger, ObligationRecord<Trigger>[]>();
  for (const r of records) {
    const bad = (what: string) => new Error(`obligation ${r.rule}: ${what}`);
    if (rules.has(r.rule)) throw bad('rule id used by two records');
    rules.set(r.rule, r);
    for (const [name, b] of [['should', r.should], ['must', r.must]] as const) {
      if (Number.isNaN(b.earliestMs) || Number.isNaN(b.latestMs) || b.earliestMs > b.latestMs) throw bad(`${name} band [${b.earliestMs}, ${b.latestMs}] ms is empty or not a number`);
    }
    if (r.should.earliestMs < r.must.earliestMs || r.should.latestMs > r.must.latestMs) throw bad(`should band [${r.should.earliestMs}, ${r.should.latestMs}] ms is not inside the must band [${r.must.earliestMs}, ${r.must.latestMs}] ms`);
    if (!Number.isFinite(r.nominalMs) || r.nominalMs < r.should.earliestMs || r.nominalMs > r.should.latestMs) throw bad(`nominal time ${r.nominalMs} ms is outside the should band [${r.should.earliestMs}, ${r.should.latestMs}] ms`);
    if (r.severity === 'must' && !Number.isFinite(r.must.latestMs)) throw bad('a MUST obligation needs a finite must.latestMs');
    if (r.severity === 'should' && !Number.isFinite(r.should.latestMs)) throw bad('a SHOULD obligation needs a finite should.latestMs');
    if (r.triggers.length === 0) continue; // Disabled by the profile (e.g. a MAY the profile does not take).
    for (const t of r.triggers) {
      const list = triggers.get(t) ?? [];
      list.push(r);
      triggers.set(t, list);
    }
  }
  const indexed = new Map<Trigger, TriggerRecords<Trigger>>();
  return {
    records,
    byTrigger: (t) => triggers.get(t) ?? NONE,
    trigger(t) {
      let x = indexed.get(t);
      if (x === undefined) {
        const list = triggers.get(t) ?? NONE;
        let closeUs = Infinity;
        let deadlineUs = Infinity;
        for (const r of list) {
          if (r.owed.kind === 'close') closeUs = Math.min(closeUs, r.nominalMs * US_PER_MS);
          const d = deadlineAt({ record: r, trigger: t, since: 0, subject: undefined });
          if (!Number.isNaN(d)) deadlineUs = Math.min(deadlineUs, d);
        }
        x = { trigger: t, records: list, closeUs, deadlineUs };
        indexed.set(t, x);
      }
      return x;
    },
    byRule(rule) {
      const r = rules.get(rule);
      if (!r) throw new Error(`no obligation record for rule ${rule}`);
      return r;
    },
  };
}

/** Arms `record` by `trigger` at `since` (µs) on `subject`. */
export function arm<T extends string, S>(record: ObligationRecord<T>, trigger: T, since: number, subject: S): Armed<T, S> {
  return { record, trigger, since, subject };
}

/** When a conforming server acts on `a` (µs). */
export function nominalAt(a: Armed): number {
  return a.since + a.record.nominalMs * US_PER_MS;
}

/** The SHOULD or MUST band of `a` in absolute µs. */
export function windowOf(a: Armed, band: 'should' | 'must'): Window {
  const b = a.record[band];
  return { lo: a.since + b.earliestMs * US_PER_MS, hi: a.since + b.latestMs * US_PER_MS };
}

/**
 * The time (µs) after which nothing done is a miss, and what kind: a MUST
 * obligation's MUST deadline, a SHOULD obligation's SHOULD deadline;
 * undefined for a MAY (never owed).
 */
export function deadlineOf(a: Armed): { readonly t: number; readonly severity: Severity } | undefined {
  const t = deadlineAt(a);
  return Number.isNaN(t) ? undefined : { t, severity: a.record.severity as Severity };
}

/** {@link deadlineOf}'s time (µs) without an object per call (NaN for a MAY): the monitor asks it for every armed obligation at every event. */
function deadlineAt(a: Armed): number {
  const r = a.record;
  switch (r.severity) {
    case 'must':
      return a.since + r.must.latestMs * US_PER_MS;
    case 'should':
      return a.since + r.should.latestMs * US_PER_MS;
    default:
      return NaN;
  }
}

/**
 * Whether an act at `t` (µs) on `record` armed at `since` (µs) is inside its
 * SHOULD band: {@link judge} gives no verdict exactly then. For a caller that
 * judges often and wants no {@link Armed} object for the common case.
 */
export function inTime(record: ObligationRecord, since: number, t: number): boolean {
  const b = record.should;
  return t >= since + b.earliestMs * US_PER_MS && t <= since + b.latestMs * US_PER_MS;
}

/**
 * Judges an act on `a` at `t` (µs): undefined when inside the SHOULD band;
 * a SHOULD verdict inside the MUST band; a MUST verdict outside it.
 */
export function judge(a: Armed, t: number): Judgement | undefined {
  // In time (the common case) is answered without building the windows.
  if (inTime(a.record, a.since, t)) return undefined;
  const should = windowOf(a, 'should');
  const must = windowOf(a, 'must');
  const inMust = t >= must.lo && t <= must.hi;
  return { rule: a.record.rule, severity: inMust ? 'should' : 'must', when: t < should.lo ? 'early' : 'late', window: inMust ? should : must, nominal: nominalAt(a) };
}

/** Server mode: the armed obligations a conforming server acts on at `t` (µs): nominal time reached. */
export function dueBy<A extends Armed>(armed: Iterable<A>, t: number): A[] {
  const out: A[] = [];
  for (const a of armed) if (nominalAt(a) <= t) out.push(a);
  return out;
}

/** Server mode: the earliest nominal time (µs) among `armed`, not before `now`; undefined when none. */
export function nextDueOf(armed: Iterable<Armed>, now: number): number | undefined {
  let next: number | undefined;
  for (const a of armed) {
    const x = Math.max(now, nominalAt(a));
    if (next === undefined || x < next) next = x;
  }
  return next;
}

/** Monitor mode: armed obligations whose deadline passed by `now` (µs), in the order given, each with its deadline. */
export function overdueAt<A extends Armed>(armed: Iterable<A>, now: number): { readonly armed: A; readonly deadline: number; readonly severity: Severity }[] {
  const out: { armed: A; deadline: number; severity: Severity }[] = [];
  for (const a of armed) {
    const t = deadlineAt(a);
    if (now > t) out.push({ armed: a, deadline: t, severity: a.record.severity as Severity });
  }
  return out;
}

/** Monitor mode: the earliest time (µs) at which a deadline among `armed` has passed (deadline + 1 µs); undefined when none. */
export function nextDeadlineOf(armed: Iterable<Armed>): number | undefined {
  let next: number | undefined;
  for (const a of armed) {
    const t = deadlineAt(a);
    if (!Number.isNaN(t) && (next === undefined || t + 1 < next)) next = t + 1;
  }
  return next;
}

/** A window in words, with `rel` formatting a time (µs): `between X and Y`, `by Y` (open start) or `from X` (open end). */
export function windowText(w: Window, rel: (t: number) => string): string {
  if (!Number.isFinite(w.hi)) return `from ${rel(w.lo)}`;
  if (!Number.isFinite(w.lo)) return `by ${rel(w.hi)}`;
  return `between ${rel(w.lo)} and ${rel(w.hi)}`;
}

/** The earliest of some times (µs), ignoring undefined ones; undefined when none is defined. */
export function earliest(times: Iterable<number | undefined>): number | undefined {
  let min: number | undefined;
  for (const t of times) if (t !== undefined && (min === undefined || t < min)) min = t;
  return min;
}
