/**
 * The fast path's templates (harness/traces/fast-event.ts): once a line's
 * template is learnt, the next lines are read by comparing its segments in
 * place. Every line it reads that way must be what JSON.parse and the schema
 * give, and anything else must go to the slow path: every truncation and
 * every one-byte change of a learnt line, numbers JSON spells otherwise
 * (exponents, leading zeros, fractions, beyond 2^53, negative), escapes,
 * non-ASCII text, blanks, repeated and unknown keys, templates that follow
 * each other (prediction), and many distinct short strings (the reader's
 * cache of short strings). Every test runs twice: events only, and data
 * events read as bytes (`dataBytes`: the reader's DataBytes record, made an
 * event by dataEventOf, must be that same event).
 */
import t from 'tap';
import fc from 'fast-check';
import { readFile } from 'node:fs/promises';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { createFastEventReader, type FastEventReader } from '../../harness/traces/fast-event.js';
import { checkEvent, TraceFileError } from '../../harness/traces/file.js';
import { dataEventOf } from '../../harness/engine/trace.js';

const schema = JSON.parse(await readFile(new URL('../../harness/reports/trace-event.schema.json', import.meta.url), 'utf8')) as { $id: string };
const ajv = new Ajv2020({ strict: false });
ajv.addSchema(schema);
const newReader = (dataBytes: boolean): FastEventReader => createFastEventReader(schema, (type) => ajv.getSchema(`${schema.$id}#/$defs/${type}`), dataBytes)!;

/** Lines read as a DataBytes record (`dataBytes`), counted by {@link agree}. */
let asBytes = 0;

/** What a reader returned, as an event: its DataBytes record made one by dataEventOf (and counted in {@link asBytes}). */
function eventOf(read: FastEventReader, got: object | undefined): object | undefined {
  if (got === undefined || got !== read.data) return got;
  asBytes++;
  return dataEventOf(read.data);
}

/** The slow path's verdict: the event, or undefined (bad JSON or rejected by the schema). */
function slow(bytes: Buffer): unknown {
  try {
    return checkEvent(JSON.parse(bytes.toString('utf8')), 'x.jsonl', 2);
  } catch (err) {
    if (err instanceof SyntaxError || err instanceof TraceFileError) return undefined;
    throw err;
  }
}

/** Reads `line` (bytes) in the middle of a buffer with the reader; throws when it accepts what the slow path would not give. Returns whether it was read on the fast path. */
function agree(read: FastEventReader, line: Buffer): boolean {
  const buf = Buffer.concat([Buffer.from('{"x":1}\n'), line, Buffer.from('\n{"type"')]);
  const got = eventOf(read, read(buf, 8, 8 + line.length));
  if (got === undefined) return false;
  const want = slow(line);
  if (want === undefined) throw new Error(`accepted a line the slow path rejects: ${JSON.stringify(line.toString('latin1'))}`);
  if (JSON.stringify(got) !== JSON.stringify(want) || Object.keys(got).join() !== Object.keys(want as object).join()) {
    throw new Error(`read ${JSON.stringify(got)}, JSON.parse gives ${JSON.stringify(want)}: ${JSON.stringify(line.toString('latin1'))}`);
  }
  return true;
}

const bases = [
  '{"type":"data","t":1100,"conn":0,"stream":0,"dir":"c2s","hex":"00000001"}',
  '{"type":"data","t":5,"conn":12,"stream":4,"dir":"s2c","hex":"","elided":12,"role":"alice"}',
  '{"type":"conn_open","t":0,"conn":0,"remote":"bench:1"}',
  '{"type":"conn_close","t":5,"conn":0,"by":"transport","isApp":false,"code":123456789012345,"reason":"idle \u2014 timeout"}',
  '{"type":"stream_reset","t":9,"conn":0,"stream":0,"dir":"s2c","kind":"stop_sending","code":7}',
  '{"type":"note","t":9,"text":"a"}',
  '{"t":1,"type":"dgram","conn":0,"dir":"c2s","hex":"ff00"}',
  // As a run records them: t last, the codec's frames.
  '{"type":"data","conn":0,"stream":4,"dir":"c2s","hex":"0200000000","t":100,"frames":[{"discriminator":"commit"},{"commit":0}]}',
  '{"type":"data","conn":1,"stream":0,"dir":"s2c","hex":"00","t":7,"frames":[]}',
  '{"type":"data","t":3,"conn":0,"stream":0,"dir":"c2s","hex":"ab","frames":[{"a":[1,-2.5e3,0.5,true,false,null,{"b":"x\\"y\\u00e9\\n"}]}, {"c":{}}]}',
];
/** Bytes a changed position takes: JSON punctuation, digits, number letters, blanks, control, non-ASCII (invalid UTF-8 alone). */
const swaps = [0x20, 0x09, 0x0d, 0x00, 0x22, 0x5c, 0x2c, 0x3a, 0x7b, 0x7d, 0x5b, 0x30, 0x31, 0x39, 0x2d, 0x2b, 0x2e, 0x65, 0x45, 0x61, 0x66, 0x67, 0x41, 0x74, 0x6e, 0x78, 0x7f, 0x80, 0xc3, 0xff];

for (const dataBytes of [false, true]) {
  const mode = dataBytes ? 'data as bytes' : 'events';
  t.test(`${mode}: every truncation and one-byte change of a learnt line: as the slow path, or left to it`, async (t) => {
    asBytes = 0;
    let fast = 0;
    let tried = 0;
    for (const base of bases) {
      const line = Buffer.from(base, 'utf8');
      const read = newReader(dataBytes);
      t.ok(agree(read, line) && agree(read, line), `read on the fast path, then as its template: ${base}`);
      for (let p = 0; p <= line.length; p++) {
        for (const variant of [line.subarray(0, p), ...(p < line.length ? swaps.map((x) => Buffer.concat([line.subarray(0, p), Buffer.of(x), line.subarray(p + 1)])) : [])]) {
          if (agree(read, variant)) fast++;
          tried++;
          agree(read, line); // the template predicted again
        }
      }
    }
    t.ok(fast > 0 && fast < tried, `${fast} of ${tried} changed lines read on the fast path, each as JSON.parse reads it; the rest left to the slow path`);
    t.ok(dataBytes ? asBytes > 0 : asBytes === 0, `${asBytes} data lines read as bytes`);
  });

  t.test(`${mode}: numbers JSON spells otherwise, escapes, blanks, repeated and unknown keys after a learnt line`, async (t) => {
    const read = newReader(dataBytes);
    const base = '{"type":"data","t":1100,"conn":0,"stream":0,"dir":"c2s","hex":"00000001"}';
    const variants = [
      ['1100', '1e3'], ['1100', '1E3'], ['1100', '1.5'], ['1100', '1.0'], ['1100', '01100'], ['1100', '-1'], ['1100', '-0'], ['1100', '9007199254740993'],
      ['1100', '999999999999999'], ['1100', '1000000000000000'], ['"conn":0', '"conn":00'], ['"conn":0', '"conn": 0'], ['"conn":0', '"conn":0 '],
      ['"c2s"', '"c\\u0032s"'], ['"00000001"', '"0000\\n0001"'], ['"00000001"', '"h\u00f6st"'], ['"00000001"', '"\u{1f600}"'], ['"dir"', '"d\\u0069r"'],
      ['"stream":0,', '"stream":0,"stream":1,'], ['"stream":0,', '"stream":0,"zzz":1,'], ['"stream":0,', '"stream":0,"frames":[],'], ['{', ' {'], ['}', '} '], ['}', '}}'],
      ['"type":"data"', '"type":"dgram"'], ['"dir":"c2s"', '"dir":"s2c"'], ['"dir":"c2s"', '"dir":"c2"'], ['"dir":"c2s"', '"dir":"c2ss"'], ['"hex":"00000001"', '"hex":"ABCD"'],
      ['"hex":"00000001"', '"hex":"0"'], ['"hex":"00000001"', '"hex":true'], ['"hex":"00000001"', '"hex":null'], ['"stream":0', '"stream":true'],
    ] as const;
    let fast = 0;
    for (const [from, to] of variants) {
      t.ok(agree(read, Buffer.from(base)), 'the base line on the fast path');
      const line = base.replace(from, to);
      t.not(line, base, `changed: ${to}`);
      if (agree(read, Buffer.from(line, 'utf8'))) fast++;
    }
    t.ok(fast >= 3, `${fast} of the changed lines read on the fast path (e.g. s2c, 999999999999999, dgram)`);
  });

  t.test(`${mode}: generated flat events in random order (templates following each other, short strings): as JSON.parse reads them`, async (t) => {
    const arbHex = fc.uint8Array({ maxLength: 12 }).map((b) => Buffer.from(b).toString('hex'));
    const arbText = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: 'grapheme', maxLength: 6 }), arbHex, fc.constantFrom('', 'bench:1', 'c2s', 'data', 'client'));
    const arbNumber = fc.oneof({ weight: 5, arbitrary: fc.nat({ max: 2000 }) }, fc.maxSafeNat(), fc.integer(), fc.double(), fc.constant(2 ** 53 + 2));
    const events = fc.oneof(
      fc.record({ type: fc.constant('data'), t: arbNumber, conn: fc.nat(3), stream: fc.constantFrom(0, 4, 8), dir: fc.constantFrom('c2s', 's2c'), hex: fc.oneof({ weight: 4, arbitrary: arbHex }, arbText) }),
    // As a run records them (t last, frames: arrays of objects mostly, and other arrays).
    fc
      .record({ type: fc.constant('data'), conn: fc.nat(3), stream: fc.constantFrom(0, 4, 8), dir: fc.constantFrom('c2s', 's2c'), hex: arbHex, t: arbNumber, frames: fc.array(fc.oneof({ weight: 4, arbitrary: fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 3 }) }, fc.jsonValue({ maxDepth: 2 })), { maxLength: 3 }) }, { requiredKeys: ['type', 'conn', 'stream', 'dir', 'hex', 't'] }),
      fc.record({ type: fc.constant('conn_open'), t: arbNumber, conn: fc.nat(3), remote: arbText }),
      fc.record({ type: fc.constant('conn_close'), t: arbNumber, conn: fc.nat(3), by: fc.constantFrom('client', 'server', 'transport'), isApp: fc.boolean(), code: arbNumber, reason: arbText }),
      fc.record({ type: fc.constant('note'), t: arbNumber, text: arbText }),
      fc.record({ type: fc.constant('stream_open'), t: fc.nat(), conn: fc.nat(3), stream: fc.nat(12), by: fc.constantFrom('client', 'server'), dir: fc.constantFrom('bidi', 'uni', 'c2s') }, { requiredKeys: ['type', 't', 'conn', 'stream', 'by'] }),
    );
    let fast = 0;
    let lines = 0;
    fc.assert(
      fc.property(fc.array(events, { minLength: 1, maxLength: 80 }), (evs) => {
        const read = newReader(dataBytes);
        for (const ev of evs) {
          lines++;
          if (agree(read, Buffer.from(JSON.stringify(ev), 'utf8'))) fast++;
        }
      }),
      { numRuns: 300, seed: 1313 },
    );
    t.ok(fast > lines / 3, `${fast} of ${lines} lines read on the fast path, each as JSON.parse reads it`);
  });

  t.test(`${mode}: frames nested up to the scanner's depth on the fast path, deeper left to the slow path`, async (t) => {
    const read = newReader(dataBytes);
    const line = (depth: number) => Buffer.from(`{"type":"data","conn":0,"stream":0,"dir":"c2s","hex":"00","t":1,"frames":[{"a":${'['.repeat(depth)}${']'.repeat(depth)}}]}`);
    t.ok(agree(read, line(1)), 'learnt');
    t.ok(agree(read, line(60)), '60 levels inside: read');
    t.notOk(agree(read, line(70)), '70 levels inside: the slow path');
    t.notOk(agree(read, line(100_000)), '100,000 levels: the slow path, no stack overflow');
  });

  t.test(`${mode}: many distinct short strings (more than the cache of short strings holds): each as JSON.parse reads it`, async (t) => {
    const read = newReader(dataBytes);
    let fast = 0;
    for (let i = 0; i < 20_000; i++) {
      const hex = (i * 2654435761 >>> 0).toString(16).padStart(8, '0').slice(0, 2 + (i % 7) * 2);
      if (agree(read, Buffer.from(JSON.stringify({ type: 'data', t: i, conn: 0, stream: 0, dir: i % 2 ? 'c2s' : 's2c', hex }), 'utf8'))) fast++;
      if (agree(read, Buffer.from(JSON.stringify({ type: 'note', t: i, text: `n${i % 997}` }), 'utf8'))) fast++;
    }
    t.equal(fast, 40_000, 'every line on the fast path');
  });

  t.test(`${mode}: next: a learnt template\u2019s line read with no search for its end, only when its LF (or CR LF) follows before the limit`, async (t) => {
    for (const base of bases) {
      const read = newReader(dataBytes);
      const line = Buffer.from(base, 'utf8');
      t.ok(agree(read, line), 'learnt');
      for (const [suffix, ok] of [['\n', true], ['\r\n', true], ['\n{', true], ['', false], ['\r', false], ['\r\r\n', false], [' \n', false], ['x\n', false], [',\n', false], ['}\n', false]] as const) {
        const buf = Buffer.concat([Buffer.from('\n'), line, Buffer.from(suffix)]);
        read.lineEnd = -1;
        const got = read.next(buf, 1, buf.length);
        if (ok) {
          t.strictSame(eventOf(read, got), JSON.parse(base), `read, ending ${JSON.stringify(suffix)}: ${base}`);
          t.equal(read.lineEnd, buf.indexOf(0x0a, 1), 'at its LF');
        } else t.equal(got, undefined, `not read, ending ${JSON.stringify(suffix)}: ${base}`);
        t.equal(read.next(buf, 1, 1 + line.length), undefined, 'not read when the limit comes before its LF');
      }
    }
  });
}
