/**
 * The FlatBuffers verifier, rule by rule: buffers built by the official
 * runtime (flatc-generated code) are accepted; each mutation that breaks one
 * rule of the C++ verifier is rejected under that rule, at the right byte.
 * The positions of tables, vtables and fields are found by walking the
 * built buffer here (little-endian reads), independently of the verifier.
 */
import t, { type Test } from 'tap';
import fc from 'fast-check';
import * as flatbuffers from 'flatbuffers';
import { verifyFlatBuffer, type FlatBufferRule, type TableSchema } from '../../harness/flatbuffers/verifier.js';
import { ControlFrameTable, FILE_IDENTIFIER, SessionHelloTable } from '../../suites/theta/schema/tables.js';
import { decodeControl, encodeControl, type ControlMessage, type SessionHelloMsg } from '../../suites/theta/messages.js';

const hello: SessionHelloMsg = {
  type: 'SessionHello',
  protocolVersion: 3,
  schemaHash: 0x0123_4567_89ab_cdefn,
  clientNonce: new Uint8Array(24).fill(7),
  capabilities: [5, 1, 3],
  authToken: 'token',
  publicKey: new Uint8Array(32).fill(9),
};

const messages: ControlMessage[] = [
  hello,
  { type: 'SessionAcknowledge', protocolVersion: 3, schemaHash: 1n, serverNonce: new Uint8Array(24).fill(1), sessionId: 2n ** 63n + 5n, role: 7, capabilities: [1, 3], publicKey: new Uint8Array(32).fill(2) },
  { type: 'Heartbeat', seq: 1, sentAtUs: 1_700_000_000_000_000n, echoSeq: 0, echoSentAtUs: 0n, rttUs: 0, jitterUs: 0 },
  { type: 'SessionError', code: 2, reason: 'schema mismatch' },
];

const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);
/** Root table position. */
const rootTable = (b: Uint8Array): number => view(b).getUint32(0, true);
/** Vtable position of the table at `table`. */
const vtableOf = (b: Uint8Array, table: number): number => table - view(b).getInt32(table, true);
/** Position of field `id` in the table at `table` (0 when absent). */
function fieldPos(b: Uint8Array, table: number, id: number): number {
  const vt = vtableOf(b, table);
  const vsize = view(b).getUint16(vt, true);
  if (4 + 2 * id + 2 > vsize) return 0;
  const off = view(b).getUint16(vt + 4 + 2 * id, true);
  return off === 0 ? 0 : table + off;
}
/** Follows the uoffset at `pos`. */
const follow = (b: Uint8Array, pos: number): number => pos + view(b).getUint32(pos, true);
/** The SessionHello table inside an encoded hello. */
const helloTable = (b: Uint8Array): number => follow(b, fieldPos(b, rootTable(b), 1));

function verify(b: Uint8Array, schema: TableSchema = ControlFrameTable) {
  return verifyFlatBuffer(b, schema, { identifier: FILE_IDENTIFIER });
}

function expectRule(t: Test, b: Uint8Array, rule: FlatBufferRule, offset: number | undefined, what: string, schema?: TableSchema): void {
  const p = verify(b, schema);
  t.equal(p?.rule, rule, `${what}: rule ${rule}${p ? ` (${p.message})` : ' (accepted)'}`);
  if (offset !== undefined) t.equal(p?.offset, offset, `${what}: at byte ${offset}`);
}

t.test('buffers built by the official runtime are accepted and read back', async (t) => {
  for (const m of messages) {
    const b = encodeControl(m);
    t.equal(verify(b), undefined, `${m.type} verifies`);
    const d = decodeControl(b);
    t.ok(d.ok, `${m.type} decodes`);
    if (d.ok) t.same(d.msg, m, `${m.type} round-trips`);
  }
  const odd = new Uint8Array(encodeControl(hello).length + 1);
  odd.set(encodeControl(hello), 1);
  const d = decodeControl(odd.subarray(1));
  t.ok(d.ok && d.msg.type === 'SessionHello' && d.msg.capabilities.length === 3, 'a buffer at an odd address decodes (copied, not viewed misaligned)');
});

t.test('buffer size and identifier', async (t) => {
  const b = encodeControl(hello);
  expectRule(t, b.subarray(0, 3), 'buffer-size', 0, '3 bytes');
  expectRule(t, b.subarray(0, 7), 'buffer-size', 0, '7 bytes with an identifier expected');
  const c = b.slice();
  c[5] = 0x58;
  expectRule(t, c, 'identifier', 4, 'identifier THTA → TXTA');
  t.equal(verifyFlatBuffer(c, ControlFrameTable), undefined, 'without an expected identifier the same buffer is sound');
});

t.test('offsets: zero, negative, misaligned, out of bounds', async (t) => {
  const b = encodeControl(hello);
  const set = (pos: number, v: number): Uint8Array => {
    const c = b.slice();
    view(c).setUint32(pos, v, true);
    return c;
  };
  expectRule(t, set(0, 0), 'offset-zero', 0, 'root offset 0');
  expectRule(t, set(0, 0x8000_0000), 'offset-sign', 0, 'root offset ≥ 2^31');
  expectRule(t, set(0, b.length + 100), 'offset-bounds', 0, 'root offset past the end');
  expectRule(t, set(0, rootTable(b) + 2), 'offset-alignment', rootTable(b) + 2, 'root table misaligned');
  const bodyField = fieldPos(b, rootTable(b), 1);
  expectRule(t, set(bodyField, b.length), 'offset-bounds', bodyField, 'union value offset past the end');
  const nonceField = fieldPos(b, helloTable(b), 2);
  expectRule(t, set(nonceField, 0), 'offset-zero', nonceField, 'vector offset 0');
});

t.test('vtables: out of bounds, misaligned, bad size', async (t) => {
  const b = encodeControl(hello);
  const root = rootTable(b);
  const soff = (v: number): Uint8Array => {
    const c = b.slice();
    view(c).setInt32(root, v, true);
    return c;
  };
  expectRule(t, soff(root + 1000), 'vtable-bounds', root, 'vtable before the buffer');
  expectRule(t, soff(-(b.length)), 'vtable-bounds', root, 'vtable past the end');
  expectRule(t, soff(view(b).getInt32(root, true) + 1), 'vtable-alignment', root, 'vtable at an odd byte');
  const vt = vtableOf(b, root);
  const vsize = (v: number): Uint8Array => {
    const c = b.slice();
    view(c).setUint16(vt, v, true);
    return c;
  };
  expectRule(t, vsize(7), 'vtable-size', vt, 'odd vtable size');
  expectRule(t, vsize(2), 'vtable-size', vt, 'vtable size below 4');
  expectRule(t, vsize(0xfffe), 'vtable-bounds', vt, 'vtable size past the end');
});

t.test('fields: out of the buffer, outside the table, misaligned', async (t) => {
  const b = encodeControl(hello);
  const ht = helloTable(b);
  const vt = vtableOf(b, ht);
  const c1 = b.slice();
  view(c1).setUint16(vt + 2, 0xfff0, true);
  expectRule(t, c1, 'field-bounds', ht, 'table size past the end');
  // schema_hash (id 1, 8 bytes): move its slot to the table's last bytes.
  const tsize = view(b).getUint16(vt + 2, true);
  const c2 = b.slice();
  view(c2).setUint16(vt + 4 + 2 * 1, tsize - 4, true);
  const p2 = verify(c2);
  t.ok(p2?.rule === 'field-outside-table' || p2?.rule === 'field-alignment', `schema_hash past the table end: ${p2?.rule}`);
  const c3 = b.slice();
  const pv = view(b).getUint16(vt + 4, true); // protocol_version (id 0, u16)
  view(c3).setUint16(vt + 4, pv + 1, true);
  expectRule(t, c3, 'field-alignment', ht + pv + 1, 'u16 field at an odd byte');
});

t.test('vectors and strings', async (t) => {
  const b = encodeControl(hello);
  const ht = helloTable(b);
  const caps = follow(b, fieldPos(b, ht, 3));
  const c1 = b.slice();
  view(c1).setUint32(caps, 0x7fff_fff0, true);
  expectRule(t, c1, 'vector-count', caps, 'u16 vector count that overflows');
  const c2 = b.slice();
  view(c2).setUint32(caps, 1000, true);
  expectRule(t, c2, 'vector-bounds', caps, 'vector longer than the buffer');
  const token = follow(b, fieldPos(b, ht, 4));
  const len = view(b).getUint32(token, true);
  const c3 = b.slice();
  c3[token + 4 + len] = 0x41;
  expectRule(t, c3, 'string-nul', token + 4 + len, 'string without its NUL');
  const c4 = b.slice();
  view(c4).setUint32(token, b.length - token - 4, true);
  expectRule(t, c4, 'string-nul', b.length, 'string whose NUL would be past the end');
});

t.test('unions and required fields', async (t) => {
  const b = encodeControl(hello);
  const root = rootTable(b);
  const typePos = fieldPos(b, root, 0);
  const c1 = b.slice();
  c1[typePos] = 9;
  expectRule(t, c1, 'union-unknown', typePos, 'union type 9');
  const c2 = b.slice();
  c2[typePos] = 0;
  expectRule(t, c2, 'union-mismatch', fieldPos(b, root, 1), 'type NONE with a value');
  const vt = vtableOf(b, root);
  const c3 = b.slice();
  view(c3).setUint16(vt + 4 + 2, 0, true); // drop the value slot
  expectRule(t, c3, 'union-mismatch', typePos, 'type SessionHello without a value');
  const c4 = b.slice();
  view(c4).setUint16(vt + 4, 0, true);
  view(c4).setUint16(vt + 6, 0, true);
  expectRule(t, c4, 'required', root, 'no body at all');
  // A Heartbeat in place of a SessionHello is structurally sound (the model judges the order).
  const c5 = b.slice();
  c5[typePos] = 3;
  const p5 = verify(c5);
  t.not(p5?.rule, 'union-unknown', `another member type is checked against that member's table: ${p5?.rule ?? 'accepted'}`);
});

/** A recursive test schema: `table Node { child: Node; }`. */
const NodeTable: TableSchema = { name: 'Node', fields: [{ name: 'child', id: 0, kind: 'table', table: () => NodeTable }] };
function nested(depth: number): Uint8Array {
  const b = new flatbuffers.Builder(64);
  let child = 0;
  for (let i = 0; i < depth; i++) {
    b.startObject(1);
    if (child !== 0) b.addFieldOffset(0, child, 0);
    child = b.endObject();
  }
  b.finish(child);
  return b.asUint8Array().slice();
}

t.test('a problem names the field path to the rule that failed, and the walker keeps no state between buffers', async (t) => {
  const b = encodeControl(hello);
  const ht = helloTable(b);
  const pathOf = (c: Uint8Array): string | undefined => verify(c)?.path;
  t.equal(pathOf(b.subarray(0, 3)), 'ControlFrame', 'root offset missing: the root table');
  const c1 = b.slice();
  view(c1).setUint32(follow(b, fieldPos(b, ht, 3)), 1000, true);
  const p1 = verify(c1);
  t.equal(p1?.path, 'ControlFrame.body<SessionHello>.capabilities', 'a vector inside the union member');
  t.match(p1?.message, /^ControlFrame\.body<SessionHello>\.capabilities at byte \d+: .*\(vector-bounds\)$/, 'the message names path, byte and rule');
  const c2 = b.slice();
  view(c2).setInt32(ht, view(b).getInt32(ht, true) + 1, true);
  t.equal(pathOf(c2), 'ControlFrame.body<SessionHello>', "the member table's own header: the union field and the member it leads to");
  const c3 = b.slice();
  view(c3).setUint32(fieldPos(b, rootTable(b), 1), 0, true);
  t.equal(pathOf(c3), 'ControlFrame.body', 'a root field');
  t.equal(verify(b), undefined, 'a sound buffer after failures still verifies');
  t.equal(pathOf(c1), p1?.path, 'the same failure gives the same path again');
});

t.test('depth and table count', async (t) => {
  t.equal(verifyFlatBuffer(nested(64), NodeTable), undefined, '64 nested tables are accepted');
  t.equal(verifyFlatBuffer(nested(65), NodeTable)?.rule, 'depth', '65 nested tables fail depth');
  t.equal(verifyFlatBuffer(nested(10), NodeTable, { maxTables: 9 })?.rule, 'tables', 'more tables than allowed fail');
  t.equal(verifyFlatBuffer(nested(10), NodeTable, { maxTables: 10 }), undefined, 'exactly the allowed number passes');
});

t.test('any field values built by the runtime verify; random corruption never throws, and what is accepted reads in bounds', async (t) => {
  const helloArb = fc.record({
    type: fc.constant('SessionHello' as const),
    protocolVersion: fc.integer({ min: 0, max: 0xffff }),
    schemaHash: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    clientNonce: fc.uint8Array({ maxLength: 40 }),
    capabilities: fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 20 }),
    authToken: fc.string({ maxLength: 30 }),
    publicKey: fc.uint8Array({ maxLength: 40 }),
  });
  fc.assert(
    fc.property(helloArb, (m) => {
      const d = decodeControl(encodeControl(m));
      return d.ok && d.msg.type === 'SessionHello' && d.msg.authToken === m.authToken && d.msg.capabilities.length === m.capabilities.length;
    }),
    { numRuns: 200, seed: 1 },
  );
  let rejected = 0;
  fc.assert(
    fc.property(helloArb, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (m, flips) => {
      const b = encodeControl(m);
      for (const [i, v] of flips) b[i % b.length] = v;
      const d = decodeControl(b);
      if (!d.ok) {
        rejected++;
        return Number.isInteger(d.problem.offset) && d.problem.offset >= 0 && d.problem.message.includes(d.problem.rule);
      }
      if (d.msg.type !== 'SessionHello') return true;
      return d.msg.clientNonce.length <= b.length && d.msg.publicKey.length <= b.length && d.msg.capabilities.length * 2 <= b.length;
    }),
    { numRuns: 2000, seed: 2 },
  );
  t.ok(rejected > 0, `some corrupted buffers were rejected (${rejected} of 2000)`);
  t.pass('no input made the verifier throw');
});

t.test('the verifier schema matches the generated code (field ids)', async (t) => {
  const b = encodeControl(hello);
  const ht = helloTable(b);
  for (const f of SessionHelloTable.fields) t.not(fieldPos(b, ht, f.id), 0, `SessionHello.${f.name} is at id ${f.id}`);
});
