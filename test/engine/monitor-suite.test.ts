/**
 * `loadMonitorSuite` (harness/engine/registry.ts): each protocol's
 * `suites/<name>/monitor-suite.ts` is the same profile and monitor as its
 * whole suite (which spreads it), so that `validate`, which loads only it,
 * judges as a run does; a protocol folder without one (Knock, under
 * test/toy) gets its whole suite; an unknown protocol is a usage error.
 */
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { listProtocols, loadMonitorSuite, loadSuite, PROTOCOL_PATH_ENV } from '../../harness/engine/registry.js';
import { UsageError } from '../../harness/engine/errors.js';

process.env[PROTOCOL_PATH_ENV] = fileURLToPath(new URL('../toy/', import.meta.url));

for (const name of listProtocols().filter((n) => n !== 'knock')) {
  t.test(`${name}: the monitor suite is the suite's profile and monitor`, async (t) => {
    const [m, s] = [await loadMonitorSuite(name), await loadSuite(name)];
    t.not(m, s, 'a module of its own, not the whole suite');
    for (const k of ['name', 'specVersion', 'profileSchema', 'defaultProfile', 'checkProfile', 'createMonitor'] as const) t.equal(m[k], s[k], k);
    t.same(Object.keys(m).sort(), ['checkProfile', 'createMonitor', 'defaultProfile', 'name', 'profileSchema', 'specVersion'], 'nothing else');
  });
}

t.test('a protocol folder without monitor-suite gets its whole suite', async (t) => {
  t.equal(await loadMonitorSuite('knock'), await loadSuite('knock'));
});

t.test('an unknown protocol is a usage error naming the known ones', async (t) => {
  await t.rejects(loadMonitorSuite('nope'), UsageError);
  await t.rejects(loadMonitorSuite('nope'), /unknown protocol; known: .*proton/);
});
