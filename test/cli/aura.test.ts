/** `wirecheck aura`: exit codes 0 (well-formed), 1 (not, with the rule and role), 2 (cannot parse or read). */
import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cli } from '../_support/cli.js';

t.test('check, project, graph; exit codes', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'wirecheck-aura-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const ok = await cli('aura', 'check', 'fixtures/aura/seed/TwoPhaseCommit.aura');
  t.equal(ok.code, 0, 'a well-formed seed choreography: exit 0');
  t.match(ok.out, /well-formed/);
  const bad = await cli('aura', 'check', 'fixtures/aura/seed/RobustRequest.aura');
  t.equal(bad.code, 1, 'RobustRequest as written: exit 1');
  t.match(bad.out + bad.err, /AURA-9\.2 \(role Server\)/, 'names the rule and the role');
  const proj = await cli('aura', 'project', 'fixtures/aura/seed/TwoPhaseCommit.aura', '--role', 'Participant');
  t.equal(proj.code, 0);
  t.match(proj.out, /Coordinator/, 'the Participant\'s local type names its peer');
  const dot = await cli('aura', 'graph', 'fixtures/aura/seed/TwoPhaseCommit.aura', '--format', 'dot');
  t.equal(dot.code, 0);
  t.match(dot.out, /digraph/, 'DOT');
  const broken = path.join(dir, 'broken.aura');
  await writeFile(broken, 'protocol P { roles: A, B; A -> : M; }');
  const parse = await cli('aura', 'check', broken);
  t.equal(parse.code, 2, 'a parse error: exit 2');
  t.match(parse.err, /broken\.aura:1:\d+: expected/, 'file:line:col and what was expected');
  t.equal((await cli('aura', 'check', path.join(dir, 'missing.aura'))).code, 2, 'a missing file: exit 2');
  t.equal((await cli('aura', 'frobnicate', broken)).code, 2, 'an unknown action: usage error');
});
