/**
 * The Aura corpus (fixtures/aura/corpus/*.aura): each file's header states the
 * expected verdict — `// expect: ok` with `// project ROLE: LOCAL` for every
 * role, or one `// expect: AURA-x.y ROLE|-` line per violation — and this test
 * checks the checker against it. Also: the corpus covers every rule of SPEC.md.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { Stmt } from '../../suites/aura/ast.js';
import { checkAura, formatViolation } from '../../suites/aura/language.js';

const DIR = join(import.meta.dirname, '../../fixtures/aura/corpus');
const files = readdirSync(DIR).filter((f) => f.endsWith('.aura')).sort();

interface Expectation {
  ok: boolean;
  violations: string[];
  projections: Map<string, string>;
  covers: string[];
}

function header(text: string, file: string): Expectation {
  const e: Expectation = { ok: false, violations: [], projections: new Map(), covers: [] };
  for (const line of text.split('\n')) {
    let m = /^\/\/ expect: (.*)$/.exec(line);
    if (m) {
      if (m[1] === 'ok') e.ok = true;
      else e.violations.push(m[1]!.trim());
      continue;
    }
    m = /^\/\/ project (\w+): (.*)$/.exec(line);
    if (m) {
      e.projections.set(m[1]!, m[2]!.trim());
      continue;
    }
    m = /^\/\/ covers: (.*)$/.exec(line);
    if (m) e.covers.push(...m[1]!.split(',').map((s) => s.trim()));
  }
  if (e.ok === (e.violations.length > 0)) throw new Error(`${file}: header must say either "expect: ok" or the expected violations`);
  return e;
}

t.test('the corpus holds at least 60 protocols', async (t) => {
  t.ok(files.length >= 60, `${files.length} files`);
});

const covered = new Set<string>();
const constructs = new Set<string>();
const collect = (ss: readonly Stmt[]): void => {
  for (const s of ss) {
    constructs.add(s.kind === 'break' && s.cond ? 'break-if' : s.kind);
    switch (s.kind) {
      case 'match': s.arms.forEach((a) => collect(a.body)); break;
      case 'choice': case 'parallel': s.branches.forEach(collect); break;
      case 'if': collect(s.then); collect(s.else); break;
      case 'loop': case 'for': collect(s.body); break;
      case 'timeout': collect(s.body); collect(s.handler); break;
      case 'try': collect(s.body); collect(s.compensate); break;
      default: break;
    }
  }
};
for (const f of files) {
  t.test(f, async (t) => {
    const text = readFileSync(join(DIR, f), 'utf8');
    const exp = header(text, f);
    exp.covers.forEach((c) => covered.add(c));
    const r = checkAura(text, f);
    r.ast.protocols.forEach((p) => collect(p.body));
    const got = r.violations.map((v) => `${v.rule} ${v.role ?? '-'}`);
    got.forEach((g) => covered.add(g.split(' ')[0]!));
    t.same(got.slice().sort(), exp.violations.slice().sort(), `violations:\n${r.violations.map((v) => formatViolation(f, v)).join('\n')}`);
    t.equal(r.wellFormed, exp.ok);
    if (exp.ok) {
      t.same([...exp.projections.keys()].sort(), [...r.roles].sort(), 'an expected projection for every role');
      for (const [role, want] of exp.projections) t.equal(r.projections.get(role)?.text, want, `projection on ${role}`);
    }
    for (const v of r.violations) {
      // Every violation points into the file and names a rule of SPEC.md.
      t.ok(v.pos.line >= 1 && v.pos.line <= text.split('\n').length, `${v.rule} position inside the file`);
      if (v.conflict) for (const c of v.conflict) t.type(c.text, 'string');
    }
  });
}

t.test('every rule of SPEC.md §4–§11 is exercised by the corpus', async (t) => {
  const spec = readFileSync(join(import.meta.dirname, '../../suites/aura/SPEC.md'), 'utf8');
  const rules = [...new Set([...spec.matchAll(/\*\*(AURA-(\d+)\.\d+)/g)].filter((m) => Number(m[2]) >= 4 && Number(m[2]) <= 11).map((m) => m[1]!))];
  t.ok(rules.length >= 25, `${rules.length} rules found in SPEC.md`);
  const missing = rules.filter((r) => !covered.has(r));
  t.same(missing, [], 'rules without a corpus protocol');
});

t.test('every construct of the grammar appears in the corpus', async (t) => {
  const all = ['message', 'action', 'match', 'choice', 'if', 'parallel', 'barrier', 'loop', 'break', 'break-if', 'continue', 'for', 'timeout', 'try', 'compose', 'let'];
  t.same(all.filter((k) => !constructs.has(k)), [], 'constructs without a corpus protocol');
});
