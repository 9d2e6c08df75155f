/** Parser of the Aura language: every seed choreography, every construct, errors with positions (SPEC AURA-1, §2). */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { Stmt } from '../../suites/aura/ast.js';
import { AuraParseError } from '../../suites/aura/errors.js';
import { numberValue } from '../../suites/aura/lexer.js';
import { parseAura } from '../../suites/aura/parser.js';

const SEED_DIR = join(import.meta.dirname, '../../fixtures/aura/seed');
const SEEDS = [
  'TwoPhaseCommit', 'SecureDataTransfer', 'DistributedConsensus', 'AdaptiveSync', 'RobustRequest',
  'CompensatingTransaction', 'DistributedAuction', 'DataStreaming', 'HierarchicalConsensus',
];

/** All statement kinds of a list, depth first. */
function kinds(stmts: readonly Stmt[]): string[] {
  const out: string[] = [];
  const walk = (ss: readonly Stmt[]) => {
    for (const s of ss) {
      out.push(s.kind);
      switch (s.kind) {
        case 'match': s.arms.forEach((a) => walk(a.body)); break;
        case 'choice': case 'parallel': s.branches.forEach(walk); break;
        case 'if': walk(s.then); walk(s.else); break;
        case 'loop': case 'for': walk(s.body); break;
        case 'timeout': walk(s.body); walk(s.handler); break;
        case 'try': walk(s.body); walk(s.compensate); break;
        default: break;
      }
    }
  };
  walk(stmts);
  return out;
}

t.test('all nine seed choreographies are present verbatim and parse', async (t) => {
  const seed = readFileSync(join(import.meta.dirname, '../../../shared/seeds/004_2fdd1f80beb1b0db.txt'), 'utf8');
  const files = readdirSync(SEED_DIR).filter((f) => f.endsWith('.aura') && !f.includes('.fixed.'));
  t.same(files.map((f) => f.replace('.aura', '')).sort(), [...SEEDS].sort());
  for (const name of SEEDS) {
    const text = readFileSync(join(SEED_DIR, `${name}.aura`), 'utf8');
    // Verbatim: the file is the inner part of the seed's `choreography! { … }` block (AURA-1.1).
    t.ok(seed.includes(`choreography! {\n${text}}`), `${name}: verbatim from the seed`);
    const ast = parseAura(text, `${name}.aura`);
    t.equal(ast.protocols.length, 1);
    t.equal(ast.protocols[0]!.name, name);
  }
});

t.test('the seed wrapped in choreography! { … } parses to the same AST', async (t) => {
  for (const name of SEEDS) {
    const text = readFileSync(join(SEED_DIR, `${name}.aura`), 'utf8');
    const wrapped = `use rumpsteak_choreography::choreography;\n\nchoreography! {\n${text}}\n`;
    const a = parseAura(text, 'x');
    const b = parseAura(wrapped, 'x');
    t.same(kinds(b.protocols[0]!.body), kinds(a.protocols[0]!.body), name);
    t.equal(b.protocols[0]!.body[0]!.pos.line, a.protocols[0]!.body[0]!.pos.line + 3, `${name}: positions are the wrapped file's`);
  }
});

t.test('TwoPhaseCommit: roles, typed fields, match arms, positions', async (t) => {
  const ast = parseAura(readFileSync(join(SEED_DIR, 'TwoPhaseCommit.aura'), 'utf8'), 'TwoPhaseCommit.aura');
  const p = ast.protocols[0]!;
  t.same(p.roles.map((r) => r.name), ['Coordinator', 'Participant']);
  t.same(p.roles[0]!.pos, { line: 2, col: 16 });
  const [m1, m2, match] = p.body;
  t.match(m1, { kind: 'message', from: 'Coordinator', to: 'Participant', label: 'PrepareRequest', fields: [{ name: 'transaction_id', type: 'u64' }], pos: { line: 5, col: 9 } });
  t.match(m2, { kind: 'message', from: 'Participant', label: 'PrepareResponse', fields: [{ name: 'vote', type: 'Vote' }] });
  t.equal(match!.kind, 'match');
  if (match!.kind !== 'match') return;
  t.same(match.subject.vars, ['vote']);
  t.same(match.arms.map((a) => a.patterns), [['Vote::Commit'], ['Vote::Abort']]);
  t.match(match.arms[1]!.body[1], { kind: 'message', label: 'AbortAck', fields: [] });
});

t.test('seed constructs: parallel+barrier, conditional compose, timeout, try/compensate, for+let, loop+if break', async (t) => {
  const read = (n: string) => parseAura(readFileSync(join(SEED_DIR, `${n}.aura`), 'utf8'), n).protocols[0]!.body;
  t.same(kinds(read('DistributedConsensus')), ['parallel', 'message', 'message', 'message', 'message', 'message', 'message', 'barrier', 'message', 'message']);
  const par = read('DistributedConsensus')[0]!;
  t.equal(par.kind === 'parallel' && par.branches.length, 6, 'each statement of a parallel block is a branch');
  const sync = read('AdaptiveSync')[2]!;
  t.match(sync, { kind: 'match', subject: { text: 'capabilities.sync_type', vars: ['capabilities'] } });
  t.match(sync.kind === 'match' && sync.arms[2], { patterns: ['SyncType::NoSync'], body: [{ kind: 'compose', protocol: 'Acknowledgment', roles: ['Client', 'Server'] }] });
  const to = read('RobustRequest')[1]!;
  t.match(to, { kind: 'timeout', ms: 30_000, durationText: '30_seconds', body: [{ kind: 'message', label: 'Response' }], handler: [{ kind: 'action', role: 'Client', name: 'HandleTimeout' }] });
  const tr = read('CompensatingTransaction')[0]!;
  t.match(tr, { kind: 'try', compensatePos: { line: 14, col: 11 } });
  t.equal(tr.kind === 'try' && tr.body.length, 6);
  const auction = read('DistributedAuction');
  t.same(kinds(auction).slice(3, 10), ['for', 'parallel', 'message', 'message', 'message', 'let', 'message']);
  t.match(auction[3], { kind: 'for', var: 'round', from: { int: 1 }, to: { text: 'max_rounds', vars: ['max_rounds'] }, inclusive: false });
  const letStmt = auction[3]!.kind === 'for' ? auction[3]!.body[1] : undefined;
  t.match(letStmt, { kind: 'let', name: 'highest_bid', value: { vars: ['amount1', 'amount2', 'amount3'] } });
  t.notOk(letStmt?.kind === 'let' && letStmt.value.vars.includes('max'), 'a called function is not a variable');
  const stream = read('DataStreaming');
  t.match(stream[2], { kind: 'loop', body: [{ kind: 'message' }, { kind: 'message' }, { kind: 'if', cond: { text: 'chunk.is_last', vars: ['chunk'] }, then: [{ kind: 'break' }], else: [] }] });
  t.same(kinds(read('HierarchicalConsensus')), ['compose', 'compose', 'message', 'message']);
});

t.test('constructs beyond the seed: choice at, break if, continue, ..=, let by, else if, $fail, multi-protocol files', async (t) => {
  const src = `
protocol P {
  roles: A, B, C;
  choice at A { A -> B: X; } or { A -> B: Y(v: Option<u8>, w: [u8; 4]); } or { A -> C: Z; }
  loop { A -> B: Tick(n: u32); break if n > 3 && !done; continue; }
  for i in 0..=2 { B -> C: Item(i); }
  let total = sum(n, 2) by B;
  if total == 0 { B -> C: Zero; } else if total < 0 { B -> C: Neg; } else { B -> C: Pos; }
  match total at B { 0 | 1 => { B -> A: Small; }, _ => B -> A: Big; }
  A -> B: $fail(reason: String);
  compose Q(B, C);
}
protocol Q { roles: U, V; U -> V: Hi; }
`;
  const ast = parseAura(src, 'p.aura');
  t.same(ast.protocols.map((p) => p.name), ['P', 'Q']);
  const b = ast.protocols[0]!.body;
  t.match(b[0], { kind: 'choice', at: 'A', branches: [[{ label: 'X' }], [{ label: 'Y', fields: [{ name: 'v', type: 'Option<u8>' }, { name: 'w', type: '[u8; 4]' }] }], [{ to: 'C' }]] });
  t.match(b[1], { kind: 'loop', body: [{}, { kind: 'break', cond: { text: 'n > 3 && !done', vars: ['n', 'done'] } }, { kind: 'continue' }] });
  t.match(b[2], { kind: 'for', inclusive: true, from: { int: 0 }, to: { int: 2 } });
  t.match(b[3], { kind: 'let', name: 'total', by: 'B', value: { vars: ['n'] } });
  t.match(b[4], { kind: 'if', else: [{ kind: 'if', else: [{ label: 'Pos' }] }] });
  t.match(b[5], { kind: 'match', at: 'B', arms: [{ patterns: ['0', '1'] }, { patterns: ['_'], body: [{ label: 'Big' }] }] });
  t.match(b[6], { kind: 'message', label: '$fail' });
  t.match(b[7], { kind: 'compose', protocol: 'Q', roles: ['B', 'C'] });
});

t.test('durations and integers (AURA-1.2)', async (t) => {
  t.same(numberValue('30_seconds'), { value: 30, ms: 30_000 });
  t.same(numberValue('500ms'), { value: 500, ms: 500 });
  t.same(numberValue('2s'), { value: 2, ms: 2000 });
  t.same(numberValue('1min'), { value: 1, ms: 60_000 });
  t.same(numberValue('1_000'), { value: 1000 });
  t.equal(numberValue('3parsecs'), undefined);
});

t.test('parse errors name file:line:col, what was expected and what was found (AURA-1.3)', async (t) => {
  const cases: [string, string][] = [
    ['protocol P { roles: A, B; A -> B X; }', 'e.aura:1:34: expected `:`, found `X`'],
    ['protocol P { roles: A, B;\n  A -> : X;\n}', 'e.aura:2:8: expected a receiving role, found `:`'],
    ['protocol P { roles: A, B; A -> B: X }', 'e.aura:1:37: expected `;`, found `}`'],
    ['protocol P { roles A, B; }', 'e.aura:1:20: expected `:`, found `A`'],
    ['protocol P { roles: A; A B; }', 'e.aura:1:26: expected `->` or `:` after a role name, found `B`'],
    ['protocol P { roles: A, B;\n  timeout(3parsecs) { A -> B: X; } or { }\n}', 'e.aura:2:11: expected a duration such as `30_seconds` or `500ms`, found `3parsecs`'],
    ['protocol P { roles: A, B; try { A -> B: X; } }', 'e.aura:1:46: expected `compensate`, found `}`'],
    ['protocol P { roles: A, B; match x { } }', 'e.aura:1:37: expected a match arm, found `}`'],
    ['protocol P { roles: A, B; for i 0..3 { } }', 'e.aura:1:33: expected `in`, found `0`'],
    ['protocol P { roles: A, B; A -> B: X;', 'e.aura:1:37: expected a statement or `}`, found end of file'],
    ['roles: A;', 'e.aura:1:1: expected `protocol`, found `roles`'],
    ['protocol P { roles: A, B; A -> B: X; } junk', 'e.aura:1:40: expected `protocol` or end of file, found `junk`'],
    ['protocol P { roles: A, B; A -> B: X; @ }', 'e.aura:1:38: expected a token, found `@`'],
    ['protocol P { roles: A, B; /* open', 'e.aura:1:27: expected `*/` closing the comment, found end of file'],
    ['protocol P { roles: A, B; loop { break if ; } }', 'e.aura:1:43: expected an expression, found `;`'],
  ];
  for (const [src, msg] of cases) {
    const err = t.throws(() => parseAura(src, 'e.aura'));
    t.type(err, AuraParseError);
    t.equal((err as Error).message, msg, src);
  }
});

t.test('property: any input either parses or gives an AuraParseError with a position; a parsed file is checked without throwing', async (t) => {
  const { checkParsed } = await import('../../suites/aura/language.js');
  const fc = (await import('fast-check')).default;
  const seeds = SEEDS.map((n) => readFileSync(join(SEED_DIR, `${n}.aura`), 'utf8'));
  const tokens = ['protocol', 'P', '{', '}', 'roles', ':', 'A', ',', 'B', ';', '->', 'X', '(', ')', 'match', 'x', '=>', 'loop', 'break',
    'if', 'parallel', 'timeout', '(30s)', 'or', 'try', 'compensate', 'compose', 'let', '=', 'by', 'for', 'in', '0', '..', '3', 'choice',
    'at', '$fail', '//c\n', '"s"', '@', 'barrier', 'continue', 'else', '::', '|', '_', '\n'];
  const soup = fc.array(fc.constantFrom(...tokens), { maxLength: 40 }).map((xs) => xs.join(' '));
  const cut = fc.tuple(fc.constantFrom(...seeds), fc.nat(), fc.nat({ max: 30 })).map(([s, at, len]) => {
    const i = at % (s.length + 1);
    return s.slice(0, i) + s.slice(i + len);
  });
  let parsed = 0;
  let failed = 0;
  fc.assert(
    fc.property(fc.oneof(soup, cut), (src) => {
      let ast;
      try {
        ast = parseAura(src, 'f.aura');
      } catch (e) {
        if (!(e instanceof AuraParseError)) throw e;
        if (!/^f\.aura:\d+:\d+: expected .+, found .+$/.test(e.message)) throw new Error(`bad message: ${e.message}`);
        failed++;
        return;
      }
      parsed++;
      checkParsed(ast);
    }),
    { numRuns: 400, seed: 7 },
  );
  t.ok(parsed > 10 && failed > 10, `${parsed} parsed, ${failed} rejected`);
});
