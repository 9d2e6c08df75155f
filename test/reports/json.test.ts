import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import {
  REPORT_SCHEMA_ID,
  schemaPath,
  toJsonReport,
  traceEventSchemaPath,
  validateJsonReport,
  writeJsonReport,
} from '../../harness/reports/json.js';
import type { CaseResult } from '../../harness/engine/types.js';
import { allCases, failCase, fullTrace, makeRun, passCase } from './fixtures.js';

/** A fresh parsed copy of the written report of the standard run. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- poking at parsed JSON
type Mutable = Record<string, any>;
function report(): Mutable {
  return JSON.parse(JSON.stringify(toJsonReport(makeRun()))) as Mutable;
}

function errorsOf(data: unknown): string[] {
  const r = validateJsonReport(data);
  return r.ok ? [] : r.errors;
}

t.test('toJsonReport: schemaVersion first, full traces, exact fields', async (t) => {
  const run = makeRun();
  const rep = toJsonReport(run);
  t.equal(Object.keys(rep)[0], 'schemaVersion');
  t.equal(rep.schemaVersion, 1);
  t.equal(rep.cases.length, allCases.length);
  rep.cases.forEach((c, i) => t.same(c.trace, allCases[i]?.trace, `trace of ${c.id} in full`));
  t.same(rep.summary, { pass: 1, fail: 1, 'non-strict': 1, timeout: 1, error: 1, skipped: 1, total: 6 });

  // Extra runtime properties and undefined values do not leak.
  const sloppy = {
    ...passCase,
    rule: undefined,
    internal: 'x',
    trace: fullTrace.map((e, i) => (i === 1 ? { ...e, extra: 1 } : e)),
    violation: { ...failCase.violation, debug: true },
  } as unknown as CaseResult;
  const clean = toJsonReport(makeRun([sloppy])).cases[0];
  t.notOk(clean && 'internal' in clean, 'unknown case field dropped');
  t.notOk(clean && 'rule' in clean, 'undefined field dropped');
  t.same(clean?.trace, fullTrace, 'unknown event field dropped');
  t.notOk(clean?.violation && 'debug' in clean.violation);
  t.same(validateJsonReport(JSON.parse(JSON.stringify(toJsonReport(makeRun([sloppy]))))), { ok: true });
});

t.test('writeJsonReport writes pretty JSON that validates', async (t) => {
  const dir = t.testdir({});
  const file = join(dir, 'nested', 'deeper', 'report.json');
  const written = await writeJsonReport(makeRun(), file);
  t.equal(written, file);
  const text = await readFile(file, 'utf8');
  t.match(text, /^\{\n {2}"schemaVersion": 1,\n/);
  t.ok(text.endsWith('}\n'));
  const data = JSON.parse(text) as Mutable;
  t.same(validateJsonReport(data), { ok: true });
  const types = new Set((data['cases'] as Mutable[]).flatMap((c) => (c['trace'] as Mutable[]).map((e) => e['type'])));
  t.same(
    [...types].sort(),
    ['conn_close', 'conn_fail', 'conn_open', 'data', 'note', 'stream_fin', 'stream_open', 'stream_reset'],
    'every event type is in the report',
  );
  const verdicts = (data['cases'] as Mutable[]).map((c) => c['verdict']).sort();
  t.same(verdicts, ['error', 'fail', 'non-strict', 'pass', 'skipped', 'timeout']);
});

t.test('the published schema files validate the report on their own', async (t) => {
  const schema = JSON.parse(await readFile(schemaPath, 'utf8')) as Mutable;
  const traceSchema = JSON.parse(await readFile(traceEventSchemaPath, 'utf8')) as Mutable;
  t.equal(schema['$id'], REPORT_SCHEMA_ID);
  t.equal(schema['$schema'], 'https://json-schema.org/draft/2020-12/schema');
  t.equal(traceSchema['$schema'], 'https://json-schema.org/draft/2020-12/schema');
  const ajv = new Ajv2020({ strict: true, strictRequired: false });
  addFormatsModule.default(ajv);
  ajv.addSchema(traceSchema);
  const validate = ajv.compile(schema);
  t.ok(validate(report()), JSON.stringify(validate.errors));
  const bad = report();
  bad['cases'][0]['trace'][0]['type'] = 'datagram';
  t.notOk(validate(bad));
  // The trace event schema alone validates single events.
  const validateEvent = ajv.getSchema('https://wirecheck.dev/schemas/trace-event-1.json');
  t.ok(validateEvent);
  for (const ev of fullTrace) t.ok(validateEvent?.(ev), `event ${ev.type}`);
  t.notOk(validateEvent?.({ type: 'stream_fin', t: 0, conn: 0, stream: 0 }), 'stream_fin without dir');
});

t.test('validation errors name the JSON pointer and what was wrong', async (t) => {
  const cases: readonly { name: string; mutate: (r: Mutable) => void; expect: RegExp }[] = [
    {
      name: 'bad verdict',
      mutate: (r) => (r['cases'][1]['verdict'] = 'passed'),
      expect: /^\/cases\/1\/verdict: must be one of "pass", "fail", "non-strict", "timeout", "error", "skipped"; got "passed"$/,
    },
    {
      name: 'missing case field',
      mutate: (r) => delete r['cases'][0]['durationMs'],
      expect: /^\/cases\/0\/durationMs: required property is missing$/,
    },
    {
      name: 'missing top-level field',
      mutate: (r) => delete r['schemaVersion'],
      expect: /^\/schemaVersion: required property is missing$/,
    },
    {
      name: 'wrong schemaVersion',
      mutate: (r) => (r['schemaVersion'] = 2),
      expect: /^\/schemaVersion: must be 1; got 2$/,
    },
    {
      name: 'wrong event type',
      mutate: (r) => (r['cases'][1]['trace'][3]['type'] = 'datagram'),
      expect: /^\/cases\/1\/trace\/3\/type: must be one of "conn_open", .*; got "datagram"$/,
    },
    {
      name: 'event missing a field of its type',
      mutate: (r) => delete r['cases'][1]['trace'][4]['dir'],
      expect: /^\/cases\/1\/trace\/4\/dir: required property is missing$/,
    },
    {
      name: 'event with a field of another type',
      mutate: (r) => (r['cases'][1]['trace'][0]['conn'] = 0),
      expect: /^\/cases\/1\/trace\/0\/conn: property is not allowed here$/,
    },
    {
      name: 'upper-case hex',
      mutate: (r) => (r['cases'][1]['trace'][3]['hex'] = '0A'),
      expect: /^\/cases\/1\/trace\/3\/hex: must match pattern .*; got "0A"$/,
    },
    {
      name: 'fractional time',
      mutate: (r) => (r['cases'][1]['trace'][2]['t'] = 1.5),
      expect: /^\/cases\/1\/trace\/2\/t: must be integer; got 1.5$/,
    },
    {
      name: 'bad direction',
      mutate: (r) => (r['cases'][1]['trace'][5]['dir'] = 'up'),
      expect: /^\/cases\/1\/trace\/5\/dir: must be one of "c2s", "s2c"; got "up"$/,
    },
    {
      name: 'bad severity',
      mutate: (r) => (r['cases'][1]['violation']['severity'] = 'may'),
      expect: /^\/cases\/1\/violation\/severity: must be one of "must", "should"; got "may"$/,
    },
    {
      name: 'violation missing a field',
      mutate: (r) => delete r['cases'][1]['violation']['state'],
      expect: /^\/cases\/1\/violation\/state: required property is missing$/,
    },
    {
      name: 'finding with an unknown field',
      mutate: (r) => (r['cases'][2]['violation']['why'] = 'x'),
      expect: /^\/cases\/2\/violation\/why: property is not allowed here$/,
    },
    {
      name: 'fail without its rule',
      mutate: (r) => delete r['cases'][1]['rule'],
      expect: /^\/cases\/1\/rule: required property is missing$/,
    },
    {
      name: 'unknown top-level field',
      mutate: (r) => (r['extra'] = true),
      expect: /^\/extra: property is not allowed here$/,
    },
    {
      name: 'bad startedAt',
      mutate: (r) => (r['startedAt'] = 'yesterday'),
      expect: /^\/startedAt: must match format "date-time"; got "yesterday"$/,
    },
    {
      name: 'summary count disagrees with the cases',
      mutate: (r) => (r['summary']['fail'] = 0),
      expect: /^\/summary\/fail: is 0 but 1 case\(s\) have verdict "fail"$/,
    },
    {
      name: 'summary total disagrees',
      mutate: (r) => (r['summary']['total'] = 7),
      expect: /^\/summary\/total: is 7 but there are 6 cases$/,
    },
    {
      name: 'violation index past the trace',
      mutate: (r) => (r['cases'][1]['violation']['index'] = 10),
      expect: /^\/cases\/1\/violation\/index: 10 is past the end of the trace \(10 events\)$/,
    },
    {
      name: 'duplicate case id',
      mutate: (r) => (r['cases'][2]['id'] = r['cases'][1]['id']),
      expect: /^\/cases\/2\/id: duplicate case id "proton\/event\/wrong-stream" \(also \/cases\/1\/id\)$/,
    },
  ];
  for (const c of cases) {
    const r = report();
    c.mutate(r);
    const errors = errorsOf(r);
    t.ok(errors.length > 0, `${c.name}: rejected`);
    t.ok(
      errors.some((e) => c.expect.test(e)),
      `${c.name}: an error matches ${c.expect}`,
      { errors },
    );
    t.notOk(
      errors.some((e) => /must match "then" schema/.test(e)),
      `${c.name}: no if/then noise`,
    );
  }
});

t.test('several errors are all reported; non-objects are rejected', async (t) => {
  const r = report();
  r['cases'][0]['verdict'] = 'ok';
  r['cases'][3]['trace'][0]['hex'] = 'zz';
  const errors = errorsOf(r);
  t.ok(errors.some((e) => e.startsWith('/cases/0/verdict:')));
  t.ok(errors.some((e) => e.startsWith('/cases/3/trace/0/hex:')));
  t.match(errorsOf(null)[0], /^\(root\): must be object; got null$/);
  t.match(errorsOf('report')[0], /^\(root\): must be object/);
  t.same(validateJsonReport(report()), { ok: true }, 'the untouched report still validates');
});

t.test('error list is capped', async (t) => {
  const r = report();
  r['cases'][3]['trace'] = Array.from({ length: 60 }, (_, i) => ({ type: 'stream_fin', t: i, conn: 0, stream: 0, dir: 'sideways' }));
  const errors = errorsOf(r);
  t.equal(errors.length, 51);
  t.match(errors[50], /^\.\.\. and \d+ more errors$/);
});

t.test('an empty run is a valid report', async (t) => {
  const data = JSON.parse(JSON.stringify(toJsonReport({ ...makeRun([]), probes: [] }))) as unknown;
  t.same(validateJsonReport(data), { ok: true });
});
