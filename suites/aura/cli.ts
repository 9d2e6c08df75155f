/**
 * `wirecheck aura check|project|graph FILE [--role R] [--format …]` as a pure
 * function (the CLI wiring calls it and prints the result). Exit codes: 0 the
 * protocol is well-formed, 1 it breaks a rule (SPEC AURA-§.n), 2 the file cannot
 * be read or parsed, or the arguments are wrong.
 */
import { readFileSync } from 'node:fs';
import { buildGlobalAutomaton, globalActionText, roleActionText, toDot, toMermaid, type Automaton, type GlobalAction } from './cfsm.js';
import { formatViolation } from './errors.js';
import { checkAura, isAuraParseError, type AuraCheck, type RoleProjection } from './language.js';
import { renderLocal } from './local.js';

/** Arguments of `auraCommand`. `file` is a path; `role` limits `project`/`graph` to one role. */
export interface AuraCommandArgs {
  readonly action: 'check' | 'project' | 'graph';
  readonly file: string;
  readonly role?: string;
  readonly format: 'text' | 'json' | 'mermaid' | 'dot';
}

/** What to print and the exit code. */
export interface AuraCommandResult {
  readonly exitCode: 0 | 1 | 2;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs one `wirecheck aura` action on a file. Never throws: unreadable files,
 * parse errors and bad arguments give exit code 2 and a message on stderr.
 */
export function auraCommand(args: AuraCommandArgs): AuraCommandResult {
  let src: string;
  try {
    src = readFileSync(args.file, 'utf8');
  } catch (e) {
    return { exitCode: 2, stdout: '', stderr: `aura ${args.action}: cannot read ${args.file}: ${(e as Error).message}\n` };
  }
  let r: AuraCheck;
  try {
    r = checkAura(src, args.file);
  } catch (e) {
    if (isAuraParseError(e)) return { exitCode: 2, stdout: '', stderr: `${e.message}\n` };
    throw e;
  }
  if (args.role !== undefined && !r.projections.has(args.role)) {
    return { exitCode: 2, stdout: '', stderr: `aura ${args.action}: no role \`${args.role}\` in protocol ${r.protocol} (roles: ${r.roles.join(', ')})\n` };
  }
  const exitCode = r.wellFormed ? 0 : 1;
  const report = r.violations.map((v) => formatViolation(r.file, v)).join('\n');
  const stderr = r.wellFormed ? '' : `${report}\n${r.file}: protocol ${r.protocol} is not well-formed (${r.violations.length} violation${r.violations.length === 1 ? '' : 's'})\n`;
  const roles: RoleProjection[] = args.role !== undefined ? [r.projections.get(args.role)!] : [...r.projections.values()];
  const bad = (what: string): AuraCommandResult => ({
    exitCode: 2, stdout: '', stderr: `aura ${args.action}: --format ${args.format} is not available for ${what}\n`,
  });
  switch (args.action) {
    case 'check':
      if (args.format === 'json') return { exitCode, stdout: `${JSON.stringify(checkJson(r), null, 2)}\n`, stderr: '' };
      if (args.format !== 'text') return bad('check (use text or json)');
      return {
        exitCode,
        stdout: r.wellFormed ? `${r.file}: protocol ${r.protocol} is well-formed (roles: ${r.roles.join(', ')})\n` : '',
        stderr,
      };
    case 'project': {
      let out: string;
      if (args.format === 'text') {
        out = roles.map((p) => `role ${p.role}:\n  ${renderLocal(p.local, { fields: true, indent: true }).replace(/\n/g, '\n  ')}\n`).join('\n');
      } else if (args.format === 'json') {
        out = `${JSON.stringify(Object.fromEntries(roles.map((p) => [p.role, { local: p.text, cfsm: cfsmJson(p) }])), null, 2)}\n`;
      } else if (args.format === 'mermaid') {
        out = roles.map((p) => toMermaid(p.cfsm, roleActionText, `${r.protocol} — ${p.role}`)).join('\n');
      } else {
        out = roles.map((p) => toDot(p.cfsm, roleActionText, `${r.protocol}_${p.role}`)).join('\n');
      }
      return { exitCode, stdout: out, stderr };
    }
    case 'graph': {
      if (args.role !== undefined) {
        const p = roles[0]!;
        if (args.format === 'mermaid') return { exitCode, stdout: toMermaid(p.cfsm, roleActionText, `${r.protocol} — ${p.role}`), stderr };
        if (args.format === 'dot') return { exitCode, stdout: toDot(p.cfsm, roleActionText, `${r.protocol}_${p.role}`), stderr };
        if (args.format === 'json') return { exitCode, stdout: `${JSON.stringify(cfsmJson(p), null, 2)}\n`, stderr };
        return { exitCode, stdout: automatonText(p.cfsm, roleActionText), stderr };
      }
      const g = buildGlobalAutomaton(r.global);
      if (args.format === 'mermaid') return { exitCode, stdout: toMermaid(g, globalActionText, r.protocol), stderr };
      if (args.format === 'dot') return { exitCode, stdout: toDot(g, globalActionText, r.protocol), stderr };
      if (args.format === 'json') return { exitCode, stdout: `${JSON.stringify(globalJson(g), null, 2)}\n`, stderr };
      return { exitCode, stdout: automatonText(g, globalActionText), stderr };
    }
  }
}

function checkJson(r: AuraCheck) {
  return {
    file: r.file,
    protocol: r.protocol,
    roles: r.roles,
    wellFormed: r.wellFormed,
    violations: r.violations,
    projections: Object.fromEntries([...r.projections].map(([k, p]) => [k, p.text])),
  };
}

function cfsmJson(p: RoleProjection) {
  return {
    role: p.role,
    states: p.cfsm.states,
    initial: 0,
    finals: p.cfsm.finals,
    transitions: p.cfsm.transitions.map((t) => ({ from: t.from, to: t.to, ...t.action })),
  };
}

function globalJson(g: Automaton<GlobalAction>) {
  return { states: g.states, initial: 0, finals: g.finals, transitions: g.transitions.map((t) => ({ from: t.from, to: t.to, sender: t.action.from, receiver: t.action.to, label: t.action.label })) };
}

function automatonText<A>(a: Automaton<A>, text: (x: A) => string): string {
  const lines = [`states: ${a.states} (initial 0; final ${a.finals.join(', ') || 'none'})`];
  for (const t of a.transitions) lines.push(`  ${t.from} --${text(t.action)}--> ${t.to}`);
  return `${lines.join('\n')}\n`;
}
