/**
 * A FlatBuffers verifier for TypeScript, driven by a small schema
 * description. The `flatbuffers` npm runtime has no verifier and reads
 * garbage silently (a truncated buffer reads as nulls, a forged vector
 * length as 2^31 − 1: ../shared/NOTES.md § flatbuffers), so every buffer a
 * peer sends is verified here before any generated accessor touches it.
 *
 * The rules are those of the official C++ verifier (flatbuffers
 * `include/flatbuffers/verifier.h`, `table.h`), each with a stable
 * {@link FlatBufferRule} id:
 * - the buffer holds at least a root offset (and the file identifier when
 *   one is expected) and is at most 2^31 − 1 bytes;
 * - every uoffset is non-zero, positive as a signed 32-bit value, aligned
 *   to 4 and points inside the buffer;
 * - a table's soffset to its vtable is aligned, the vtable lies inside the
 *   buffer, is aligned to 2, its size is even and at least 4, and its table
 *   size covers the table's own soffset;
 * - every present field lies inside the buffer, is aligned to its size, and
 *   (stricter than C++, as the Rust verifier) inside its table's inline size;
 * - a vector's count is such that count × element size cannot overflow the
 *   maximum buffer size, and its elements lie inside the buffer;
 * - a string is a byte vector followed by a NUL inside the buffer;
 * - a union's type and value agree: type NONE (0) with no value, a known
 *   type with a value (an unknown type is rejected: this project verifies
 *   one schema version, it does not skip what it cannot read);
 * - nesting depth ≤ 64 tables, at most 1,000,000 tables per buffer;
 * - the schema's `required` fields are present.
 *
 * The verifier never allocates per field and never decodes strings: it
 * checks offsets and lengths only. Pure; no I/O.
 */

/** Largest buffer FlatBuffers addresses (bytes): offsets are 32-bit signed. */
export const MAX_BUFFER_SIZE = 0x7fff_ffff;
/** Default nesting limit of the C++ verifier (tables within tables). */
export const DEFAULT_MAX_DEPTH = 64;
/** Default table count limit of the C++ verifier. */
export const DEFAULT_MAX_TABLES = 1_000_000;

/** Stable ids of the verifier's rules (reports and tests name them). */
export type FlatBufferRule =
  | 'buffer-size'
  | 'identifier'
  | 'offset-zero'
  | 'offset-sign'
  | 'offset-alignment'
  | 'offset-bounds'
  | 'vtable-alignment'
  | 'vtable-bounds'
  | 'vtable-size'
  | 'field-alignment'
  | 'field-bounds'
  | 'field-outside-table'
  | 'vector-count'
  | 'vector-bounds'
  | 'string-nul'
  | 'union-mismatch'
  | 'union-unknown'
  | 'required'
  | 'depth'
  | 'tables';

/** A scalar field's width (bytes); also its alignment. */
export type ScalarSize = 1 | 2 | 4 | 8;

/**
 * One field of a table, by its schema id (declaration order; a union takes
 * two ids, its `_type` byte and then its value). The vtable slot of id `n`
 * is at byte `4 + 2n` of the vtable.
 */
export type FieldSchema =
  | { readonly name: string; readonly id: number; readonly kind: 'scalar'; readonly size: ScalarSize; readonly required?: boolean }
  | { readonly name: string; readonly id: number; readonly kind: 'string'; readonly required?: boolean }
  | { readonly name: string; readonly id: number; readonly kind: 'vector'; readonly elemSize: ScalarSize; readonly required?: boolean }
  | { readonly name: string; readonly id: number; readonly kind: 'table'; readonly table: () => TableSchema; readonly required?: boolean }
  | {
      readonly name: string;
      /** Id of the value; its `_type` byte has id `id - 1`. */
      readonly id: number;
      readonly kind: 'union';
      /** Member tables by union type value (1 …); 0 is NONE. */
      readonly members: Readonly<Record<number, () => TableSchema>>;
      readonly required?: boolean;
    };

/** A table type: its name (for messages) and fields. */
export interface TableSchema {
  readonly name: string;
  readonly fields: readonly FieldSchema[];
}

/** Options of {@link verifyFlatBuffer}. */
export interface VerifyOptions {
  /** 4-character file identifier the buffer must carry at bytes 4..8, e.g. `THTA`. */
  readonly identifier?: string;
  /** Tables nested deeper than this fail `depth` (default 64). */
  readonly maxDepth?: number;
  /** More tables than this fail `tables` (default 1,000,000). */
  readonly maxTables?: number;
}

/** Why a buffer was rejected: the rule, the byte offset, and the path of fields to it. */
export interface FlatBufferProblem {
  readonly rule: FlatBufferRule;
  /** Byte offset in the buffer where the problem is. */
  readonly offset: number;
  /** Field path from the root, e.g. `ControlFrame.body<SessionHello>.client_nonce`. */
  readonly path: string;
  /** One line: `<path> at byte <offset>: <what is wrong> (<rule>)`. */
  readonly message: string;
}

/** Result of {@link verifyFlatBuffer}: `undefined` when the buffer is sound. */
export type VerifyResult = FlatBufferProblem | undefined;

/** Thrown inside the verifier to unwind; never escapes {@link verifyFlatBuffer}. */
class Reject {
  constructor(readonly problem: FlatBufferProblem) {}
}

/**
 * Verifies `buf` as a FlatBuffer whose root table is `root` (RFC-like rules
 * in the module docstring). Returns `undefined` when every rule holds, else
 * the first problem found (rule id, byte offset, field path). Never throws
 * on any input.
 */
export function verifyFlatBuffer(buf: Uint8Array, root: TableSchema, opts: VerifyOptions = {}): VerifyResult {
  const v = new Verifier(buf, opts);
  try {
    v.verifyRoot(root, opts.identifier);
    return undefined;
  } catch (err) {
    if (err instanceof Reject) return err.problem;
    throw err;
  }
}

/** The walk over one buffer; see {@link verifyFlatBuffer}. */
class Verifier {
  private readonly size: number;
  private depth = 0;
  private tables = 0;
  private readonly maxDepth: number;
  private readonly maxTables: number;

  constructor(
    private readonly buf: Uint8Array,
    opts: VerifyOptions,
  ) {
    this.size = buf.byteLength;
    this.maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.maxTables = opts.maxTables ?? DEFAULT_MAX_TABLES;
  }

  /**
   * Field path from the root, as segments: a field name, or a table schema
   * entered through a union (shown `<Name>`). Built into a string only when
   * a rule fails, so a sound buffer costs no string work.
   */
  private readonly path: (string | TableSchema)[] = [];

  private pathText(): string {
    let out = '';
    for (const seg of this.path) out += typeof seg === 'string' ? (out === '' ? seg : `.${seg}`) : `<${seg.name}>`;
    return out;
  }

  private fail(rule: FlatBufferRule, offset: number, what: string): never {
    const path = this.pathText();
    throw new Reject({ rule, offset, path, message: `${path} at byte ${offset}: ${what} (${rule})` });
  }

  // Little-endian reads of bytes already known to be in bounds (no DataView:
  // creating one per buffer costs as much as verifying a small table).
  private u16(pos: number): number {
    const b = this.buf;
    return (b[pos] as number) | ((b[pos + 1] as number) << 8);
  }

  private i32(pos: number): number {
    const b = this.buf;
    return (b[pos] as number) | ((b[pos + 1] as number) << 8) | ((b[pos + 2] as number) << 16) | ((b[pos + 3] as number) << 24);
  }

  private u32(pos: number): number {
    return this.i32(pos) >>> 0;
  }

  /** `[pos, pos + len)` lies inside the buffer. */
  private inBounds(pos: number, len: number): boolean {
    return pos >= 0 && len >= 0 && pos <= this.size && len <= this.size - pos;
  }

  verifyRoot(root: TableSchema, identifier: string | undefined): void {
    this.path.push(root.name);
    const min = identifier === undefined ? 4 : 8;
    if (this.size < min) this.fail('buffer-size', 0, `buffer of ${this.size} bytes is shorter than the ${min} bytes of a root offset${identifier === undefined ? '' : ' and file identifier'}`);
    if (this.size > MAX_BUFFER_SIZE) this.fail('buffer-size', 0, `buffer of ${this.size} bytes exceeds ${MAX_BUFFER_SIZE}`);
    if (identifier !== undefined) {
      for (let i = 0; i < 4; i++) {
        if (this.buf[4 + i] !== identifier.charCodeAt(i)) {
          const seen = Buffer.from(this.buf.subarray(4, 8)).toString('latin1');
          this.fail('identifier', 4, `file identifier is ${JSON.stringify(seen)}, expected ${JSON.stringify(identifier)}`);
        }
      }
    }
    this.verifyTable(this.followOffset(0), root);
  }

  /** Reads the uoffset at `pos` and returns the position it points to (C++ `VerifyOffset`). */
  private followOffset(pos: number): number {
    if (pos % 4 !== 0) this.fail('offset-alignment', pos, 'offset is not aligned to 4 bytes');
    if (!this.inBounds(pos, 4)) this.fail('offset-bounds', pos, 'offset lies outside the buffer');
    const o = this.u32(pos);
    if (o === 0) this.fail('offset-zero', pos, 'offset is 0');
    if (o > 0x7fff_ffff) this.fail('offset-sign', pos, `offset ${o} is negative as a signed 32-bit value`);
    const target = pos + o;
    if (!this.inBounds(target, 1)) this.fail('offset-bounds', pos, `offset ${o} points to byte ${target}, past the end (${this.size} bytes)`);
    return target;
  }

  private verifyTable(table: number, schema: TableSchema): void {
    this.depth++;
    this.tables++;
    if (this.depth > this.maxDepth) this.fail('depth', table, `tables nested deeper than ${this.maxDepth}`);
    if (this.tables > this.maxTables) this.fail('tables', table, `more than ${this.maxTables} tables`);
    if (table % 4 !== 0) this.fail('offset-alignment', table, 'table is not aligned to 4 bytes');
    if (!this.inBounds(table, 4)) this.fail('offset-bounds', table, 'table lies outside the buffer');
    const vtable = table - this.i32(table);
    if (vtable % 2 !== 0) this.fail('vtable-alignment', table, `vtable at byte ${vtable} is not aligned to 2 bytes`);
    if (!this.inBounds(vtable, 4)) this.fail('vtable-bounds', table, `vtable at byte ${vtable} lies outside the buffer`);
    const vsize = this.u16(vtable);
    const tsize = this.u16(vtable + 2);
    if (vsize % 2 !== 0 || vsize < 4) this.fail('vtable-size', vtable, `vtable size ${vsize} is odd or below 4`);
    if (!this.inBounds(vtable, vsize)) this.fail('vtable-bounds', vtable, `vtable of ${vsize} bytes at byte ${vtable} runs past the end`);
    if (tsize < 4) this.fail('vtable-size', vtable + 2, `table size ${tsize} is below the 4 bytes of its vtable offset`);
    if (!this.inBounds(table, tsize)) this.fail('field-bounds', table, `table of ${tsize} bytes runs past the end`);
    const fields = schema.fields;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i] as FieldSchema;
      this.path.push(f.name);
      this.verifyField(table, vtable, vsize, tsize, f);
      this.path.pop();
    }
    this.depth--;
  }

  /** Position of field `id` in the table, or 0 when absent. */
  private fieldPos(table: number, vtable: number, vsize: number, id: number): number {
    const slot = 4 + 2 * id;
    if (slot + 2 > vsize) return 0;
    const off = this.u16(vtable + slot);
    return off === 0 ? 0 : table + off;
  }

  /** Checks a present field's inline bytes `[pos, pos + size)`. */
  private inline(table: number, tsize: number, pos: number, size: number): void {
    if (!this.inBounds(pos, size)) this.fail('field-bounds', pos, `field of ${size} bytes runs past the end`);
    if (pos % size !== 0) this.fail('field-alignment', pos, `field of ${size} bytes is not aligned to ${size}`);
    if (pos + size > table + tsize) this.fail('field-outside-table', pos, `field ends at byte ${pos + size}, outside its table (bytes ${table}..${table + tsize})`);
  }

  private verifyField(table: number, vtable: number, vsize: number, tsize: number, f: FieldSchema): void {
    const pos = this.fieldPos(table, vtable, vsize, f.id);
    if (f.kind === 'union') {
      const typePos = this.fieldPos(table, vtable, vsize, f.id - 1);
      let type = 0;
      if (typePos !== 0) {
        this.inline(table, tsize, typePos, 1);
        type = this.buf[typePos] ?? 0;
      }
      if (type === 0) {
        if (pos !== 0) this.fail('union-mismatch', pos, 'union type is NONE but a value is present');
        if (f.required === true) this.fail('required', table, 'required union is absent');
        return;
      }
      const member = f.members[type];
      if (member === undefined) this.fail('union-unknown', typePos, `union type ${type} is not a member`);
      if (pos === 0) this.fail('union-mismatch', typePos, `union type ${type} has no value`);
      this.inline(table, tsize, pos, 4);
      const m = member();
      const target = this.followOffset(pos);
      this.path.push(m);
      this.verifyTable(target, m);
      this.path.pop();
      return;
    }
    if (pos === 0) {
      if (f.required === true) this.fail('required', table, 'required field is absent');
      return;
    }
    switch (f.kind) {
      case 'scalar':
        this.inline(table, tsize, pos, f.size);
        return;
      case 'string': {
        this.inline(table, tsize, pos, 4);
        const end = this.vector(this.followOffset(pos), 1);
        if (!this.inBounds(end, 1)) this.fail('string-nul', end, 'string has no NUL terminator inside the buffer');
        if (this.buf[end] !== 0) this.fail('string-nul', end, 'string is not NUL-terminated');
        return;
      }
      case 'vector':
        this.inline(table, tsize, pos, 4);
        this.vector(this.followOffset(pos), f.elemSize);
        return;
      case 'table':
        this.inline(table, tsize, pos, 4);
        this.verifyTable(this.followOffset(pos), f.table());
        return;
    }
  }

  /** Checks a vector (count, then elements) at `vec`; returns the byte after its last element (C++ `VerifyVectorOrString`). */
  private vector(vec: number, elemSize: number): number {
    if (vec % 4 !== 0) this.fail('offset-alignment', vec, 'vector is not aligned to 4 bytes');
    if (!this.inBounds(vec, 4)) this.fail('vector-bounds', vec, 'vector count lies outside the buffer');
    const count = this.u32(vec);
    if (count >= Math.floor(MAX_BUFFER_SIZE / elemSize)) this.fail('vector-count', vec, `vector count ${count} × ${elemSize} bytes overflows the maximum buffer size`);
    const bytes = 4 + count * elemSize;
    if (!this.inBounds(vec, bytes)) this.fail('vector-bounds', vec, `vector of ${count} elements (${bytes} bytes) runs past the end (${this.size} bytes)`);
    if (elemSize > 4 && (vec + 4) % elemSize !== 0) this.fail('offset-alignment', vec + 4, `elements of ${elemSize} bytes are not aligned`);
    return vec + bytes;
  }
}
