/**
 * The reference contract (harness/engine/reference.ts) through the
 * registry alone: every protocol's reference implementation is found by
 * name, its faults have the engine's one shape, unknown faults are named.
 */
import t from 'tap';
import { listProtocols, loadReference, loadSuite } from '../../harness/engine/registry.js';
import { simulate } from '../../harness/engine/sim.js';

t.test('each protocol: server, core, faults and client through `reference`', async (t) => {
  const names = listProtocols();
  t.ok(names.includes('proton') && names.includes('moonpool'));
  for (const name of names) {
    const suite = await loadSuite(name);
    const ref = await loadReference(name);
    if (!ref) continue;
    t.equal(ref.name, name);
    t.ok(Object.keys(ref.faults).length > 0, `${name}: faults listed`);
    for (const [fault, f] of Object.entries(ref.faults)) {
      t.match(f.description, /\([A-Z]+-\d/, `${name} ${fault}: the description names its rule`);
      const core = f.create(suite.fastProfile);
      t.type(core.poll, 'function', `${name} ${fault}: builds a core`);
      t.type(simulate(core, [{ type: 'conn_open', t: 0, conn: 0, remote: 'x' }], 1_000), Array);
    }
    t.throws(() => ref.createCore({ fault: 'no-such-fault' }), { name: 'RangeError', message: new RegExp(`unknown fault "no-such-fault"; known: ${Object.keys(ref.faults)[0]!}`) });
    t.type(ref.createCore({ profile: suite.fastProfile }).nextTimer, 'function', `${name}: the conforming core`);
    t.type(await ref.loadClient?.(), 'function', `${name}: the reference client loads`);
  }
  t.equal(await loadReference('no-such-protocol'), undefined);
});
