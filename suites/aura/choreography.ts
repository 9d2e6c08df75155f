/**
 * Loading the choreography a profile names (SPEC §16): read, parse, check,
 * once per file content. The suite, the monitor and the reference roles
 * all use this, so they judge and play the same protocol.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../harness/engine/registry.js';
import { checkAura, formatViolation, type AuraCheck } from './language.js';
import { targetRoles, type AuraProfile } from './profile.js';

const cache = new Map<string, AuraCheck>();

/** The file a profile's `choreography` names: as given when it exists, else under the project root. */
export function resolveChoreography(file: string): string {
  if (path.isAbsolute(file) || existsSync(file)) return file;
  const under = path.join(projectRoot, file);
  return existsSync(under) ? under : file;
}

/**
 * Reads and checks a choreography file (cached by path and content).
 * @throws RangeError naming the file when it cannot be read, parsed, or is not well-formed (with the violations)
 */
export function loadChoreography(file: string): AuraCheck {
  const f = resolveChoreography(file);
  let text: string;
  try {
    text = readFileSync(f, 'utf8');
  } catch (e) {
    throw new RangeError(`choreography ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const key = `${f}\0${text}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let c: AuraCheck;
  try {
    c = checkAura(text, file);
  } catch (e) {
    throw new RangeError(`choreography ${(e as Error).message}`);
  }
  if (!c.wellFormed) throw new RangeError(`choreography ${file} is not well-formed (a runtime cannot play it):\n${c.violations.map((v) => formatViolation(c.file, v)).join('\n')}`);
  cache.set(key, c);
  return c;
}

/**
 * The profile's choreography and target roles, checked.
 * @throws RangeError for an unreadable or ill-formed choreography, or a role it does not declare
 */
export function profileChoreography(p: AuraProfile): { check: AuraCheck; target: string[]; harness: string[] } {
  const check = loadChoreography(p.choreography);
  const target = targetRoles(p);
  const unknown = target.filter((r) => !check.roles.includes(r));
  if (unknown.length || target.length === 0) throw new RangeError(`profile field roles ${JSON.stringify(p.roles)}: ${unknown.length ? `${unknown.join(', ')} not a role of ${check.protocol}` : 'no role'} (roles: ${check.roles.join(', ')})`);
  return { check, target, harness: check.roles.filter((r) => !target.includes(r)) };
}
