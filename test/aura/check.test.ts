/** Well-formedness, projection, CFSMs and diagrams of Aura protocols (SPEC §4–§12), and `auraCommand`. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { buildGlobalAutomaton, roleActionText, toDot, toMermaid } from '../../suites/aura/cfsm.js';
import { auraCommand } from '../../suites/aura/cli.js';
import { checkAura, formatViolation } from '../../suites/aura/language.js';

const SEED_DIR = join(import.meta.dirname, '../../fixtures/aura/seed');
const seed = (n: string) => readFileSync(join(SEED_DIR, `${n}.aura`), 'utf8');

t.test('seed verdicts as written, and the corrected versions (SPEC §14)', async (t) => {
  const expected: Record<string, string[]> = {
    TwoPhaseCommit: [],
    SecureDataTransfer: ['AURA-11.1', 'AURA-11.1', 'AURA-11.1'],
    DistributedConsensus: [],
    AdaptiveSync: ['AURA-11.1', 'AURA-11.1', 'AURA-11.1'],
    RobustRequest: ['AURA-9.2'],
    CompensatingTransaction: [],
    DistributedAuction: [],
    DataStreaming: [],
    HierarchicalConsensus: ['AURA-11.1', 'AURA-11.1'],
  };
  for (const [name, rules] of Object.entries(expected)) {
    const r = checkAura(seed(name), `${name}.aura`);
    t.same(r.violations.map((v) => v.rule), rules, name);
    t.equal(r.wellFormed, rules.length === 0, `${name} well-formed?`);
    if (rules.length) {
      const fixed = checkAura(seed(`${name}.fixed`), `${name}.fixed.aura`);
      t.same(fixed.violations.map((v) => formatViolation(fixed.file, v)), [], `${name}.fixed is well-formed`);
    }
  }
});

t.test('RobustRequest: the violation names the rule, the role and both continuations with positions', async (t) => {
  const r = checkAura(seed('RobustRequest'), 'RobustRequest.aura');
  t.match(r.violations[0], {
    rule: 'AURA-9.2', role: 'Server', pos: { line: 6, col: 9 },
    conflict: [{ text: 'Client!Response', pos: { line: 7, col: 13 } }, { text: 'end', pos: { line: 9, col: 13 } }],
  });
  t.equal(
    formatViolation(r.file, r.violations[0]!),
    'RobustRequest.aura:6:9: AURA-9.2 (role Server): `timeout`: `Server` does not learn whether the observer `Client` timed out (it must receive from the observer first in the handler)\n' +
      '  one branch (RobustRequest.aura:7:13): Client!Response\n' +
      '  other branch (RobustRequest.aura:9:13): end',
  );
  const fixed = checkAura(seed('RobustRequest.fixed'), 'f.aura');
  t.equal(fixed.projections.get('Server')!.text, 'Client?Request; ~{ Client!Response | Client?$fail }');
  t.equal(fixed.projections.get('Client')!.text, 'Server!Request; ~{ Server?Response | Server!$fail }');
});

t.test('classic traps are rejected with the right rule, role and continuations', async (t) => {
  const check = (body: string, roles = 'A, B, C') => checkAura(`protocol P {\n  roles: ${roles};\n${body}\n}\n`, 'p.aura').violations;
  // A third role that cannot tell the branches apart.
  t.match(check('  choice at A { A -> B: X; A -> C: Go; } or { A -> B: Y; B -> C: Go; }'), [
    { rule: 'AURA-5.3', role: 'C', conflict: [{ text: 'A?Go' }, { text: 'B?Go' }] },
  ]);
  t.match(check('  choice at A { A -> B: X; B -> C: M; } or { A -> B: Y; }'), [
    { rule: 'AURA-5.2', role: 'C', conflict: [{ text: 'B?M', pos: { line: 3, col: 28 } }, { text: 'end' }] },
  ]);
  // A choice whose branches start with the same label.
  t.match(check('  choice at A { A -> B: X; B -> A: Y; } or { A -> B: X; B -> A: Z; }', 'A, B'), [
    { rule: 'AURA-5.2', role: 'B', conflict: [{ text: 'A?X; A!Y' }, { text: 'A?X; A!Z' }] },
  ]);
  // A loop whose exit one role never learns.
  t.match(check('  loop { A -> B: Data(last: bool); A -> C: Tick; break if last; }'), [
    { rule: 'AURA-7.2', role: 'C', conflict: [{ text: 'end' }, { text: 'X1 (the next iteration)' }] },
  ]);
  // Parallel branches sending the same label to the same role.
  t.match(check('  parallel { A -> B: Part; { A -> C: Other; A -> B: Part; } }'), [
    { rule: 'AURA-8.1', role: 'B', conflict: [{ pos: { line: 3, col: 14 } }, { pos: { line: 3, col: 45 } }] },
  ]);
  // A data-dependent match by a role that never received the data.
  t.match(check('  A -> B: Vote(v: bool);\n  match v { true => { C -> A: Yes; } false => { C -> A: No; } }'), [
    { rule: 'AURA-6.2', role: 'C', conflict: [{ text: 'A!Yes' }, { text: 'A!No' }] },
  ]);
  // No self-messages.
  t.match(check('  A -> A: Me;\n  A -> B: X; B -> C: Y;'), [{ rule: 'AURA-4.2', role: 'A', pos: { line: 3, col: 3 } }]);
});

t.test('CFSMs: exact machine of a seed role, product of parallel branches', async (t) => {
  const r = checkAura(seed('TwoPhaseCommit'), 't.aura');
  const c = r.projections.get('Participant')!.cfsm;
  t.equal(c.states, 6);
  t.same(c.finals, [5]);
  t.same(c.transitions.map((x) => `${x.from} ${roleActionText(x.action)} ${x.to}`), [
    '0 Coordinator?PrepareRequest 1', '1 Coordinator!PrepareResponse 2', '2 Coordinator?AbortRequest 3',
    '2 Coordinator?CommitRequest 4', '3 Coordinator!AbortAck 5', '4 Coordinator!CommitAck 5',
  ]);
  // Node1 has four independent actions in the parallel block: 2^4 states, 4·2^3 transitions, then two sends.
  const n1 = checkAura(seed('DistributedConsensus'), 'd.aura').projections.get('Node1')!.cfsm;
  t.equal(n1.states, 16 + 2);
  t.equal(n1.transitions.length, 32 + 2);
  // A loop is a cycle: DataStreaming's Consumer returns to the loop head after ChunkAck.
  const ds = checkAura(seed('DataStreaming'), 's.aura').projections.get('Consumer')!.cfsm;
  const step = (from: number, label: string) => ds.transitions.find((x) => x.from === from && x.action.label === label)?.to;
  const afterAck = ds.transitions.find((x) => x.action.label === 'ChunkAck')!.to;
  const inChunk = step(afterAck, 'DataChunk');
  t.ok(inChunk !== undefined && step(inChunk, 'ChunkAck') === afterAck, 'DataChunk, ChunkAck is a cycle');
  t.ok(step(afterAck, 'StreamEnd') !== undefined, 'the loop exits from the same state');
  t.same(ds.finals.length, 1);
});

t.test('Mermaid and DOT of the global protocol and of a role', async (t) => {
  const r = checkAura(seed('TwoPhaseCommit'), 't.aura');
  const g = buildGlobalAutomaton(r.global);
  const m = toMermaid(g, (a) => `${a.from}→${a.to}:${a.label}`, 'TwoPhaseCommit');
  t.match(m, /^---\ntitle: TwoPhaseCommit\n---\nstateDiagram-v2\n {2}\[\*\] --> s0\n/);
  t.match(m, /s0 --> s1 : Coordinator→Participant#58;PrepareRequest/);
  t.match(m, /s5 --> \[\*\]/);
  const d = toDot(r.projections.get('Coordinator')!.cfsm, roleActionText, 'c');
  t.match(d, /^digraph "c" \{/);
  t.match(d, /s0 -> s1 \[label="Participant!PrepareRequest"\];/);
  t.match(d, /s5 \[shape=doublecircle\];/);
});

t.test('auraCommand: exit codes 0/1/2, formats, --role', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'aura-'));
  const bad = join(dir, 'bad.aura');
  writeFileSync(bad, 'protocol P { roles: A, B; A -> B X; }');
  const ok = auraCommand({ action: 'check', file: join(SEED_DIR, 'TwoPhaseCommit.aura'), format: 'text' });
  t.equal(ok.exitCode, 0);
  t.match(ok.stdout, /protocol TwoPhaseCommit is well-formed/);
  const nf = auraCommand({ action: 'check', file: join(SEED_DIR, 'RobustRequest.aura'), format: 'text' });
  t.equal(nf.exitCode, 1);
  t.match(nf.stderr, /RobustRequest\.aura:6:9: AURA-9\.2 \(role Server\)/);
  const js = JSON.parse(auraCommand({ action: 'check', file: join(SEED_DIR, 'RobustRequest.aura'), format: 'json' }).stdout);
  t.match(js, { protocol: 'RobustRequest', wellFormed: false, violations: [{ rule: 'AURA-9.2', role: 'Server' }] });
  const pe = auraCommand({ action: 'check', file: bad, format: 'text' });
  t.equal(pe.exitCode, 2);
  t.equal(pe.stderr, `${bad}:1:34: expected \`:\`, found \`X\`\n`);
  t.equal(auraCommand({ action: 'check', file: join(dir, 'missing.aura'), format: 'text' }).exitCode, 2);
  t.equal(auraCommand({ action: 'project', file: join(SEED_DIR, 'TwoPhaseCommit.aura'), format: 'text', role: 'Nobody' }).exitCode, 2);
  t.equal(auraCommand({ action: 'check', file: join(SEED_DIR, 'TwoPhaseCommit.aura'), format: 'dot' }).exitCode, 2);
  const pr = auraCommand({ action: 'project', file: join(SEED_DIR, 'TwoPhaseCommit.aura'), format: 'text', role: 'Participant' });
  t.equal(pr.exitCode, 0);
  t.match(pr.stdout, /^role Participant:\n {2}Coordinator\?PrepareRequest\(transaction_id: u64\);\n/);
  t.notMatch(pr.stdout, /role Coordinator/);
  const gm = auraCommand({ action: 'graph', file: join(SEED_DIR, 'DataStreaming.aura'), format: 'mermaid' });
  t.match(gm.stdout, /stateDiagram-v2/);
  const gd = auraCommand({ action: 'graph', file: join(SEED_DIR, 'DataStreaming.aura'), format: 'dot', role: 'Producer' });
  t.match(gd.stdout, /label="Consumer!DataChunk"/);
  const gj = JSON.parse(auraCommand({ action: 'graph', file: join(SEED_DIR, 'TwoPhaseCommit.aura'), format: 'json' }).stdout);
  t.match(gj.transitions[0], { from: 0, to: 1, sender: 'Coordinator', receiver: 'Participant', label: 'PrepareRequest' });
});

t.test('sequential choices share their continuation: projection and CFSM stay linear', async (t) => {
  const n = 12;
  const body = Array.from({ length: n }, (_, i) => `choice at A { A -> B: X${i}; } or { A -> B: Y${i}; }`).join('\n');
  const r = checkAura(`protocol Seq { roles: A, B; ${body} }`, 'seq.aura');
  t.equal(r.wellFormed, true);
  const b = r.projections.get('B')!.cfsm;
  t.equal(b.states, n + 1, 'one state per decision plus the end');
  t.equal(b.transitions.length, 2 * n);
  t.match(r.projections.get('B')!.text, /^&\{ A\?X0; &\{ A\?X1; /);
});
