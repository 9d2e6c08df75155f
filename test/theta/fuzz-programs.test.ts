/**
 * Theta's fuzz generators (suites/theta/arbitraries.ts): every program is a
 * valid fixture whose steps name themselves, generation is deterministic for
 * a seed, and the model's predictions show that each generator reaches the
 * verdicts it is for (the close codes and rules of its deviations).
 */
import t from 'tap';
import fc from 'fast-check';
import { checkFixture } from '../../harness/fixtures/index.js';
import { programToFixture } from '../../harness/fuzz/program.js';
import { thetaArbitraries } from '../../suites/theta/arbitraries.js';
import { suite } from '../../suites/theta/index.js';
import { fastProfile } from '../../suites/theta/profile.js';
import { mutateHello } from '../../suites/theta/fuzz/handshake.js';
import { helloFailures } from '../../suites/theta/model.js';
import { schemaHash } from '../../suites/theta/codec.js';
import type { FuzzProgram } from '../../harness/fuzz/types.js';

const arbs = thetaArbitraries(fastProfile);
const sample = (name: string, n: number, seed = 5): FuzzProgram[] => fc.sample(arbs[name]!, { numRuns: n, seed });
/** Close codes the model predicts in a program's listing (`close a 0x5 …`). */
const closes = (p: FuzzProgram): string[] => (p.predictions ?? []).flatMap((x) => [...x.matchAll(/close [a-z]+\d* (0x[0-9a-f]+)/g)].map((m) => m[1]!));

t.test('every generator makes valid, self-describing fixtures, deterministically', async (t) => {
  t.same(Object.keys(arbs).sort(), ['frame-lengths', 'handshake-fields', 'malformed-flatbuffers', 'sequences']);
  for (const name of Object.keys(arbs)) {
    const ps = sample(name, 40);
    for (const p of ps) {
      t.equal(p.arbitrary, name);
      checkFixture(programToFixture(p, { protocol: 'theta', id: `theta/fuzz/${name}` }), name, suite);
      t.ok(p.steps.every((s) => s.comment !== undefined || ('do' in s && s.do === 'connect')), `${name}: every step names itself`);
      t.equal(p.predictions?.length, p.steps.length, 'one prediction line per step');
    }
    t.same(sample(name, 10, 77).map(String), sample(name, 10, 77).map(String), `${name}: the same seed gives the same programs`);
  }
});

t.test('malformed-flatbuffers: the model predicts close 0x5 under THETA-2.3 for every program', async (t) => {
  for (const p of sample('malformed-flatbuffers', 80)) {
    t.ok(p.rules[0] === 'THETA-2.3', `${p.description}: rules ${p.rules.join(', ')}`);
    t.same(closes(p), ['0x5'], 'one close, 0x5');
  }
});

t.test('handshake-fields: each rejection family and acceptance is reached; the predicted code is one the hello breaks', async (t) => {
  const seen = new Set<string>();
  for (const p of sample('handshake-fields', 150)) for (const c of closes(p)) seen.add(c);
  for (const code of ['0x1', '0x2', '0x3', '0x4', '0x5']) t.ok(seen.has(code), `close ${code} predicted by some program`);
  const { hello } = mutateHello(fastProfile, { versionDelta: 1, hashBit: undefined, keyLength: 31, nonceLength: undefined, capabilities: undefined, authToken: undefined });
  t.same(helloFailures(hello, fastProfile, schemaHash(fastProfile.manifest)), [1, 3], 'version +1 and a 31-byte key break THETA-3.2 and 3.4');
});

t.test('frame-lengths and sequences reach their verdicts', async (t) => {
  const fl = sample('frame-lengths', 150);
  t.ok(fl.some((p) => p.rules.includes('THETA-2.2') && closes(p).includes('0x5')), 'a length over the limit is closed 0x5');
  t.ok(fl.some((p) => p.rules[0] === 'THETA-2.4' && p.description.includes('longer than the payload') && p.steps.some((s) => 'do' in s && s.do === 'fin')), 'a FIN inside a frame is closed');
  t.ok(fl.some((p) => /unidirectional stream|fourth bidirectional stream/.test(p.description) && closes(p).includes('0x5')), 'a stray stream is closed 0x5');
  const sq = sample('sequences', 200);
  const codes = new Set(sq.flatMap(closes));
  for (const code of ['0x0', '0x5', '0x6']) t.ok(codes.has(code), `sequences: close ${code} predicted`);
  t.ok(sq.some((p) => p.rules.includes('THETA-5.5')), 'a future-dated echo is sent');
  t.ok(sq.some((p) => p.rules.includes('THETA-7.1') && p.predictions?.some((x) => x.includes('asset SHA-256'))), 'an asset is answered');
});
