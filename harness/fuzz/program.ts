/**
 * Fuzz programs as text and as fixtures: the readable listing printed for
 * a counterexample, and the fixture (harness/fixtures) a program runs as
 * and a finding is saved as.
 */
import type { Verdict } from '../engine/types.js';
import { FIXTURE_FORMAT, FIXTURE_VERSION, type Fixture, type FixtureObserved, type FixtureStep } from '../fixtures/format.js';
import type { FuzzProgram } from './types.js';

/** Longest hex shown for a write in a listing (characters); longer payloads are cut with `…`. */
const HEX_SHOWN = 48;

/** One step as text: what it does, then its name (`comment`). */
export function formatStep(step: FixtureStep): string {
  const name = step.comment !== undefined ? ` — ${step.comment}` : '';
  if ('do' in step) {
    switch (step.do) {
      case 'connect':
        return `connect ${step.conn}${step.alpn !== undefined ? ` (ALPN ${step.alpn})` : ''}${name}`;
      case 'open':
        return `open ${step.stream}${name}`;
      case 'write': {
        if (step.hex === undefined) {
          const json = JSON.stringify(step.frame);
          return `write ${step.stream} ${json.length > 2 * HEX_SHOWN ? `${json.slice(0, 2 * HEX_SHOWN)}…` : json}${name}`;
        }
        const hex = step.hex;
        return `write ${step.stream} ${hex.length > HEX_SHOWN ? `${hex.slice(0, HEX_SHOWN)}…(${hex.length / 2} bytes)` : hex}${name}`;
      }
      case 'fin':
        return `fin ${step.stream}${name}`;
      case 'reset':
        return `reset ${step.stream} code ${step.code}${name}`;
      case 'stopSending':
        return `stopSending ${step.stream} code ${step.code}${name}`;
      case 'wait':
        return `wait ${step.ms}${typeof step.ms === 'number' ? ' ms' : ''}${name}`;
      case 'close':
        return `close ${step.conn}${step.code !== undefined ? ` code ${step.code}` : ''}${name}`;
      case 'impair':
        return `impair ${step.kind}${step.conn !== undefined ? ` ${step.conn}` : ''}${name}`;
      case 'accept':
        return `accept ${step.stream}${step.kind !== undefined ? ` (${step.kind})` : ''}${name}`;
      case 'dgram':
        return `dgram ${step.hex ?? JSON.stringify(step.frame)}${name}`;
      case 'parallel':
        return `parallel ${Object.entries(step.branches).map(([c, list]) => `${c}: [${list.map(formatStep).join('; ')}]`).join(' | ')}${name}`;
    }
  }
  switch (step.expect) {
    case 'settled':
      return `expect settled within ${step.within ?? 'default'}${name}`;
    case 'closed':
      return `expect ${step.conn} closed${name}`;
    case 'silence':
      return `expect silence for ${step.for}${name}`;
    default: {
      const bind = 'bind' in step && step.bind ? ` bind ${Object.entries(step.bind).map(([k, p]) => `${k}=${p}`).join(', ')}` : '';
      return `expect ${step.expect}${'stream' in step ? ` on ${step.stream}` : ''}${bind}${name}`;
    }
  }
}

/**
 * The readable listing of a program: its generator and description, then
 * one numbered line per step (what it does, its name) and, indented, what
 * the model predicts a conforming server does after it.
 */
export function formatProgram(p: FuzzProgram): string {
  const width = String(p.steps.length).length;
  const lines = [`${p.arbitrary}: ${p.description}`];
  p.steps.forEach((s, i) => {
    lines.push(`  ${String(i + 1).padStart(width)}. ${formatStep(s)}`);
    const pred = p.predictions?.[i];
    if (pred) lines.push(`  ${' '.repeat(width)}  ${' '.repeat(2)}=> model: ${pred}`);
  });
  return lines.join('\n');
}

/** Rule-like ids: `<NAME>-<n>(.<n>)*`. */
const RULE = /^[A-Z][A-Z0-9]*-[0-9]+(\.[0-9]+)*$/;

/** Options of {@link programToFixture}. */
export interface ProgramFixtureOptions {
  /** Protocol (suite name). */
  readonly protocol: string;
  /** Fixture id (`<protocol>/fuzz/<name>`). */
  readonly id: string;
  /** The failure the program produced, for a saved finding. */
  readonly observed?: FixtureObserved;
  /** Rule to list first (the rule a finding broke). */
  readonly rule?: string;
}

/**
 * The fixture a program runs as: its steps, `expect: pass` (a conforming
 * target passes whatever the client sends; the monitor is the oracle), its
 * rules (the broken one first when given), and for a finding `observed`.
 */
export function programToFixture(p: FuzzProgram, o: ProgramFixtureOptions): Fixture {
  const rules = [...new Set([o.rule, ...p.rules].filter((r): r is string => typeof r === 'string' && RULE.test(r)))];
  return {
    format: FIXTURE_FORMAT,
    version: FIXTURE_VERSION,
    protocol: o.protocol,
    id: o.id,
    description: p.description,
    requirement: `Every reaction of the server conforms to the ${o.protocol} model (SPEC.md), and afterwards it still accepts a fresh connection and serves a valid exchange.`,
    rules: rules.length > 0 ? rules : [`${o.protocol.toUpperCase()}-0`],
    expect: { verdict: 'pass' },
    ...(o.observed ? { observed: o.observed } : {}),
    steps: p.steps,
  };
}

/** Verdicts that make a fuzz case a failure. */
export const FAILING: ReadonlySet<Verdict> = new Set<Verdict>(['fail', 'timeout']);

/** Slug of a rule for ids and file names: `PROTON-3.2` → `proton-3-2`. */
export function ruleSlug(rule: string): string {
  return rule.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}
