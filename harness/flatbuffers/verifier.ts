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
  constructor(
    readonly rule: FlatBufferRule,
    readonly offset: number,
    readonly what: string,
  ) {}
}

/** Field kinds as small integers (one hidden class for every compiled field: monomorphic property loads). */
const SCALAR = 0;
const STRING = 1;
const VECTOR = 2;
const TABLE = 3;
const UNION = 4;

/**
 * A field compiled for the walk: every field has the same shape whatever
 * its kind (a {@link FieldSchema} union has five, which makes V8's property
 * loads megamorphic and cost as much as the checks themselves).
 */
class CompiledField {
  /** Byte of the field's slot in the vtable (`4 + 2 × id`). */
  readonly slot: number;
  /** Union only: byte of its `_type` slot. */
  readonly typeSlot: number;
  readonly kind: number;
  /** Scalar width, or vector element width (bytes); 4 for offsets. */
  readonly size: number;
  readonly required: boolean;
  private sub: CompiledTable | undefined;
  private members: (CompiledTable | undefined)[] | undefined;

  constructor(readonly schema: FieldSchema) {
    this.slot = 4 + 2 * schema.id;
    this.typeSlot = 2 + 2 * schema.id;
    this.required = schema.required === true;
    switch (schema.kind) {
      case 'scalar':
        this.kind = SCALAR;
        this.size = schema.size;
        break;
      case 'string':
        this.kind = STRING;
        this.size = 1;
        break;
      case 'vector':
        this.kind = VECTOR;
        this.size = schema.elemSize;
        break;
      case 'table':
        this.kind = TABLE;
        this.size = 4;
        break;
      case 'union':
        this.kind = UNION;
        this.size = 4;
        break;
    }
    this.sub = undefined;
    this.members = undefined;
  }

  get name(): string {
    return this.schema.name;
  }

  /** Table field: the table's compiled schema (resolved on first use: schemas may be recursive). */
  table(): CompiledTable {
    if (this.sub === undefined) this.sub = compile((this.schema as Extract<FieldSchema, { kind: 'table' }>).table());
    return this.sub;
  }

  /** Union field: the member table of union type `type` (1 …), or undefined for an unknown type. */
  member(type: number): CompiledTable | undefined {
    if (this.members === undefined) {
      const m = (this.schema as Extract<FieldSchema, { kind: 'union' }>).members;
      const out: (CompiledTable | undefined)[] = [];
      for (let i = 0; i < 256; i++) out.push(undefined);
      for (const [k, f] of Object.entries(m)) {
        const i = Number(k);
        if (Number.isInteger(i) && i > 0 && i < 256) out[i] = compile(f());
      }
      this.members = out;
    }
    return this.members[type];
  }
}

/** A table schema compiled for the walk. */
interface CompiledTable {
  readonly name: string;
  readonly fields: readonly CompiledField[];
}

/** Compiled schemas, one per {@link TableSchema} object. */
const compiled = new WeakMap<TableSchema, CompiledTable>();

function compile(schema: TableSchema): CompiledTable {
  let c = compiled.get(schema);
  if (c === undefined) {
    c = { name: schema.name, fields: schema.fields.map((f) => new CompiledField(f)) };
    compiled.set(schema, c);
  }
  return c;
}

/**
 * Verifies `buf` as a FlatBuffer whose root table is `root` (RFC-like rules
 * in the module docstring). Returns `undefined` when every rule holds, else
 * the first problem found (rule id, byte offset, field path). Never throws
 * on any input.
 */
export function verifyFlatBuffer(buf: Uint8Array, root: TableSchema, opts: VerifyOptions = NO_OPTIONS): VerifyResult {
  // One walker, reused: the walk is synchronous and never re-entered, and
  // allocating its state per buffer costs as much as verifying a small table.
  const v = shared;
  v.reset(buf, opts);
  if (root !== lastRoot) {
    lastRoot = root;
    lastCompiled = compile(root);
  }
  try {
    v.verifyRoot(lastCompiled as CompiledTable, opts.identifier);
  } catch (err) {
    v.release();
    if (err instanceof Reject) return v.problem(err);
    throw err;
  }
  v.release();
  return undefined;
}

/** The options of a call that gives none (one object, not one per call). */
const NO_OPTIONS: VerifyOptions = {};

const EMPTY = new Uint8Array(0);

/** The last identifier seen and its 4 bytes as a little-endian 32-bit word (one compare per buffer, not four). */
let lastIdentifier = '';
let lastIdentifierWord = 0;

/** `identifier`'s first 4 UTF-16 code units as the signed 32-bit word {@link Verifier.i32} reads (a code unit above 255 never matches a byte). */
function identifierWord(identifier: string): number {
  if (identifier !== lastIdentifier) {
    let w = 0;
    for (let i = 3; i >= 0; i--) {
      const c = identifier.charCodeAt(i);
      // NaN (shorter than 4) or above 0xff: no byte equals it, so no buffer may match.
      if (!(c <= 0xff)) {
        lastIdentifier = identifier;
        lastIdentifierWord = NO_WORD;
        return NO_WORD;
      }
      w = (w << 8) | c;
    }
    lastIdentifier = identifier;
    lastIdentifierWord = w;
  }
  return lastIdentifierWord;
}
/** Not a value of a signed 32-bit word: an identifier no buffer can carry. */
const NO_WORD = 0x1_0000_0000;
/** The root schema of the previous call and its compiled form (a WeakMap look-up per buffer is measurable). */
let lastRoot: TableSchema | undefined;
let lastCompiled: CompiledTable | undefined;

/** The walk over one buffer; see {@link verifyFlatBuffer}. */
class Verifier {
  private buf: Uint8Array = EMPTY;
  private size = 0;
  private depth = 0;
  /** Depth of the table being checked when a rule failed. */
  private failDepth = 0;
  private tables = 0;
  private maxDepth = DEFAULT_MAX_DEPTH;
  private maxTables = DEFAULT_MAX_TABLES;
  private rootName = '';
  /**
   * The path from the root to a failed rule: the table and the field being
   * checked at each depth (1-based; slots are overwritten, never pushed),
   * written by each table's catch as the failure unwinds (depths
   * 1..failDepth) and built into a string by `problem`: a sound buffer
   * costs no path work.
   */
  private readonly tableAt: (CompiledTable | undefined)[] = [];
  private readonly fieldAt: (CompiledField | undefined)[] = [];

  /** Drops the buffer walked (the walker outlives it). */
  release(): void {
    this.buf = EMPTY;
  }

  /** Starts a walk over `buf` (the previous one's state is dropped). */
  reset(buf: Uint8Array, opts: VerifyOptions): void {
    this.buf = buf;
    this.size = buf.length;
    this.depth = 0;
    this.failDepth = 0;
    this.tables = 0;
    this.maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.maxTables = opts.maxTables ?? DEFAULT_MAX_TABLES;
  }

  /** `Root.field<Member>.field…`: a table entered through a union is shown `<Name>`. */
  private pathText(): string {
    let out = this.rootName;
    for (let d = 1; d <= this.depth; d++) {
      if (d > 1 && this.fieldAt[d - 1]?.kind === UNION) out += `<${this.tableAt[d]?.name ?? ''}>`;
      const f = this.fieldAt[d];
      if (f !== undefined) out += `.${f.name}`;
    }
    return out;
  }

  /**
   * Unwinds with a {@link Reject}; the field path is filled in as the
   * failure unwinds through each table's field loop (see `verifyTable`),
   * so the message is built by {@link Verifier.problem} afterwards.
   */
  private fail(rule: FlatBufferRule, offset: number, what: string): never {
    this.failDepth = this.depth;
    throw new Reject(rule, offset, what);
  }

  /** The problem of a walk that failed with `r`: the path is complete once the Reject has unwound to the root. */
  problem(r: Reject): FlatBufferProblem {
    this.depth = this.failDepth;
    const path = this.pathText();
    return { rule: r.rule, offset: r.offset, path, message: `${path} at byte ${r.offset}: ${r.what} (${r.rule})` };
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

  verifyRoot(root: CompiledTable, identifier: string | undefined): void {
    this.rootName = root.name;
    const min = identifier === undefined ? 4 : 8;
    if (this.size < min) this.fail('buffer-size', 0, `buffer of ${this.size} bytes is shorter than the ${min} bytes of a root offset${identifier === undefined ? '' : ' and file identifier'}`);
    if (this.size > MAX_BUFFER_SIZE) this.fail('buffer-size', 0, `buffer of ${this.size} bytes exceeds ${MAX_BUFFER_SIZE}`);
    if (identifier !== undefined && this.i32(4) !== identifierWord(identifier)) {
      const seen = Buffer.from(this.buf.subarray(4, 8)).toString('latin1');
      this.fail('identifier', 4, `file identifier is ${JSON.stringify(seen)}, expected ${JSON.stringify(identifier)}`);
    }
    this.verifyTable(this.followOffset(0), root);
  }

  /** Reads the uoffset at `pos` and returns the position it points to (C++ `VerifyOffset`). */
  private followOffset(pos: number): number {
    if ((pos & 3) !== 0) this.fail('offset-alignment', pos, 'offset is not aligned to 4 bytes');
    if (!this.inBounds(pos, 4)) this.fail('offset-bounds', pos, 'offset lies outside the buffer');
    const o = this.u32(pos);
    if (o === 0) this.fail('offset-zero', pos, 'offset is 0');
    if (o > 0x7fff_ffff) this.fail('offset-sign', pos, `offset ${o} is negative as a signed 32-bit value`);
    const target = pos + o;
    if (!this.inBounds(target, 1)) this.fail('offset-bounds', pos, `offset ${o} points to byte ${target}, past the end (${this.size} bytes)`);
    return target;
  }

  private verifyTable(table: number, schema: CompiledTable): void {
    const depth = ++this.depth;
    this.tables++;
    // The field index, -1 while the table's own header is checked.
    let i = -1;
    try {
      if (depth > this.maxDepth) this.fail('depth', table, `tables nested deeper than ${this.maxDepth}`);
      if (this.tables > this.maxTables) this.fail('tables', table, `more than ${this.maxTables} tables`);
      if ((table & 3) !== 0) this.fail('offset-alignment', table, 'table is not aligned to 4 bytes');
      if (!this.inBounds(table, 4)) this.fail('offset-bounds', table, 'table lies outside the buffer');
      const vtable = table - this.i32(table);
      if ((vtable & 1) !== 0) this.fail('vtable-alignment', table, `vtable at byte ${vtable} is not aligned to 2 bytes`);
      if (!this.inBounds(vtable, 4)) this.fail('vtable-bounds', table, `vtable at byte ${vtable} lies outside the buffer`);
      const vsize = this.u16(vtable);
      const tsize = this.u16(vtable + 2);
      if ((vsize & 1) !== 0 || vsize < 4) this.fail('vtable-size', vtable, `vtable size ${vsize} is odd or below 4`);
      if (!this.inBounds(vtable, vsize)) this.fail('vtable-bounds', vtable, `vtable of ${vsize} bytes at byte ${vtable} runs past the end`);
      if (tsize < 4) this.fail('vtable-size', vtable + 2, `table size ${tsize} is below the 4 bytes of its vtable offset`);
      if (!this.inBounds(table, tsize)) this.fail('field-bounds', table, `table of ${tsize} bytes runs past the end`);
      const fields = schema.fields;
      const end = table + tsize;
      const b = this.buf;
      for (i = 0; i < fields.length; i++) {
        const f = fields[i] as CompiledField;
        if (f.kind === SCALAR) {
          // Fast path for the common case, a scalar inside its table and
          // aligned (the table is inside the buffer, so the field is too);
          // anything else takes the ordered checks below.
          const slot = f.slot;
          if (slot + 2 > vsize) continue;
          const off = (b[vtable + slot] as number) | ((b[vtable + slot + 1] as number) << 8);
          if (off === 0) {
            if (f.required) this.fail('required', table, 'required field is absent');
            continue;
          }
          const pos = table + off;
          const size = f.size;
          if (pos + size <= end && (pos & (size - 1)) === 0) continue;
        }
        this.verifyField(table, vtable, vsize, tsize, f);
      }
    } catch (err) {
      // A rule failed in this table or below it: record the table and
      // field for the path (on unwinding only, so a sound buffer does no
      // path work).
      this.tableAt[depth] = schema;
      this.fieldAt[depth] = i < 0 ? undefined : schema.fields[i];
      throw err;
    }
    this.depth--;
  }

  /** Position of the field whose vtable slot is at byte `slot` of the vtable, or 0 when absent. */
  private fieldPos(table: number, vtable: number, vsize: number, slot: number): number {
    if (slot + 2 > vsize) return 0;
    const off = this.u16(vtable + slot);
    return off === 0 ? 0 : table + off;
  }

  /** Checks a present field's inline bytes `[pos, pos + size)`. */
  private inline(table: number, tsize: number, pos: number, size: number): void {
    if (!this.inBounds(pos, size)) this.fail('field-bounds', pos, `field of ${size} bytes runs past the end`);
    if ((pos & (size - 1)) !== 0) this.fail('field-alignment', pos, `field of ${size} bytes is not aligned to ${size}`);
    if (pos + size > table + tsize) this.fail('field-outside-table', pos, `field ends at byte ${pos + size}, outside its table (bytes ${table}..${table + tsize})`);
  }

  private verifyField(table: number, vtable: number, vsize: number, tsize: number, f: CompiledField): void {
    const pos = this.fieldPos(table, vtable, vsize, f.slot);
    const kind = f.kind;
    if (kind === UNION) {
      const typePos = this.fieldPos(table, vtable, vsize, f.typeSlot);
      let type = 0;
      if (typePos !== 0) {
        this.inline(table, tsize, typePos, 1);
        type = this.buf[typePos] as number;
      }
      if (type === 0) {
        if (pos !== 0) this.fail('union-mismatch', pos, 'union type is NONE but a value is present');
        if (f.required) this.fail('required', table, 'required union is absent');
        return;
      }
      const member = f.member(type);
      if (member === undefined) this.fail('union-unknown', typePos, `union type ${type} is not a member`);
      if (pos === 0) this.fail('union-mismatch', typePos, `union type ${type} has no value`);
      this.inline(table, tsize, pos, 4);
      this.verifyTable(this.followOffset(pos), member);
      return;
    }
    if (pos === 0) {
      if (f.required) this.fail('required', table, 'required field is absent');
      return;
    }
    if (kind === SCALAR) {
      this.inline(table, tsize, pos, f.size);
      return;
    }
    this.inline(table, tsize, pos, 4);
    const target = this.followOffset(pos);
    if (kind === VECTOR) {
      this.vector(target, f.size);
    } else if (kind === STRING) {
      const end = this.vector(target, 1);
      if (!this.inBounds(end, 1)) this.fail('string-nul', end, 'string has no NUL terminator inside the buffer');
      if (this.buf[end] !== 0) this.fail('string-nul', end, 'string is not NUL-terminated');
    } else {
      this.verifyTable(target, f.table());
    }
  }

  /** Checks a vector (count, then elements) at `vec`; returns the byte after its last element (C++ `VerifyVectorOrString`). */
  private vector(vec: number, elemSize: number): number {
    if ((vec & 3) !== 0) this.fail('offset-alignment', vec, 'vector is not aligned to 4 bytes');
    if (!this.inBounds(vec, 4)) this.fail('vector-bounds', vec, 'vector count lies outside the buffer');
    const count = this.u32(vec);
    if (count >= Math.floor(MAX_BUFFER_SIZE / elemSize)) this.fail('vector-count', vec, `vector count ${count} × ${elemSize} bytes overflows the maximum buffer size`);
    const bytes = 4 + count * elemSize;
    if (!this.inBounds(vec, bytes)) this.fail('vector-bounds', vec, `vector of ${count} elements (${bytes} bytes) runs past the end (${this.size} bytes)`);
    if (elemSize > 4 && (vec + 4) % elemSize !== 0) this.fail('offset-alignment', vec + 4, `elements of ${elemSize} bytes are not aligned`);
    return vec + bytes;
  }
}

/** The one walker {@link verifyFlatBuffer} uses. */
const shared = new Verifier();
