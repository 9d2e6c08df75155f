/**
 * Aura's fuzz generators (`wirecheck fuzz --protocol aura`; harness/fuzz):
 * programs that play the harness's side of one session as a fixture script
 * (start frame, then the harness's wire messages of a planned path written
 * in order, cases.ts `planPaths`), with at most one deviation (unexpected
 * label, `$fail`, a missing message, two messages swapped). The monitor
 * judges whatever the target does (SPEC §16); fast-check shrinks a failure
 * towards the first path and the first step (a minimal path).
 *
 * A script cannot react, so plans enumerate the target's decisions too
 * (`planPaths` option `targetDecisions`): its choices and the values it
 * sends that decide a later `match`/`if` (AURA-16.5). When the target
 * decides otherwise than the plan, the harness's next message of the other
 * arm is a message the choreography does not allow there: the monitor
 * (runtime/data.ts `DataDecisions`) judges it a deviation, and the target
 * owes the reset of AURA-16.4, not the plan's reply.
 */
import fc from 'fast-check';
import type { FixtureStep } from '../../harness/fixtures/format.js';
import type { FuzzProgram } from '../../harness/fuzz/types.js';
import { planPaths } from './cases.js';
import { profileChoreography } from './choreography.js';
import { sessionParams, type AuraProfile } from './profile.js';
import { UNEXPECTED_LABEL, type Deviation } from './runtime/play.js';
import { encodeAuraFrame, type MessageFrame } from './runtime/wire.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The generators: `paths` (a planned path as is) and `deviations` (a path with one deviation). */
export function auraArbitraries(p: AuraProfile): Readonly<Record<string, fc.Arbitrary<FuzzProgram>>> {
  const { check, target, harness } = profileChoreography(p);
  const params = sessionParams(p);
  // A program is written ahead and cannot follow the target: plan the target's decisions too (its data values
  // decide later choices, AURA-16.5), so that some program fits what the target decides; a program that does not
  // fit is a deviation of the harness the target must reset for (AURA-16.4), as the monitor judges.
  const plans = planPaths(check, harness, p, params, { targetDecisions: true });
  if (plans.length === 0) throw new RangeError(`choreography ${p.choreography}: no complete path to fuzz`);
  const roles = Object.fromEntries(check.roles.map((r) => [r, target.includes(r) ? 'you' : 'peer']));
  const waitMs = p.replyDeadlineMs + (p.timeoutMs || 0) + 300;

  const program = (planIndex: number, dev: Deviation | undefined): FuzzProgram => {
    const plan = plans[planIndex % plans.length]!;
    const mine: MessageFrame[] = plan.wire.filter((m) => m.side === 'harness').map((m) => ({ from: m.from, to: m.to, label: m.label, payload: m.payload }));
    const lines: string[] = [];
    const steps: FixtureStep[] = [
      { do: 'connect', conn: 'c', comment: `connect as ${harness.join(', ')}` },
      { do: 'open', stream: 's', conn: 'c', kind: 'bidi', comment: 'the session\u2019s stream' },
      { do: 'write', stream: 's', hex: hex(encodeAuraFrame({ start: check.protocol, session: 'fuzz', roles, params })), comment: `start ${check.protocol} (target: ${target.join(', ')})` },
    ];
    const rules = new Set<string>(['AURA-13.1', 'AURA-16.6']);
    let out = [...mine];
    const step = dev ? dev.step % Math.max(1, mine.length) : -1;
    if (dev && mine.length) {
      const m = out[step]!;
      rules.add(dev.kind === 'skip' ? 'AURA-13.1' : 'AURA-16.4');
      if (dev.kind === 'label') out[step] = { ...m, label: UNEXPECTED_LABEL };
      if (dev.kind === 'fail') out[step] = { ...m, label: '$fail', payload: { reason: 'fuzz' } };
      if (dev.kind === 'skip') out = out.filter((_, i) => i !== step);
      if (dev.kind === 'order' && step + 1 < out.length) [out[step], out[step + 1]] = [out[step + 1]!, m];
      lines.push(`deviation: ${dev.kind} at the harness's message #${step} (${m.from}→${m.to}:${m.label})`);
    }
    for (const m of out) steps.push({ do: 'write', stream: 's', hex: hex(encodeAuraFrame(m)), comment: `${m.from}→${m.to}:${m.label}` });
    steps.push({ do: 'fin', stream: 's', comment: 'end of the harness\u2019s messages' });
    steps.push({ expect: 'settled', within: `${waitMs}`, comment: 'let every owed message (or the reset) come' } as FixtureStep);
    steps.push({ do: 'close', conn: 'c', code: 0, comment: 'close' });
    const decisions = plan.steps.map((s) => `${s.role}:${s.d.options[s.chosen]}`).join(', ') || 'no decision';
    const description = `Plays path #${planIndex % plans.length} (${decisions})${lines.length ? `; ${lines[0]}` : ''}.`;
    return {
      arbitrary: dev ? 'deviations' : 'paths',
      description,
      rules: [...rules],
      steps,
      toString: () => [description, ...steps.map((s, i) => `${String(i + 1).padStart(3)}. ${s.comment ?? ('do' in s ? s.do : 'expect')}`)].join('\n'),
    };
  };
  const planIdx = fc.nat({ max: plans.length - 1 });
  return {
    paths: planIdx.map((i) => program(i, undefined)),
    deviations: fc.record({ plan: planIdx, step: fc.nat({ max: 64 }), kind: fc.constantFrom<Deviation['kind']>('label', 'fail', 'skip', 'order') }).map((d) => program(d.plan, { kind: d.kind, step: d.step })),
  };
}
