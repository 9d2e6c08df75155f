/**
 * The fast path of reading trace lines (harness/traces/fast-event.ts) agrees
 * with the slow one (JSON.parse, then the schema): for every line it either
 * declines (undefined: the slow path reads it) or gives exactly what
 * JSON.parse gives, for a line the schema accepts; a line the schema
 * rejects is never accepted, whatever shape it was seen in before.
 */
import t from 'tap';
import fc from 'fast-check';
import { readFile } from 'node:fs/promises';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { createFastEventReader } from '../../harness/traces/fast-event.js';
import { checkEvent, TraceFileError } from '../../harness/traces/file.js';

const schema = JSON.parse(await readFile(new URL('../../harness/reports/trace-event.schema.json', import.meta.url), 'utf8')) as { $id: string };
const ajv = new Ajv2020({ strict: false });
ajv.addSchema(schema);
const fast = createFastEventReader(schema, (type) => ajv.getSchema(`${schema.$id}#/$defs/${type}`));

/** The slow path's verdict: the event, or the error message. */
function slow(line: string): { ok: true; ev: unknown } | { ok: false } {
  try {
    return { ok: true, ev: checkEvent(JSON.parse(line), 'x.jsonl', 2) };
  } catch (err) {
    if (err instanceof SyntaxError || err instanceof TraceFileError) return { ok: false };
    throw err;
  }
}

const lines = [
  // accepted on the fast path
  '{"type":"data","t":100,"conn":0,"stream":8,"dir":"c2s","hex":"03"}',
  '{"type":"data","t":1100,"conn":0,"stream":0,"dir":"s2c","hex":"00000001"}',
  '{ "type" : "data" , "t" : 5 , "conn" : 1 , "stream" : 4 , "dir" : "s2c" , "hex" : "" }',
  '{"type":"data","t":5,"conn":1,"stream":4,"dir":"s2c","hex":"","elided":12}',
  '{"type":"conn_open","t":0,"conn":0,"remote":"bench:1"}',
  '{"type":"conn_open","t":0,"conn":0,"remote":"h\u00f6st:1","alpn":"proton","role":"alice"}',
  '{"type":"conn_close","t":5,"conn":0,"by":"client","isApp":true,"code":0,"reason":""}',
  '{"type":"conn_close","t":5,"conn":0,"by":"transport","isApp":false,"code":123456789012345,"reason":"idle \u2014 timeout"}',
  '{"type":"stream_open","t":3,"conn":0,"stream":2,"by":"server","dir":"uni"}',
  '{"type":"stream_reset","t":9,"conn":0,"stream":0,"dir":"s2c","kind":"stop_sending","code":7}',
  '{"type":"note","t":9,"text":"moonpool:stall conn=0"}',
  '{"type":"impair","t":9,"kind":"cut","conn":3,"detail":"ab"}',
  '{"t":1,"type":"dgram","conn":0,"dir":"c2s","hex":"ff00"}',
  // rejected by the schema: never accepted
  '{"type":"data","t":100,"conn":0,"stream":8,"dir":"c2s","hex":"0"}',
  '{"type":"data","t":100,"conn":0,"stream":8,"dir":"c2s","hex":"AB"}',
  '{"type":"data","t":100,"conn":0,"stream":8,"dir":"x2s","hex":"03"}',
  '{"type":"data","t":100,"conn":0,"stream":8,"dir":"c2s"}',
  '{"type":"data","t":100,"conn":0,"stream":8,"dir":"c2s","hex":"03","extra":1}',
  '{"type":"data","t":5,"conn":1,"stream":4,"dir":"s2c","hex":"","elided":0}',
  '{"type":"data","t":-1,"conn":0,"stream":8,"dir":"c2s","hex":"03"}',
  '{"type":"data","t":1.5,"conn":0,"stream":8,"dir":"c2s","hex":"03"}',
  '{"type":"conn_open","t":0,"conn":0,"remote":""}',
  '{"type":"conn_close","t":5,"conn":0,"by":"client","isApp":1,"code":0,"reason":""}',
  '{"type":"warp","t":0}',
  '{}',
  // the slow path decides (escapes, nesting, odd numbers, duplicates, bad JSON)
  '{"type":"note","t":9,"text":"a \\"quoted\\" word"}',
  '{"type":"data","t":1,"conn":0,"stream":0,"dir":"c2s","hex":"01","frames":[{"discriminator":"event"}]}',
  '{"type":"data","t":1e3,"conn":0,"stream":0,"dir":"c2s","hex":"01"}',
  '{"type":"data","t":01,"conn":0,"stream":0,"dir":"c2s","hex":"01"}',
  '{"type":"data","t":1,"t":2,"conn":0,"stream":0,"dir":"c2s","hex":"01"}',
  '{"type":"data","t":12345678901234567,"conn":0,"stream":0,"dir":"c2s","hex":"01"}',
  '{"type":"data","t":1,"conn":0,"stream":0,"dir":"c2s","hex":"01"} x',
  '{"type":"data","t":1,"conn":0,"stream":0,"dir":"c2s","hex":"01"',
  '{"type":"data","t":tru,"conn":0}',
  '{"type":"conn_close","t":5,"conn":0,"by":"client","isApp":null,"code":0,"reason":""}',
];

t.ok(fast, 'the schema allows the fast path');
t.test('the fast path agrees with JSON.parse and the schema, line by line (twice: shapes memoised)', async (t) => {
  for (const round of [1, 2]) {
    for (const line of lines) {
      const b = Buffer.from(`${line}\n`, 'utf8');
      const got = fast!(b, 0, b.length - 1);
      const want = slow(line);
      if (!want.ok) t.equal(got, undefined, `round ${round}: rejected by the schema, not accepted: ${line}`);
      else if (got !== undefined) {
        t.strictSame(got, want.ev, `round ${round}: as JSON.parse: ${line}`);
        t.same(Object.keys(got), Object.keys(want.ev as object), 'in the same key order');
      }
    }
  }
  const accepted = lines.slice(0, 13).filter((l) => {
    const b = Buffer.from(l, 'utf8');
    return fast!(b, 0, b.length) !== undefined;
  });
  t.equal(accepted.length, 13, 'the flat valid events are read on the fast path');
});

t.test('a line in the middle of a buffer: only its bytes are read', async (t) => {
  const a = '{"type":"note","t":1,"text":"first"}';
  const b = '{"type":"note","t":2,"text":"second"}';
  const buf = Buffer.from(`${a}\r\n${b}\n`);
  t.strictSame(fast!(buf, 0, a.length), JSON.parse(a));
  t.strictSame(fast!(buf, a.length + 2, a.length + 2 + b.length), JSON.parse(b));
});

t.test('random lines in random order: the fast path (skeletons included) agrees with JSON.parse and the schema', async (t) => {
  const keys = ['type', 't', 'conn', 'stream', 'dir', 'hex', 'by', 'isApp', 'code', 'reason', 'remote', 'kind', 'text', 'elided', 'role', 'alpn'];
  const arbValue = fc.oneof(
    fc.constantFrom('data', 'conn_open', 'conn_close', 'note', 'c2s', 's2c', 'client', 'server', 'reset', 'uni', 'bidi'),
    fc.constantFrom(0, 1, 7, 100, 123456789012345, -1, 1.5, 1e3),
    fc.constantFrom('', '00', '0a', 'ab', '0', 'AB', 'x', 'h\u00f6st', 'a"b', 'a\\b', '\u0001', '00000001', 'ff00ff00'),
    fc.constantFrom(true, false, null, [], {}),
  );
  const arbEvent = fc.tuple(
    fc.constantFrom(['type', 't', 'conn', 'stream', 'dir', 'hex'], ['type', 't', 'conn', 'remote'], ['type', 't', 'conn', 'by', 'isApp', 'code', 'reason'], ['type', 't', 'text'], ['t', 'type', 'conn', 'dir', 'hex']),
    fc.oneof({ weight: 6, arbitrary: fc.constant([] as [string, unknown][]) }, fc.array(fc.tuple(fc.constantFrom(...keys), arbValue), { maxLength: 2 })),
    fc.array(arbValue, { minLength: 7, maxLength: 7 }),
    fc.array(fc.oneof({ weight: 30, arbitrary: fc.constant(0) }, fc.constantFrom(1, 2)), { minLength: 7, maxLength: 7 }),
  );
  /** A line: the keys with values (mostly valid ones), laid out compactly or with blanks. */
  const render = ([ks, extra, vals, pick]: [string[], [string, unknown][], unknown[], number[]], layout: number): string => {
    const valid: Record<string, unknown> = { type: ks.includes('hex') ? 'data' : ks.includes('remote') ? 'conn_open' : ks.includes('by') ? 'conn_close' : 'note', t: 5, conn: 0, stream: 4, dir: 's2c', hex: '0001', remote: 'h:1', by: 'server', isApp: true, code: 0, reason: '', text: 'hi' };
    const pairs: [string, unknown][] = ks.map((k, i) => [k, pick[i] === 1 ? vals[i] : pick[i] === 2 ? 17 : valid[k]]);
    pairs.push(...extra);
    const sep = [':', ' : ', ':'][layout]!;
    const comma = [',', ' , ', ', '][layout]!;
    return `${layout === 1 ? '{ ' : '{'}${pairs.map(([k, v]) => `${JSON.stringify(k)}${sep}${JSON.stringify(v)}`).join(comma)}${layout === 1 ? ' }' : '}'}`;
  };
  let fastRead = 0;
  let lines = 0;
  fc.assert(
    fc.property(fc.array(fc.tuple(arbEvent, fc.constantFrom(0, 0, 1, 2)), { minLength: 1, maxLength: 60 }), (evs) => {
      // A fresh reader per run: its skeletons and shapes are learnt from this run's lines only.
      const reader = createFastEventReader(schema, (type) => ajv.getSchema(`${schema.$id}#/$defs/${type}`))!;
      for (const [e, layout] of evs) {
        const line = render(e as never, layout);
        const b = Buffer.from(`x\n${line}\n`, 'utf8');
        const got = reader(b, 2, b.length - 1);
        const want = slow(line);
        lines++;
        if (got === undefined) continue;
        fastRead++;
        if (!want.ok) throw new Error(`accepted a line the schema rejects: ${line}`);
        if (JSON.stringify(got) !== JSON.stringify(want.ev)) throw new Error(`read ${JSON.stringify(got)}, JSON.parse gives ${JSON.stringify(want.ev)}`);
      }
    }),
    { numRuns: 400, seed: 13 },
  );
  t.ok(fastRead > lines / 4, `${fastRead} of ${lines} lines read on the fast path, each as JSON.parse reads it`);
});
