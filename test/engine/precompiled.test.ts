/**
 * The validators `npm run build` precompiles (harness/engine/precompiled.ts)
 * judge as the ones compiled at run time from the sources: the same verdict
 * and the same errors (so the same messages) for valid and invalid trace
 * headers, events of every type, and each protocol's profiles.
 */
import t, { type Test } from 'tap';
import { createRequire } from 'node:module';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { addTraceSchemas, EVENT_DEFS_ID, EVENT_TYPES, newAjv, PROFILE_AJV_OPTIONS, profileValidatorCode, TRACE_AJV_OPTIONS, traceValidatorsCode } from '../../harness/engine/precompiled.js';
import { listProtocols, loadSuite } from '../../harness/engine/registry.js';

const require = createRequire(import.meta.url);
/** Runs CommonJS code as a module; returns its exports. */
function load(code: string): Record<string, unknown> {
  const module = { exports: {} as Record<string, unknown> };
  new Function('module', 'exports', 'require', code)(module, module.exports, require);
  return module.exports;
}

/** Both validators on `data`: the same verdict and errors. */
function same(t: Test, pre: ValidateFunction, run: ValidateFunction, data: unknown, what: string): boolean {
  const a = pre(data);
  const b = run(data);
  t.equal(a, b, `${what}: same verdict (${b})`);
  t.equal(JSON.stringify(pre.errors ?? null), JSON.stringify(run.errors ?? null), `${what}: same errors`);
  return b === true;
}

t.test('trace validators', async (t) => {
  const pre = load(traceValidatorsCode()) as Record<string, ValidateFunction>;
  const ajv = addTraceSchemas(newAjv(TRACE_AJV_OPTIONS));
  const header = { type: 'header', format: 'wirecheck-trace', version: 2, protocol: 'proton' };
  for (const h of [header, { ...header, version: 3 }, { ...header, protocol: 7 }, { ...header, extra: true }, {}, null]) {
    same(t, pre['header']!, ajv.getSchema('https://wirecheck.dev/schemas/trace-header-1.json')!, h, `header ${JSON.stringify(h)}`);
  }
  const events: object[] = [
    { type: 'data', t: 1, conn: 0, stream: 0, dir: 'c2s', hex: '00' },
    { type: 'data', t: 1, conn: 0, stream: 0, dir: 'x2s', hex: '0' },
    { type: 'data', t: -1, conn: 0, stream: 0, dir: 'c2s', hex: '00', frames: [{ discriminator: 'event' }] },
    { type: 'conn_open', t: 0, conn: 0, remote: 'h:1' },
    { type: 'conn_open', t: 0, conn: 0, remote: '' },
    { type: 'conn_close', t: 5, conn: 0, by: 'client', isApp: true, code: 0, reason: '' },
    { type: 'conn_close', t: 5, conn: 0, by: 'client', isApp: 1, code: 0 },
    { type: 'stream_open', t: 3, conn: 0, stream: 2, by: 'server', dir: 'uni' },
    { type: 'stream_reset', t: 9, conn: 0, stream: 0, dir: 's2c', kind: 'stop_sending', code: 7 },
    { type: 'note', t: 9, text: 'x' },
    { type: 'impair', t: 9, kind: 'cut', conn: 3 },
    { type: 'dgram', t: 1, conn: 0, dir: 'c2s', hex: 'ff00', extra: 1 },
    { type: 'warp', t: 0 },
    {},
  ];
  let valid = 0;
  for (const ev of events) {
    const type = (ev as { type?: string }).type ?? '';
    if (EVENT_TYPES.includes(type)) {
      for (const other of EVENT_TYPES) {
        if (same(t, pre[`type_${other}`]!, ajv.getSchema(`${EVENT_DEFS_ID}#/$defs/${other}`)!, ev, `${other} on ${JSON.stringify(ev)}`)) valid++;
      }
    }
    same(t, pre['event']!, ajv.getSchema('https://wirecheck.dev/schemas/trace-event-1.json')!, ev, `event ${JSON.stringify(ev)}`);
  }
  t.ok(valid >= 7, `${valid} events valid for their type, the rest rejected alike`);
});

t.test('each protocol\u2019s profile validator', async (t) => {
  for (const name of listProtocols()) {
    const suite = await loadSuite(name);
    const m = load(profileValidatorCode(suite.profileSchema)) as { validate: ValidateFunction; schema: string };
    t.equal(m.schema, JSON.stringify(suite.profileSchema), `${name}: the schema it was built for`);
    const run = newAjv(PROFILE_AJV_OPTIONS).compile(suite.profileSchema);
    const fields = Object.keys(suite.defaultProfile);
    const profiles: unknown[] = [suite.defaultProfile, suite.fastProfile, {}, { unknownField: 1 }, [], 'x'];
    for (const f of fields) profiles.push({ ...suite.defaultProfile, [f]: { nested: true } }, { [f]: -1 }, { [f]: 'x' });
    let ok = 0;
    for (const p of profiles) if (same(t, m.validate, run, p, `${name} ${JSON.stringify(p).slice(0, 80)}`)) ok++;
    t.ok(ok >= 2 && ok < profiles.length, `${name}: ${ok} of ${profiles.length} profiles valid, the rest rejected alike`);
  }
});
