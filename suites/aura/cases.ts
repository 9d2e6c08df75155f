/**
 * Aura's conformance cases, generated from the profile's choreography
 * (SPEC §16.7): the harness plays every role but the target's.
 *
 * - **Paths**: every sequence of the harness roles' own decisions (choices
 *   they make, values that decide a later `match`/`if`, each timeout taken
 *   and not taken, each `$fail` at a compensation point), found by
 *   replaying the choreography in memory (runtime/simulate.ts) and trying
 *   every other option at every decision, loops bounded by `loopBound`.
 *   The target's own decisions are its to make; the harness follows them.
 * - **Deviations** at each wire message the harness sends on the first
 *   path: an unexpected label, two messages out of order, a `$fail` where
 *   the choreography has no compensation (the target MUST reset the
 *   session, AURA-16.4), and a missing message (the target MUST NOT go on
 *   as if it had come: the global monitor judges what it sends).
 * - Two wire cases: a start frame naming another protocol and a malformed
 *   frame (the target MUST close the connection with 0x1, AURA-16.1/16.2).
 *
 * Case ids are derived from the path: `aura/path/<Role>.<option>/…`,
 * `aura/deviation/<kind>-<step>-<From>.<Label>`.
 */
import type { CaseContext, ConformanceCase } from '../../harness/engine/types.js';
import { profileChoreography } from './choreography.js';
import { globalMonitorOf } from './monitor.js';
import type { AuraCheck } from './language.js';
import { sessionParams, type AuraProfile } from './profile.js';
import { playSession, type Deviation } from './runtime/play.js';
import { randomPolicy, scriptedPolicy, type ScriptedChoice } from './runtime/policy.js';
import type { AuraPolicy, Decision } from './runtime/role.js';
import { simulate, type SimMessage } from './runtime/simulate.js';
import { encodeAuraFrame } from './runtime/wire.js';
import { buildGlobalAutomaton, globalActionText, hideActions } from './cfsm.js';

type Ctx = CaseContext<AuraProfile>;

/** One recorded decision of a harness role on a planned path. */
export interface Step {
  readonly role: string;
  readonly d: Decision;
  readonly chosen: number;
}

/** A planned path: the harness roles' decisions, and what went over the wire in memory. */
export interface Plan {
  readonly steps: readonly Step[];
  readonly wire: readonly SimMessage[];
  readonly complete: boolean;
}

const optionName = (d: Decision, i: number): string => {
  if (d.kind === 'race') return d.options[i]!;
  const tag = d.tags?.[i];
  return tag !== undefined && !tag.startsWith('#') ? tag : d.options[i]!.split(',')[0]!;
};
const slug = (s: string): string => s.replace(/[^A-Za-z0-9_$.:+!-]+/g, '_').replace(/^_+|_+$/g, '') || 'x';

/** The target in memory: the first option, waits at its timeouts and answers promptly (a prompt, conforming target). */
const firstPolicy = (): AuraPolicy => {
  const p = randomPolicy(0);
  return { decide: () => 0, payload: p.payload.bind(p) };
};

/** Options of {@link planPaths}. */
export interface PlanOptions {
  /**
   * Also enumerate the target roles' decisions (their choices, and the values
   * they send that decide a later `match`/`if`, AURA-16.5), instead of
   * assuming the first option: for scripts written ahead that cannot follow
   * the target (fuzz programs), so that some plan fits whatever the target
   * decides. Their steps are in the plan's `steps` too.
   */
  readonly targetDecisions?: boolean;
}

/**
 * Plans the paths of the harness roles (bounded by `loopBound` visits of
 * each decision point beyond the first and by `maxPaths`).
 */
export function planPaths(check: AuraCheck, harness: readonly string[], p: AuraProfile, params: Readonly<Record<string, unknown>>, opts: PlanOptions = {}): Plan[] {
  const plans: Plan[] = [];
  const seenKeys = new Set<string>();
  const queue: number[][] = [[]];
  // Scripts are sequences of choices in the order decisions happen (all harness roles interleaved).
  while (queue.length && plans.length < p.maxPaths) {
    const prefix = queue.shift()!;
    const log: Step[] = [];
    let k = 0;
    // The prefix is global; split it per role lazily through a shared cursor policy.
    const visits = new Map<string, number>();
    const fallback = firstPolicy();
    const policy: AuraPolicy = {
      decide(d) {
        const at = `${d.role}@${d.at ?? d.options.join('|')}`;
        const v = visits.get(at) ?? 0;
        visits.set(at, v + 1);
        const s = k < prefix.length ? prefix[k] : undefined;
        k++;
        let chosen = s !== undefined && s < d.options.length ? s : 0;
        // Past the loop bound, prefer an option that leaves (a tag `break`/`exit`, or the last option tried first).
        if (s === undefined && v >= p.loopBound + 1) {
          const leave = (d.tags ?? []).findIndex((t) => t === 'break' || t === 'exit' || t === 'else');
          if (leave >= 0) chosen = leave;
        }
        log.push({ role: d.role, d, chosen });
        return chosen;
      },
      payload: fallback.payload.bind(fallback),
    };
    const r = simulate(check, { harnessRoles: harness, harnessPolicy: policy, targetPolicy: opts.targetDecisions ? policy : firstPolicy(), params, timeoutMs: 1, maxSteps: 2_000 });
    const key = log.map((s) => `${s.role}.${s.chosen}`).join('/');
    if (seenKeys.has(key)) continue;
    seenKeys.add(key);
    const complete = r.harnessDone && r.targetDone && !r.broken;
    if (!complete) continue;
    plans.push({ steps: log, wire: r.wire, complete });
    for (let i = prefix.length; i < log.length; i++) {
      const s = log[i]!;
      const at = `${s.role}@${s.d.at ?? s.d.options.join('|')}`;
      const visitsBefore = log.slice(0, i).filter((x) => `${x.role}@${x.d.at ?? x.d.options.join('|')}` === at).length;
      if (visitsBefore > p.loopBound) continue;
      for (let j = 0; j < s.d.options.length; j++) {
        if (j === s.chosen) continue;
        queue.push([...log.slice(0, i).map((x) => x.chosen), j]);
      }
    }
  }
  return plans;
}

/** Case id of a path: its decisions, `main` when there are none. */
function pathId(plan: Plan): string {
  const parts = plan.steps.map((s) => `${s.role}.${slug(optionName(s.d, s.chosen))}`);
  const id = parts.length ? parts.join('/') : 'main';
  return id.length <= 160 ? id : `${id.slice(0, 140)}…${hashText(id)}`;
}

function hashText(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/** Timing of a profile: the harness's quiet wait and a case's deadline (ms). */
function timing(p: AuraProfile, check: AuraCheck, messages: number): { quietMs: number; deadlineMs: number } {
  const wait = hasTimeouts(check) ? p.timeoutMs || 30_000 : 0;
  const quietMs = p.replyDeadlineMs + wait + p.toleranceMs + 100;
  return { quietMs, deadlineMs: (messages + 4) * (p.replyDeadlineMs + wait) + 5_000 };
}

function hasTimeouts(check: AuraCheck): boolean {
  return [...check.projections.values()].some((r) => /~\{/.test(r.text));
}

let sessionCounter = 0;

/** Plays one session of the case and lets the monitor settle. */
async function play(ctx: Ctx, check: AuraCheck, harness: readonly string[], script: Readonly<Record<string, readonly ScriptedChoice[]>>, deviation?: Deviation): Promise<void> {
  const p = ctx.profile;
  const conn = await ctx.connect(undefined, harness.join(','));
  const { quietMs } = timing(p, check, 0);
  await playSession(ctx, conn, {
    check, harnessRoles: harness, policy: scriptedPolicy(script, { decide: () => 0, payload: randomPolicy(p.seed).payload }),
    params: sessionParams(p), session: `s${++sessionCounter}`, quietMs,
    ...(p.timeoutMs ? { timeoutMs: p.timeoutMs } : {}),
    ...(deviation ? { deviation } : {}),
  });
  await ctx.settle();
  await conn.close(0);
}

/** The script of a plan: each harness role's choices by option name (robust to the target choosing differently). */
function scriptOf(plan: Plan): Record<string, ScriptedChoice[]> {
  const out: Record<string, ScriptedChoice[]> = {};
  for (const s of plan.steps) (out[s.role] ??= []).push(s.d.kind === 'race' ? s.d.options[s.chosen]! : s.chosen);
  return out;
}

/** Generates the cases of a profile (its choreography and target roles). @throws RangeError for a bad choreography, roles or params */
export function generateCases(p: AuraProfile): ConformanceCase<AuraProfile>[] {
  const { check, target, harness } = profileChoreography(p);
  const params = sessionParams(p);
  const plans = planPaths(check, harness, p, params);
  const cases: ConformanceCase<AuraProfile>[] = [];
  const who = `the harness plays ${harness.join(', ')}; the target plays ${target.join(', ')} of ${check.protocol}`;
  const ids = new Set<string>();
  const unique = (id: string) => {
    let x = id;
    for (let n = 2; ids.has(x); n++) x = `${id}~${n}`;
    ids.add(x);
    return x;
  };
  for (const plan of plans) {
    const script = scriptOf(plan);
    const t = timing(p, check, plan.wire.length);
    const decisions = plan.steps.map((s) => `${s.role} ${s.d.kind === 'race' ? `at a timeout: ${optionName(s.d, s.chosen)}` : `takes ${optionName(s.d, s.chosen)}`}`);
    const rules = ['AURA-13.1', 'AURA-16.6', 'AURA-16.5', ...(plan.steps.some((s) => s.d.kind === 'race') ? ['AURA-9.1', 'AURA-9.2'] : []), ...(plan.steps.some((s) => optionName(s.d, s.chosen).includes('$fail')) ? ['AURA-10.2'] : [])];
    cases.push({
      id: unique(`aura/path/${pathId(plan)}`),
      section: '16.7',
      rules,
      description: `Plays one session: ${who}; ${decisions.length ? decisions.join(', ') : 'no decision of the harness'} (${plan.wire.length} wire messages in memory).`,
      requirement: 'The target MUST play its roles as the choreography allows (global monitor), send every message it owes within replyDeadlineMs (plus the timeout while one runs), with the declared payload fields.',
      expected: (q) => [`every target message allowed by ${check.protocol}`, `each owed message within ${q.replyDeadlineMs} ms`],
      deadlineMs: () => t.deadlineMs,
      run: (ctx) => play(ctx, check, harness, script),
    });
  }
  // Deviations on the first path's harness wire messages.
  const base = plans[0];
  if (base) {
    const script = scriptOf(base);
    const t = timing(p, check, base.wire.length);
    const auto = hideActions(buildGlobalAutomaton(check.global), (x) => target.includes(x.from) === target.includes(x.to), globalActionText);
    const harnessSteps = base.wire.map((m, i) => ({ m, i })).filter((x) => x.m.side === 'harness');
    const allowedAt = (upto: number, m: { from: string; to: string; label: string }): boolean => {
      const mon = globalMonitorOf(auto);
      for (const x of base.wire.slice(0, upto)) mon.feed(x);
      return mon.feed(m) === undefined;
    };
    const dev: ConformanceCase<AuraProfile>[] = [];
    harnessSteps.forEach(({ m, i }, step) => {
      const name = `${slug(m.from)}.${slug(m.label)}`;
      const mk = (kind: Deviation['kind'], what: string, requirement: string, rules: string[], expected: string) => dev.push({
        id: unique(`aura/deviation/${kind}-${step}-${name}`),
        section: '16.7',
        rules,
        description: `Plays the first path (${who}); at the harness's wire message #${step} (${m.from}→${m.to}:${m.label}) ${what}.`,
        requirement,
        expected: () => [expected],
        deadlineMs: () => t.deadlineMs,
        run: (ctx) => play(ctx, check, harness, script, { kind, step }),
      });
      const resetReq = 'A session that breaks the choreography MUST be ended with RESET_STREAM code 0x1 (PROTOCOLS; AURA-16.4).';
      mk('label', `sends label ${'NotInTheChoreography'} instead`, resetReq, ['AURA-16.4'], 'RESET_STREAM 0x1 on the session');
      if (!allowedAt(i, { from: m.from, to: m.to, label: '$fail' })) mk('fail', 'sends `$fail` where the choreography has no compensation', resetReq, ['AURA-16.4', 'AURA-10.2'], 'RESET_STREAM 0x1 on the session');
      const next = base.wire[i + 1];
      if (next && next.side === 'harness' && !allowedAt2(auto, base.wire.slice(0, i), [next, m])) {
        mk('order', `sends it after the next one (${next.from}→${next.to}:${next.label})`, resetReq, ['AURA-16.4'], 'RESET_STREAM 0x1 on the session');
      }
      mk('skip', 'leaves it out', 'The target MUST NOT act as if a message it did not get had come: everything it sends stays allowed by the choreography (AURA-13.1), and it owes nothing the choreography does not make it owe.', ['AURA-13.1', 'AURA-16.6'], 'no message the choreography does not allow (waiting is right)');
    });
    cases.push(...dev.slice(0, p.maxPaths * 2));
  }
  const wireCase = (name: string, what: string, rule: string, bytes: (check: AuraCheck) => Uint8Array): ConformanceCase<AuraProfile> => ({
    id: `aura/wire/${name}`,
    section: '16.1',
    rules: [rule],
    description: what,
    requirement: 'A malformed frame or an unknown protocol MUST close the connection with application code 0x1 (PROTOCOLS).',
    expected: (q) => [`connection close 0x1 within ${q.replyDeadlineMs} ms`],
    deadlineMs: (q) => q.replyDeadlineMs * 4 + 5_000,
    async run(ctx) {
      const conn = await ctx.connect(undefined, harness.join(','));
      const s = conn.openStream('bidi');
      try {
        await s.write(bytes(check));
      } catch (err) {
        if (!conn.isClosed) throw err;
      }
      await ctx.settle();
      await conn.close(0);
    },
  });
  const roles = Object.fromEntries(check.roles.map((r) => [r, target.includes(r) ? 'you' : 'peer']));
  cases.push(
    wireCase('unknown-protocol', `Opens a session whose start frame names protocol "${check.protocol}Unknown".`, 'AURA-16.2', (c) => encodeAuraFrame({ start: `${c.protocol}Unknown`, session: 'x', roles, params: {} })),
    wireCase('malformed-frame', 'Sends a frame whose payload is not JSON (`[len=6]"hello`).', 'AURA-16.1', () => new Uint8Array([0, 0, 0, 6, 0x22, 0x68, 0x65, 0x6c, 0x6c, 0x6f])),
  );
  return cases;
}

/** True when `msgs` in this order are allowed after `prefix`. */
function allowedAt2(auto: ReturnType<typeof hideActions<{ from: string; to: string; label: string }>>, prefix: readonly SimMessage[], msgs: readonly SimMessage[]): boolean {
  const mon = globalMonitorOf(auto);
  for (const x of prefix) mon.feed(x);
  return msgs.every((m) => mon.feed(m) === undefined);
}

/**
 * The sanity probe: the first path's session; the target must answer.
 * @throws Error when the target sent nothing it owed, or ended the session
 */
export async function probe(ctx: Ctx): Promise<void> {
  const { check, harness } = profileChoreography(ctx.profile);
  const p = ctx.profile;
  const conn = await ctx.connect(undefined, harness.join(','));
  const { quietMs } = timing(p, check, 0);
  const out = await playSession(ctx, conn, {
    check, harnessRoles: harness, policy: scriptedPolicy({}, { decide: () => 0, payload: randomPolicy(p.seed).payload }),
    params: sessionParams(p), session: 'probe', quietMs, ...(p.timeoutMs ? { timeoutMs: p.timeoutMs } : {}),
  });
  await conn.close(0);
  if (!out.done) throw new Error(`the session did not complete: ${out.broken ?? `the target sent ${out.received.length} message(s) and went quiet for ${quietMs} ms`}`);
}

