/**
 * From what the experiments found to the profile discovery writes: only
 * determined fields; a tolerance wide enough for the measurement spread;
 * and three checks, any of which drops a field (reported with the reason,
 * never replaced by a guess): the suite's profile schema (a reading the
 * profile has no field for), its cross-field checks (`checkProfile`), and
 * the protocol's model replaying every evidence trace under the discovered
 * profile (a finding whose evidence the model flags is a deviation from
 * the SPEC, not a reading: the run will report it).
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { violationText } from '../engine/judge.js';
import type { TraceEvent } from '../engine/trace.js';
import type { ProtocolSuite, Violation } from '../engine/types.js';
import { spreadMs } from './evidence.js';
import type { Evidence, FieldReport } from './types.js';

/** A field an experiment determined, before the checks. */
export interface Finding {
  readonly field: string;
  readonly value: unknown;
  readonly summary: string;
  readonly samplesMs?: readonly number[];
  readonly evidence: readonly Evidence[];
  readonly experiment: string;
}

type Undetermined = FieldReport & { status: 'undetermined' };

/** Field names a JSON pointer message names (`/identTimeoutMs (…) must …`). */
function pointerFields(text: string): string[] {
  return [...text.matchAll(/(?:^|[\s(])\/([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!);
}

/**
 * The first MUST violation the suite's model finds in `trace` under
 * `profile` (every event fed, time moved to the last event), or undefined.
 */
export function replayUnderModel<P extends object>(suite: ProtocolSuite<P>, profile: P, trace: readonly TraceEvent[]): Violation | undefined {
  const monitor = suite.createMonitor(profile);
  for (const [i, ev] of trace.entries()) {
    const v = monitor.feed(ev, i).find((x) => x.severity === 'must');
    if (v) return v;
  }
  const last = trace[trace.length - 1];
  return last ? monitor.advance(last.t).find((x) => x.severity === 'must') : undefined;
}

/**
 * Applies the checks to the findings and builds the profile to write and
 * the report of every field (`fields`: those the experiments cover, and the
 * tolerance field when a timer was measured).
 * @param traceOf the trace an evidence excerpt was cut from (for the model's replay)
 */
export function finishProfile<P extends object>(
  suite: ProtocolSuite<P>,
  base: P,
  findings: ReadonlyMap<string, Finding>,
  misses: ReadonlyMap<string, Undetermined>,
  allFields: readonly string[],
  traceOf: (ev: Evidence) => readonly TraceEvent[] | undefined,
): { profile: Record<string, unknown>; fields: Record<string, FieldReport> } {
  const schema = suite.profileSchema as { properties?: Record<string, unknown> };
  const known = new Set(Object.keys(schema.properties ?? {}));
  const tolField = suite.discover?.toleranceField;
  const accepted = new Map(findings);
  const rejected = new Map<string, Undetermined>();
  const reject = (f: Finding, why: string): void => {
    accepted.delete(f.field);
    rejected.set(f.field, { status: 'undetermined', summary: why, evidence: f.evidence, experiment: f.experiment, rejectedValue: f.value });
  };
  for (const f of [...accepted.values()]) {
    if (!known.has(f.field)) reject(f, `detected ${JSON.stringify(f.value)} (${f.summary}), but the ${suite.name} profile has no field ${f.field}: a reading the profile cannot express`);
  }
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  const validate = ajv.compile(suite.profileSchema);

  let written: Record<string, unknown> = {};
  let tolerance: { value: number; summary: string } | undefined;
  for (let round = 0; round <= findings.size + 1; round++) {
    // Tolerance: the base's, widened to twice the largest distance of a measurement from its written value.
    const timers = [...accepted.values()].filter((f) => f.samplesMs && f.samplesMs.length > 0 && typeof f.value === 'number');
    tolerance = undefined;
    if (tolField !== undefined && timers.length > 0) {
      const baseTol = Number(base[tolField as keyof P]);
      const dev = Math.max(...timers.map((f) => spreadMs(f.samplesMs!, f.value as number)));
      const value = Math.max(baseTol, Math.ceil(2 * dev));
      tolerance = {
        value,
        summary: `the base's ${baseTol} ms${value > baseTol ? `, widened to twice the largest distance of a measurement from its written value (${dev.toFixed(1)} ms)` : `; the largest distance of a measurement from its written value is ${dev.toFixed(1)} ms`}`,
      };
    }
    written = Object.fromEntries([...accepted.values()].map((f) => [f.field, f.value]));
    if (tolerance && tolField !== undefined && !accepted.has(tolField)) written[tolField] = tolerance.value;
    const blame = (fields: readonly string[], why: string): number => {
      let n = 0;
      for (const name of fields) {
        const f = accepted.get(name);
        if (f) {
          reject(f, why);
          n++;
        }
      }
      return n;
    };
    // 1. The schema.
    if (!validate(written)) {
      let n = 0;
      for (const e of validate.errors ?? []) {
        const name = e.instancePath.split('/')[1] ?? '';
        n += blame([name], `measured ${JSON.stringify(written[name])}, but the profile schema rejects it: ${e.instancePath} ${e.message ?? 'invalid'}`);
      }
      if (n > 0) continue;
      break; // Only the derived tolerance is wrong: leave it to the schema error below (cannot happen with a valid base).
    }
    // 2. Cross-field checks, with the base for the fields not discovered.
    const merged = { ...base, ...written } as P;
    const problems = suite.checkProfile?.(merged) ?? [];
    if (problems.length > 0) {
      let n = 0;
      for (const p of problems) n += blame(pointerFields(p), `inconsistent with the rest of the profile: ${p} (set the other fields in --profile, or fix the server)`);
      if (n === 0) {
        const last = [...accepted.values()].pop();
        if (last) reject(last, `inconsistent with the rest of the profile: ${problems.join('; ')}`);
        else break;
      }
      continue;
    }
    // 3. The model replays the evidence of every finding under the discovered profile.
    let n = 0;
    for (const f of [...accepted.values()]) {
      for (const ev of f.evidence) {
        const trace = traceOf(ev);
        const v = trace ? replayUnderModel(suite, merged, trace) : undefined;
        if (v) {
          reject(f, `the model, with the discovered profile, flags its evidence (${ev.attempt}): ${violationText(v)}. A deviation from the SPEC, not a reading: the run will report it`);
          n++;
          break;
        }
      }
    }
    if (n === 0) break;
  }

  const fields: Record<string, FieldReport> = {};
  for (const name of allFields) {
    const f = accepted.get(name);
    const r = rejected.get(name) ?? misses.get(name);
    if (f) fields[name] = { status: 'determined', value: f.value, summary: f.summary, ...(f.samplesMs ? { samplesMs: f.samplesMs } : {}), evidence: f.evidence, experiment: f.experiment };
    else fields[name] = r ?? { status: 'undetermined', summary: 'no experiment reached a conclusion', evidence: [] };
  }
  for (const [name, r] of rejected) if (!(name in fields)) fields[name] = r;
  if (tolField !== undefined && tolerance && !accepted.has(tolField)) {
    fields[tolField] = { status: 'determined', value: tolerance.value, summary: `not a property of the target: ${tolerance.summary}`, evidence: [], experiment: 'tolerance' };
  }
  return { profile: written, fields };
}
