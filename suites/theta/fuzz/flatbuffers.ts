/**
 * Structure-aware FlatBuffers mutation (SPEC THETA-2.3): a valid control
 * buffer, built by the official `flatbuffers` runtime (messages.ts
 * `encodeControl`), is changed in one place so that exactly one rule of the
 * verifier (harness/flatbuffers/verifier.ts) breaks first: an offset out of
 * bounds, zero, negative or misaligned, a vtable moved, misaligned or sized
 * wrong, a field outside its table or misaligned, a vector count that lies,
 * a string without its NUL, a union type that disagrees with its value, a
 * missing required body, a wrong file identifier, a truncated buffer.
 *
 * The positions (root table, vtables, fields, vectors) are found by walking
 * the valid buffer with the generated layout rules, never by asking the
 * verifier. Each mutation names the rule it is meant to break;
 * test/theta/fuzz-flatbuffers.test.ts checks that the verifier rejects it
 * under that rule. Pure; no I/O.
 *
 * Not expressible in Theta's schema: `depth` and `tables` (no table of
 * theta.fbs holds a table, so at most two tables are ever walked; uoffsets
 * only point forward, so no cycle can be forged). The verifier's tests cover
 * them on a recursive schema.
 */
import type { FlatBufferRule } from '../../../harness/flatbuffers/verifier.js';
import { encodeControl, type ControlMessage } from '../messages.js';
import { ControlFrameTable, HeartbeatTable, SessionAcknowledgeTable, SessionErrorTable, SessionHelloTable } from '../schema/tables.js';
import type { FieldSchema, TableSchema } from '../../../harness/flatbuffers/verifier.js';

/** Every structural mutation, by name. */
export const STRUCTURAL_MUTATIONS = [
  'truncate',
  'identifier',
  'root-offset-zero',
  'root-offset-negative',
  'root-offset-out-of-bounds',
  'root-table-misaligned',
  'body-offset-out-of-bounds',
  'vtable-out-of-bounds',
  'vtable-misaligned',
  'vtable-size-odd',
  'vtable-past-end',
  'table-size-below-4',
  'table-size-past-end',
  'field-out-of-bounds',
  'field-misaligned',
  'field-outside-table',
  'vector-offset-zero',
  'vector-offset-misaligned',
  'vector-count-lies',
  'vector-count-overflow',
  'string-missing-nul',
  'union-type-none-with-value',
  'union-type-unknown',
  'union-value-missing',
  'body-missing',
] as const;
export type StructuralMutation = (typeof STRUCTURAL_MUTATIONS)[number];

/** A mutated buffer, the rule the verifier must reject it under, and what was changed. */
export interface Mutated {
  readonly bytes: Uint8Array;
  readonly rule: FlatBufferRule;
  /** One line, e.g. `Heartbeat.sent_at_us offset moved to byte 13 (field-alignment)`. */
  readonly what: string;
}

/** One table of a valid buffer: its position, vtable, sizes and field positions by schema id (0 = absent). */
interface TableLayout {
  readonly schema: TableSchema;
  readonly table: number;
  readonly vtable: number;
  readonly vsize: number;
  readonly tsize: number;
  /** Field position by id (0 when absent). */
  readonly fields: ReadonlyMap<number, number>;
}

/** Where things are in a valid control buffer. */
interface Layout {
  readonly root: TableLayout;
  readonly body: TableLayout;
  /** Position of the union `_type` byte and of the value's uoffset. */
  readonly typePos: number;
  readonly valuePos: number;
}

const dv = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

function tableAt(b: Uint8Array, table: number, schema: TableSchema): TableLayout {
  const v = dv(b);
  const vtable = table - v.getInt32(table, true);
  const vsize = v.getUint16(vtable, true);
  const tsize = v.getUint16(vtable + 2, true);
  const fields = new Map<number, number>();
  const ids = schema.fields.flatMap((f) => (f.kind === 'union' ? [f.id - 1, f.id] : [f.id]));
  for (const id of ids) {
    const slot = 4 + 2 * id;
    const off = slot + 2 <= vsize ? v.getUint16(vtable + slot, true) : 0;
    fields.set(id, off === 0 ? 0 : table + off);
  }
  return { schema, table, vtable, vsize, tsize, fields };
}

const MEMBER: Readonly<Record<ControlMessage['type'], TableSchema>> = {
  SessionHello: SessionHelloTable,
  SessionAcknowledge: SessionAcknowledgeTable,
  Heartbeat: HeartbeatTable,
  SessionError: SessionErrorTable,
};

/** The layout of a buffer `encodeControl` built (valid by construction). */
function layoutOf(b: Uint8Array, type: ControlMessage['type']): Layout {
  const v = dv(b);
  const root = tableAt(b, v.getUint32(0, true), ControlFrameTable);
  const typePos = root.fields.get(0) ?? 0;
  const valuePos = root.fields.get(1) ?? 0;
  const body = tableAt(b, valuePos + v.getUint32(valuePos, true), MEMBER[type]);
  return { root, body, typePos, valuePos };
}

/** The offset-valued fields (vectors, strings) of the body that are present, with their positions. */
function offsetFields(l: Layout): { f: FieldSchema; pos: number }[] {
  return l.body.schema.fields.flatMap((f) => {
    const pos = l.body.fields.get(f.id) ?? 0;
    return (f.kind === 'vector' || f.kind === 'string') && pos !== 0 ? [{ f, pos }] : [];
  });
}

/** The present scalar fields of the body, widest first. */
function scalarFields(l: Layout): { f: Extract<FieldSchema, { kind: 'scalar' }>; pos: number }[] {
  return l.body.schema.fields
    .flatMap((f) => (f.kind === 'scalar' && (l.body.fields.get(f.id) ?? 0) !== 0 ? [{ f, pos: l.body.fields.get(f.id)! }] : []))
    .sort((a, b) => b.f.size - a.f.size);
}

/**
 * Applies `m` to the valid encoding of `msg`; `pick` chooses among the
 * candidate fields where several could be changed (any integer; taken
 * modulo their number). Returns undefined when the message has nothing the
 * mutation could change (e.g. `string-missing-nul` on a Heartbeat, which has
 * no string).
 */
export function mutateStructure(msg: ControlMessage, m: StructuralMutation, pick = 0): Mutated | undefined {
  const valid = encodeControl(msg);
  const b = valid.slice();
  const v = dv(b);
  const l = layoutOf(valid, msg.type);
  const name = `ControlFrame<${msg.type}>`;
  const out = (rule: FlatBufferRule, what: string, bytes: Uint8Array = b): Mutated => ({ bytes, rule, what: `${what} (${rule})` });
  const choose = <T>(xs: readonly T[]): T | undefined => (xs.length === 0 ? undefined : xs[((pick % xs.length) + xs.length) % xs.length]);
  switch (m) {
    case 'truncate': {
      const n = Math.abs(pick) % 8;
      return out('buffer-size', `buffer cut to ${n} bytes`, valid.slice(0, n));
    }
    case 'identifier': {
      const i = Math.abs(pick) % 4;
      b[4 + i] = (b[4 + i]! ^ (1 + (Math.abs(pick >> 2) % 255))) & 0xff;
      return out('identifier', `file identifier byte ${i} changed`);
    }
    case 'root-offset-zero':
      v.setUint32(0, 0, true);
      return out('offset-zero', 'root offset set to 0');
    case 'root-offset-negative':
      v.setUint32(0, 0x8000_0000 + (Math.abs(pick) % 0x1000) * 4, true);
      return out('offset-sign', 'root offset set ≥ 2^31');
    case 'root-offset-out-of-bounds':
      v.setUint32(0, b.length + (Math.abs(pick) % 64) * 4, true);
      return out('offset-bounds', 'root offset points past the end');
    case 'root-table-misaligned':
      v.setUint32(0, l.root.table + 2, true);
      return out('offset-alignment', 'root offset moved by 2 bytes (table misaligned)');
    case 'body-offset-out-of-bounds':
      v.setUint32(l.valuePos, b.length - l.valuePos + (Math.abs(pick) % 64) * 4, true);
      return out('offset-bounds', `${name}.body offset points past the end`);
    case 'vtable-out-of-bounds': {
      const t = choose([l.root, l.body])!;
      v.setInt32(t.table, pick % 2 === 0 ? t.table + 64 : t.table - b.length - 64, true);
      return out('vtable-bounds', `${t.schema.name} vtable offset points outside the buffer`);
    }
    case 'vtable-misaligned': {
      const t = choose([l.root, l.body])!;
      v.setInt32(t.table, v.getInt32(t.table, true) + 1, true);
      return out('vtable-alignment', `${t.schema.name} vtable offset moved by 1 byte`);
    }
    case 'vtable-size-odd': {
      const t = choose([l.root, l.body])!;
      v.setUint16(t.vtable, t.vsize | 1, true);
      return out('vtable-size', `${t.schema.name} vtable size made odd (${t.vsize | 1})`);
    }
    case 'vtable-past-end': {
      const t = choose([l.root, l.body])!;
      v.setUint16(t.vtable, 0xfffe, true);
      return out('vtable-bounds', `${t.schema.name} vtable size set to 65534`);
    }
    case 'table-size-below-4': {
      const t = choose([l.root, l.body])!;
      v.setUint16(t.vtable + 2, Math.abs(pick) % 4, true);
      return out('vtable-size', `${t.schema.name} table size set below 4`);
    }
    case 'table-size-past-end': {
      const t = choose([l.root, l.body])!;
      v.setUint16(t.vtable + 2, b.length - t.table + 4, true);
      return out('field-bounds', `${t.schema.name} table size runs past the end`);
    }
    case 'field-out-of-bounds': {
      const s = choose(scalarFields(l));
      if (s === undefined) return undefined;
      // A field offset past the end of the buffer (a multiple of the size: the bounds rule comes first).
      const off = Math.ceil((b.length - l.body.table + 8) / 8) * 8;
      if (off > 0xffff) return undefined;
      v.setUint16(l.body.vtable + 4 + 2 * s.f.id, off, true);
      return out('field-bounds', `${l.body.schema.name}.${s.f.name} offset points past the end`);
    }
    case 'field-misaligned': {
      // Moved by one byte, still inside the buffer (the bounds rule comes first).
      const s = choose(scalarFields(l).filter((x) => x.f.size > 1 && x.pos + 1 + x.f.size <= b.length));
      if (s === undefined) return undefined;
      v.setUint16(l.body.vtable + 4 + 2 * s.f.id, s.pos - l.body.table + 1, true);
      return out('field-alignment', `${l.body.schema.name}.${s.f.name} moved by 1 byte (misaligned)`);
    }
    case 'field-outside-table': {
      // A field placed, aligned, just past its table's inline bytes but still inside the buffer.
      const candidates: { t: TableLayout; id: number; name: string; size: number }[] = [
        ...[...scalarFields(l)].reverse().map((s) => ({ t: l.body, id: s.f.id, name: s.f.name, size: s.f.size })),
        { t: l.root, id: 0, name: 'body_type', size: 1 },
      ];
      for (const c of candidates) {
        const off = Math.ceil(c.t.tsize / c.size) * c.size;
        if (c.t.table + off + c.size <= b.length && off <= 0xffff) {
          v.setUint16(c.t.vtable + 4 + 2 * c.id, off, true);
          return out('field-outside-table', `${c.t.schema.name}.${c.name} placed past its table's ${c.t.tsize} bytes`);
        }
      }
      return undefined;
    }
    case 'vector-offset-zero': {
      const o = choose(offsetFields(l));
      if (o === undefined) return undefined;
      v.setUint32(o.pos, 0, true);
      return out('offset-zero', `${l.body.schema.name}.${o.f.name} offset set to 0`);
    }
    case 'vector-offset-misaligned': {
      const o = choose(offsetFields(l));
      if (o === undefined) return undefined;
      v.setUint32(o.pos, v.getUint32(o.pos, true) + 2, true);
      return out('offset-alignment', `${l.body.schema.name}.${o.f.name} offset moved by 2 bytes`);
    }
    case 'vector-count-lies': {
      const o = choose(offsetFields(l));
      if (o === undefined) return undefined;
      const vec = o.pos + v.getUint32(o.pos, true);
      const count = v.getUint32(vec, true);
      const lie = count + b.length + (Math.abs(pick) % 1000);
      v.setUint32(vec, lie, true);
      return out('vector-bounds', `${l.body.schema.name}.${o.f.name} count ${count} → ${lie}`);
    }
    case 'vector-count-overflow': {
      const o = choose(offsetFields(l));
      if (o === undefined) return undefined;
      const vec = o.pos + v.getUint32(o.pos, true);
      v.setUint32(vec, 0xffff_ffff - (Math.abs(pick) % 16), true);
      return out('vector-count', `${l.body.schema.name}.${o.f.name} count near 2^32`);
    }
    case 'string-missing-nul': {
      const o = choose(offsetFields(l).filter((x) => x.f.kind === 'string'));
      if (o === undefined) return undefined;
      const vec = o.pos + v.getUint32(o.pos, true);
      const end = vec + 4 + v.getUint32(vec, true);
      b[end] = 0x41 + (Math.abs(pick) % 26);
      return out('string-nul', `${l.body.schema.name}.${o.f.name} NUL terminator replaced`);
    }
    case 'union-type-none-with-value':
      b[l.typePos] = 0;
      return out('union-mismatch', `${name}.body_type set to NONE, value kept`);
    case 'union-type-unknown':
      b[l.typePos] = 5 + (Math.abs(pick) % 251);
      return out('union-unknown', `${name}.body_type set to ${b[l.typePos]!}`);
    case 'union-value-missing':
      v.setUint16(l.root.vtable + 4 + 2 * 1, 0, true);
      return out('union-mismatch', `${name}.body value removed, type kept`);
    case 'body-missing':
      v.setUint16(l.root.vtable + 4, 0, true);
      v.setUint16(l.root.vtable + 4 + 2, 0, true);
      return out('required', `${name}.body (type and value) removed`);
  }
}
