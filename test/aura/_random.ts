/**
 * Random well-formed Aura protocols of bounded size (roles A, B, C; messages,
 * `choice at`, `parallel`, loops with a chooser), for the property tests of
 * the monitors, the projection and the runtime.
 */
import fc from 'fast-check';
import { buildGlobalAutomaton } from '../../suites/aura/cfsm.js';
import { checkAura } from '../../suites/aura/language.js';

export const ROLES = ['A', 'B', 'C'] as const;
const role = fc.constantFrom(...ROLES);
export const pair = fc.tuple(role, role).filter(([a, b]) => a !== b);
const msgStmt = fc.tuple(pair, fc.constantFrom('M1', 'M2')).map(([[a, b], l]) => `${a} -> ${b}: ${l};`);
const { stmts } = fc.letrec<{ stmts: string; stmt: string; choice: string; par: string; loop: string }>((tie) => ({
  stmts: fc.array(tie('stmt'), { minLength: 1, maxLength: 3 }).map((xs) => xs.join(' ')),
  stmt: fc.oneof({ depthSize: 'small', maxDepth: 3 }, msgStmt, msgStmt, tie('choice'), tie('par'), tie('loop')),
  choice: fc.tuple(role, fc.array(fc.tuple(role, tie('stmts')), { minLength: 2, maxLength: 3 })).map(
    ([r, bs]) => `choice at ${r} { ${bs.map(([to, s], i) => `${r} -> ${to === r ? ROLES.find((x) => x !== r) : to}: B${i}; ${s}`).join(' } or { ')} }`,
  ),
  par: fc.array(tie('stmts'), { minLength: 2, maxLength: 2 }).map((bs) => `parallel { ${bs.map((b) => `{ ${b} }`).join(' ')} }`),
  loop: fc.tuple(pair, tie('stmts')).map(([[r, o], body]) => `loop { ${body} choice at ${r} { ${r} -> ${o}: Stop; break; } or { ${r} -> ${o}: Go; } }`),
}));
/** Well-formed random protocols (global automaton of at most 200 states), with their source. */
export const wellFormed = stmts
  .map((body) => {
    const src = `protocol R { roles: A, B, C; ${body} }`;
    return Object.assign(checkAura(src, 'random.aura'), { src });
  })
  .filter((r) => r.wellFormed && buildGlobalAutomaton(r.global).states <= 200);

