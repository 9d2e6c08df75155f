/**
 * Entry point of the Aura choreography language (suites/aura/SPEC.md):
 * parse, elaborate, check well-formedness, project every role.
 *
 * ```ts
 * import { checkAura } from './suites/aura/language.js';
 * const r = checkAura(text, 'proto.aura');
 * if (!r.wellFormed) console.log(r.violations.map((v) => formatViolation(r.file, v)).join('\n'));
 * else console.log(r.projections.get('Client')!.text);
 * ```
 */
import type { AuraFile } from './ast.js';
import { buildRoleCfsm, type Cfsm } from './cfsm.js';
import { elaborate } from './elaborate.js';
import { AuraParseError, type AuraViolation } from './errors.js';
import type { G } from './global.js';
import { renderLocal, type L } from './local.js';
import { parseAura } from './parser.js';
import { project } from './project.js';
import { looksLikeScribble, parseScribble } from './scribble.js';

export { AuraParseError, formatViolation, type AuraViolation } from './errors.js';
export { parseAura } from './parser.js';
export { parseScribble } from './scribble.js';

/** One role's projection: local type, its compact text (SPEC §12) and its CFSM. */
export interface RoleProjection {
  readonly role: string;
  readonly local: L;
  /** Compact one-line form, e.g. `B!Req; B?Resp`. */
  readonly text: string;
  readonly cfsm: Cfsm;
}

/** The result of checking a file's main protocol. */
export interface AuraCheck {
  readonly file: string;
  readonly ast: AuraFile;
  readonly protocol: string;
  readonly roles: readonly string[];
  readonly global: G;
  /** Every broken rule, elaboration rules first, then projection rules in role order. */
  readonly violations: readonly AuraViolation[];
  readonly wellFormed: boolean;
  /** Projections of every declared role (computed even when ill-formed, for diagnosis). */
  readonly projections: ReadonlyMap<string, RoleProjection>;
}

/**
 * Checks the main protocol of an Aura file (or protocol `name`).
 * @throws AuraParseError when the text cannot be parsed (`file:line:col: expected X, found Y`)
 */
export function checkAura(src: string, file = '<input>', name?: string): AuraCheck {
  return checkParsed(parseAny(src, file), name);
}

/**
 * Parses Aura syntax, or Scribble/nuScr global-protocol syntax when the file
 * starts with `module`, `type`, `import`, `global`, `aux` or `explicit` (SPEC §15).
 * @throws AuraParseError on a syntax error
 */
export function parseAny(src: string, file = '<input>'): AuraFile {
  return looksLikeScribble(src, file) ? parseScribble(src, file) : parseAura(src, file);
}

/** As `checkAura`, from a parsed file. */
export function checkParsed(ast: AuraFile, name?: string): AuraCheck {
  const el = elaborate(ast, name);
  const byPos = (a: AuraViolation, b: AuraViolation) => a.pos.line - b.pos.line || a.pos.col - b.pos.col;
  // A failed `compose` leaves roles without messages: report the cause only (AURA-11 before AURA-4.4).
  const composeFailed = el.violations.some((v) => v.rule.startsWith('AURA-11.'));
  const violations: AuraViolation[] = el.violations.filter((v) => !(composeFailed && v.rule === 'AURA-4.4')).sort(byPos);
  const projected: AuraViolation[] = [];
  const projections = new Map<string, RoleProjection>();
  for (const role of el.roles) {
    const p = project(el.global, role);
    projected.push(...p.violations);
    projections.set(role, { role, local: p.local, text: renderLocal(p.local), cfsm: buildRoleCfsm(role, p.local) });
  }
  violations.push(...projected.sort(byPos));
  return {
    file: ast.file, ast, protocol: el.protocol.name, roles: el.roles, global: el.global,
    violations, wellFormed: violations.length === 0, projections,
  };
}

/** True if `e` is a parse error of this language. */
export function isAuraParseError(e: unknown): e is AuraParseError {
  return e instanceof AuraParseError;
}
