/** Scribble / nuScr global-protocol syntax read into the Aura AST (SPEC §15). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { AuraParseError } from '../../suites/aura/errors.js';
import { checkAura } from '../../suites/aura/language.js';
import { looksLikeScribble, parseScribble } from '../../suites/aura/scribble.js';

const DIR = join(import.meta.dirname, '../../fixtures/aura/scribble');

t.test('TwoBuyer (Scribble): multicast, choice, type declarations', async (t) => {
  const src = readFileSync(join(DIR, 'TwoBuyer.scr'), 'utf8');
  t.ok(looksLikeScribble(src));
  const r = checkAura(src, 'TwoBuyer.scr');
  t.same(r.violations, []);
  t.equal(r.protocol, 'TwoBuyer');
  t.equal(r.projections.get('A')!.text, 'S!title; S?quote; B!share');
  t.equal(r.projections.get('B')!.text, 'S?quote; A?share; +{ S!ok; S?date | S!quit }');
  t.equal(r.projections.get('S')!.text, 'A?title; A!quote; B!quote; &{ B?ok; B!date | B?quit }');
  const msg = parseScribble(src, 'x').protocols[0]!.body[0];
  t.match(msg, { kind: 'message', label: 'title', from: 'A', to: 'S', fields: [{ name: 'arg0', type: 'String' }], pos: { line: 8, col: 3 } });
});

t.test('Adder (nuScr): pragma, named payloads, rec/continue', async (t) => {
  const src = readFileSync(join(DIR, 'Adder.nuscr'), 'utf8');
  t.ok(looksLikeScribble(src), 'a leading nuScr pragma is skipped');
  const r = checkAura(src, 'Adder.nuscr');
  t.same(r.violations, []);
  t.equal(r.projections.get('C')!.text, 'rec X1 { +{ S!add; S?res; X1 | S!bye; S?bye } }');
  t.equal(r.projections.get('S')!.text, 'rec X1 { &{ C?add; C!res; X1 | C?bye; C!bye } }');
  t.match(parseScribble(src, 'x').protocols[0]!.body[0], { kind: 'loop', body: [{ kind: 'choice' }, { kind: 'break' }] });
});

t.test('Scribble: do, par, aux; rules apply (a third role not told)', async (t) => {
  const ok = checkAura(`
global protocol Main(role A, role B, role C) {
  par { x() from A to B; } and { y() from A to C; }
  do Sub(B, C);
}
aux global protocol Sub(role P, role Q) { hi() from P to Q; }`, 'm.scr');
  t.same(ok.violations, []);
  t.equal(ok.projections.get('A')!.text, '( B!x || C!y )');
  t.equal(ok.projections.get('C')!.text, 'A?y; B?hi');
  const bad = checkAura(`global protocol Bad(role A, role B, role C) {
  choice at A { m() from A to B; n() from B to C; } or { m2() from A to B; }
}`, 'bad.scr');
  t.match(bad.violations, [{ rule: 'AURA-5.2', role: 'C', pos: { line: 2, col: 3 } }]);
});

t.test('Scribble: errors with positions, outside the subset too', async (t) => {
  const cases: [string, string][] = [
    ['global protocol P(role A, role B) { m(Int) from A B; }', 's.scr:1:51: expected `to`, found `B`'],
    ['global protocol P(role A, role B) { rec X { rec Y { m() from A to B; continue X; } } }', 's.scr:1:79: expected `continue Y` (only the innermost rec can be continued), found `X`'],
    ['global protocol P(role A, B) { }', 's.scr:1:27: expected `role`, found `B`'],
    ['global protocol P(role A, role B) { continue X; }', 's.scr:1:46: expected a `rec` around `continue`, found `X`'],
  ];
  for (const [src, msg] of cases) {
    const err = t.throws(() => parseScribble(src, 's.scr'));
    t.type(err, AuraParseError);
    t.equal((err as Error).message, msg);
  }
});
