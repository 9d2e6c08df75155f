/**
 * Policies of the Aura role runtime (role.ts): who decides what, and which
 * values messages carry. Three kinds: scripted (a list of choices, for the
 * generated conformance cases), seeded random (the reference roles), and a
 * user function.
 */
import type { Field } from '../ast.js';
import type { AuraPolicy, Decision } from './role.js';
import { samplePayload } from './values.js';
import type { AuraPayload } from './wire.js';

/** mulberry32: a small seeded PRNG; returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit FNV-1a hash of a string (e.g. to derive a session's seed from its id). */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Payloads from {@link samplePayload}, varied by a counter. */
function counterPayload(): (role: string, to: string, label: string, fields: readonly Field[]) => AuraPayload {
  let n = 1;
  return (_r, _to, _l, fields) => samplePayload(fields, n++);
}

/**
 * Seeded random decisions: a uniform branch at each select; at a timeout
 * the observer waits and a racing role sends (a conforming role is
 * prompt). Values are typed samples.
 */
export function randomPolicy(seed: number): AuraPolicy {
  const rnd = seededRandom(seed);
  const payload = counterPayload();
  return {
    decide: (d) => (d.kind === 'race' ? 0 : Math.floor(rnd() * d.options.length)),
    payload,
  };
}

/**
 * One scripted decision: a branch index, or the text of the branch's first
 * action (`Participant!CommitRequest`, `$fail`, a tag such as `exit`), or
 * for a race `wait`/`give-up`/`send`/`silent`.
 */
export type ScriptedChoice = number | string;

/**
 * Scripted decisions, per role, in the order the role meets them; past the
 * script (or when an entry matches no option) the `fallback` decides
 * (default: branch 0, and for races wait/send).
 */
export function scriptedPolicy(script: Readonly<Record<string, readonly ScriptedChoice[]>>, fallback?: AuraPolicy): AuraPolicy {
  const used = new Map<string, number>();
  const payload = fallback ? fallback.payload.bind(fallback) : counterPayload();
  return {
    decide(d: Decision): number {
      const list = script[d.role] ?? [];
      const k = used.get(d.role) ?? 0;
      used.set(d.role, k + 1);
      const c = list[k];
      if (c !== undefined) {
        const i = typeof c === 'number' ? c : matchOption(d, c);
        if (i >= 0 && i < d.options.length) return i;
      }
      return fallback ? fallback.decide(d) : 0;
    },
    payload,
  };
}

/** Index of the option a scripted text names (an option's text, one of its first actions, or a tag); -1 when none. */
export function matchOption(d: Decision, c: string): number {
  const i = d.options.indexOf(c);
  if (i >= 0) return i;
  const j = d.options.findIndex((o) => o.split(',').some((a) => a === c || a.endsWith(`!${c}`) || a.endsWith(`?${c}`)));
  if (j >= 0) return j;
  return d.tags ? d.tags.indexOf(c) : -1;
}

/** A policy from user functions; `payload` defaults to typed samples. */
export function functionPolicy(decide: (d: Decision) => number, payload?: AuraPolicy['payload']): AuraPolicy {
  return { decide, payload: payload ?? counterPayload() };
}
