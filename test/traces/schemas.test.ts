/**
 * The trace schemas and every protocol's profile schema are valid JSON
 * Schema 2020-12: harness/traces/file.ts and harness/engine/profile.ts
 * compile them without ajv's meta-schema check (start-up time), so this
 * test is where a broken schema edit shows.
 */
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { listProtocols, loadSuite } from '../../harness/engine/registry.js';

for (const rel of ['../../harness/reports/trace-event.schema.json', '../../harness/traces/trace-header.schema.json']) {
  t.test(rel.replace(/^.*\//, ''), async (t) => {
    const schema = JSON.parse(await readFile(new URL(rel, import.meta.url), 'utf8')) as object;
    const ajv = new Ajv2020({ strict: true, strictRequired: false });
    const ok = ajv.validateSchema(schema);
    t.equal(ok, true, `valid against the meta-schema: ${ajv.errorsText(ajv.errors)}`);
    t.doesNotThrow(() => ajv.compile(schema), 'compiles in strict mode');
  });
}

t.test('every protocol\u2019s profile schema', async (t) => {
  const names = listProtocols();
  t.ok(names.length > 0, 'protocols found');
  for (const name of names) {
    const schema = (await loadSuite(name)).profileSchema;
    const ajv = new Ajv2020({ strict: false });
    t.equal(ajv.validateSchema(schema), true, `${name}: valid against the meta-schema: ${ajv.errorsText(ajv.errors)}`);
  }
});
