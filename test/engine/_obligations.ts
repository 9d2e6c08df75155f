/**
 * The check every protocol's obligation records pass (issue 8, "one
 * declarative place per rule"): for each record and each of its triggers, a
 * reference core run over a scenario that arms the trigger acts at the
 * record's nominal time, and that act moved in time passes the monitor
 * inside the record's window and fails it outside, under the record's rule,
 * with the band's severity. Times and expected verdicts are read from the
 * record's bands here, not from the engine's derivations.
 */
import type { Test } from 'tap';
import type { ObligationRecord, ObligationTable } from '../../harness/engine/obligations.js';
import type { ServerAction, ServerCore } from '../../harness/engine/server-core.js';
import { predict, type SimOutput } from '../../harness/engine/sim.js';
import type { TraceEvent } from '../../harness/engine/trace.js';
import type { Severity, Violation } from '../../harness/engine/types.js';

/** How far outside a band the probes act (ms). */
export const DELTA_MS = 1;

/** One time at which the act is placed, ms after the trigger, and the verdict the record's bands give it. */
export interface Probe {
  readonly label: string;
  readonly offsetMs: number;
  /** undefined: the monitor accepts it. */
  readonly expect: Severity | undefined;
}

/**
 * The probes of a record: at the nominal time (accepted); just before the
 * MUST band (MUST) and the SHOULD band (SHOULD); just after the SHOULD band
 * (SHOULD) and the MUST band (MUST). A probe before the trigger or beyond
 * an open end is left out: there is no such act.
 */
export function probes(r: ObligationRecord): Probe[] {
  const out: Probe[] = [{ label: 'at the nominal time', offsetMs: r.nominalMs, expect: undefined }];
  const { should, must } = r;
  if (Number.isFinite(must.earliestMs) && must.earliestMs - DELTA_MS >= 0) out.push({ label: 'too early (MUST band)', offsetMs: must.earliestMs - DELTA_MS, expect: 'must' });
  if (should.earliestMs - DELTA_MS >= Math.max(0, must.earliestMs)) out.push({ label: 'too early (SHOULD band)', offsetMs: should.earliestMs - DELTA_MS, expect: 'should' });
  if (Number.isFinite(should.latestMs) && should.latestMs + DELTA_MS <= must.latestMs) out.push({ label: 'too late (SHOULD band)', offsetMs: should.latestMs + DELTA_MS, expect: 'should' });
  if (Number.isFinite(must.latestMs)) out.push({ label: 'too late (MUST band)', offsetMs: must.latestMs + DELTA_MS, expect: 'must' });
  return out;
}

/** Client events (absolute times, µs) that arm a trigger, and where the act owed shows in the trace. */
export interface Scenario {
  readonly events: readonly TraceEvent[];
  /** Trigger time (µs). */
  readonly since: number;
  /** Connection (and stream) the act is on. */
  readonly conn: number;
  readonly stream?: number;
  /** What the act is on the wire: a server close, server bytes, or a server FIN. */
  readonly act: 'close' | 'data' | 'fin';
  /**
   * The trigger is not in the server's view (a network impairment): the
   * core acts when it can, the network delivers at the trigger. Its own
   * time is not compared with the nominal time.
   */
  readonly held?: boolean;
}

/** A core that remembers every action it returned. */
export function recording(core: ServerCore, into: ServerAction[]): ServerCore {
  return {
    get sendTimeoutMs() {
      return core.sendTimeoutMs;
    },
    handle: (ev) => core.handle(ev),
    sendStalled: (conn, stream, t) => core.sendStalled(conn, stream, t),
    poll(t) {
      const acts = core.poll(t);
      into.push(...acts);
      return acts;
    },
    nextTimer: () => core.nextTimer(),
  };
}

const isAct = (ev: TraceEvent, s: Scenario): boolean => {
  if (!('conn' in ev) || ev.conn !== s.conn) return false;
  switch (s.act) {
    case 'close':
      return ev.type === 'conn_close' && ev.by === 'server';
    case 'data':
      return ev.type === 'data' && ev.dir === 's2c' && (s.stream === undefined || ev.stream === s.stream);
    case 'fin':
      return ev.type === 'stream_fin' && ev.dir === 's2c' && (s.stream === undefined || ev.stream === s.stream);
  }
};

/**
 * The trace in which the core's act happens at `when` (µs): the client
 * events up to then, the core's earlier output (each after the input it
 * followed), then the act.
 */
function moved(inputs: readonly TraceEvent[], before: readonly SimOutput[], act: TraceEvent, when: number): TraceEvent[] {
  const trace: TraceEvent[] = before.filter((o) => o.after < 0 && o.ev.t <= when).map((o) => o.ev);
  inputs.forEach((ev, i) => {
    if (ev.t > when) return;
    trace.push(ev);
    for (const o of before) if (o.after === i && o.ev.t <= when) trace.push(o.ev);
  });
  trace.push({ ...act, t: when } as TraceEvent);
  return trace;
}

/** What a protocol supplies to {@link checkRecords}. */
export interface ObligationHarness<P> {
  readonly profiles: readonly P[];
  table(profile: P): ObligationTable;
  core(profile: P): ServerCore;
  check(profile: P, trace: readonly TraceEvent[], endUs: number): Violation[];
  scenario(trigger: string, profile: P): Scenario | undefined;
  /** Triggers no monitor can see (checked in server mode only elsewhere), with the SPEC's reason. */
  readonly unobservable?: Readonly<Record<string, string>>;
}

/**
 * Runs the probes of every (record, trigger) of every profile. Returns the
 * rules checked. Every close the core returns along the way names a rule
 * of the table.
 */
export function checkRecords<P>(t: Test, h: ObligationHarness<P>): Set<string> {
  const checked = new Set<string>();
  for (const profile of h.profiles) {
    const table = h.table(profile);
    const rules = new Set(table.records.map((r) => r.rule));
    for (const r of table.records) {
      for (const trigger of r.triggers) {
        if (h.unobservable?.[trigger] !== undefined) continue;
        const s = h.scenario(trigger, profile);
        const name = `${r.rule} armed by ${trigger}`;
        if (!s) {
          t.fail(`${name}: no scenario arms it`);
          continue;
        }
        const nominal = s.since + r.nominalMs * 1000;
        const actions: ServerAction[] = [];
        const out = predict(recording(h.core(profile), actions), s.events, nominal + 1000);
        const at = out.findIndex((o) => (s.held || o.ev.t >= s.since) && isAct(o.ev, s));
        if (!t.ok(at >= 0, `${name}: the reference core acts`)) continue;
        if (!s.held) t.equal(out[at]!.ev.t, nominal, `${name}: the reference core acts at the nominal time (${r.nominalMs} ms after the trigger)`);
        const done = out[at]!.ev;
        if (r.owed.kind === 'close' && done.type === 'conn_close') t.equal(done.code, r.owed.code, `${name}: with the record's close code`);
        for (const a of actions) if (a.type === 'close') t.ok(a.rule !== undefined && rules.has(a.rule), `${name}: a close the core returns names a rule of the table (${a.rule ?? 'none'})`);
        for (const p of probes(r)) {
          const when = s.since + p.offsetMs * 1000;
          const vs = h.check(profile, moved(s.events, out.slice(0, at), out[at]!.ev, when), when);
          if (p.expect === undefined) t.same(vs.map((v) => `${v.rule} ${v.severity}: ${v.expected} / ${v.seen}`), [], `${name}, ${p.label}: accepted`);
          else t.same([vs[0]?.rule, vs[0]?.severity], [r.rule, p.expect], `${name}, ${p.label} (${p.offsetMs} ms): ${r.rule} ${p.expect} (${vs[0]?.expected ?? ''} / ${vs[0]?.seen ?? ''})`);
        }
        checked.add(r.rule);
      }
    }
  }
  return checked;
}
