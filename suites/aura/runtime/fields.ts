/** The declared fields of a message of a choreography (the first declaration of `from→to:label`). */
import type { Field } from '../ast.js';
import type { G } from '../global.js';
import type { AuraCheck } from '../language.js';

const cache = new WeakMap<AuraCheck, Map<string, readonly Field[]>>();

/** Declared fields of message `m` in `check` (empty when the message is not in the choreography). */
export function fieldsOfMessage(check: AuraCheck, m: { from: string; to: string; label: string }): readonly Field[] {
  let map = cache.get(check);
  if (!map) {
    map = new Map();
    const seen = new Set<G>();
    const walk = (g: G): void => {
      if (seen.has(g)) return;
      seen.add(g);
      switch (g.k) {
        case 'msg': { const k = `${g.from}>${g.to}:${g.label}`; if (!map!.has(k)) map!.set(k, g.fields); walk(g.next); return; }
        case 'choice': g.branches.forEach((b) => walk(b.body)); return;
        case 'loop': walk(g.body); walk(g.next); return;
        case 'par': g.branches.forEach(walk); walk(g.next); return;
        default: return;
      }
    };
    walk(check.global);
    cache.set(check, map);
  }
  return map.get(`${m.from}>${m.to}:${m.label}`) ?? [];
}
