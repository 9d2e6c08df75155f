/**
 * Proton wire codec (pure). Rules: suites/proton/SPEC.md §3 (discriminators),
 * §4–§6 (4-byte big-endian items), §8.2 (application error codes); fixed in
 * shared/PROTOCOLS.md "Proton".
 */

/** Size of every payload item (bytes): a 4-byte unsigned big-endian integer (PROTON-1.3). */
export const ITEM_SIZE = 4;

/** Largest item value (2^32 − 1). */
export const MAX_ITEM = 0xffff_ffff;

/** Stream types, named. */
export type StreamKind = 'event' | 'commit' | 'action' | 'reset';

/**
 * The discriminator table (PROTON-3.1; SPEC §3, §9): the first byte a client
 * writes on a stream, by stream type. The one copy in the project; every
 * other name for a discriminator ({@link Discriminator}, {@link streamKindOf},
 * frames, fuzz generators, the reference client) is read from it.
 */
export const DISCRIMINATORS: Readonly<Record<StreamKind, number>> = { event: 0x01, commit: 0x02, action: 0x03, reset: 0xff };

/** The stream types, in discriminator order (event, commit, action, reset). */
export const STREAM_KINDS: readonly StreamKind[] = ['event', 'commit', 'action', 'reset'];

/** Stream discriminators by their SPEC names (PROTON-3.1); the values of {@link DISCRIMINATORS}. */
export const Discriminator = {
  Event: DISCRIMINATORS.event,
  StateCommit: DISCRIMINATORS.commit,
  Action: DISCRIMINATORS.action,
  Reset: DISCRIMINATORS.reset,
} as const;

const KIND_OF_BYTE: ReadonlyMap<number, StreamKind> = new Map(STREAM_KINDS.map((k) => [DISCRIMINATORS[k], k]));

/** Maps a discriminator byte to its stream type, or undefined for an unknown byte (PROTON-3.2). */
export function streamKindOf(byte: number): StreamKind | undefined {
  return KIND_OF_BYTE.get(byte);
}

/** What the items of a stream type are called, from the client (`event id`) and from the server (`ack`). */
export const ITEM_NAMES: Readonly<Record<StreamKind, { readonly client: string; readonly server: string }>> = {
  event: { client: 'event id', server: 'ack' },
  commit: { client: 'commit id', server: 'answer' },
  action: { client: 'byte', server: 'action item' },
  reset: { client: 'byte', server: 'byte' },
};

/** Application error codes of CONNECTION_CLOSE (PROTON-8.2, PROTOCOLS.md). */
export const CloseCode = {
  RESET_OK: 0x0,
  PROTOCOL_VIOLATION: 0x1,
  SECOND_CONNECTION: 0x2,
  IDENT_TIMEOUT: 0x3,
  IO_TIMEOUT: 0x4,
  NOT_READY: 0x5,
} as const;

/** Name of an application error code, e.g. `0x1 PROTOCOL_VIOLATION`; unknown codes in hex. */
export function closeCodeName(code: number): string {
  const entry = Object.entries(CloseCode).find(([, v]) => v === code);
  return `0x${code.toString(16)}${entry ? ' ' + entry[0] : ''}`;
}

/**
 * Encodes one item (4 bytes, big-endian).
 * @throws RangeError when `value` is not an integer in [0, 2^32).
 */
export function encodeItem(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > MAX_ITEM) {
    throw new RangeError(`encodeItem: value must be an integer in [0, 2^32), got ${String(value)}`);
  }
  const out = new Uint8Array(ITEM_SIZE);
  new DataView(out.buffer).setUint32(0, value, false);
  return out;
}

/** Encodes several items back to back. */
export function encodeItems(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * ITEM_SIZE);
  values.forEach((v, i) => out.set(encodeItem(v), i * ITEM_SIZE));
  return out;
}

/** Bytes a client writes to open a stream of a type and send items on it: discriminator then items. */
export function streamBytes(discriminator: number, items: readonly number[] = []): Uint8Array {
  if (!Number.isInteger(discriminator) || discriminator < 0 || discriminator > 0xff) {
    throw new RangeError(`streamBytes: discriminator must be a byte, got ${String(discriminator)}`);
  }
  const body = encodeItems(items);
  const out = new Uint8Array(1 + body.length);
  out[0] = discriminator;
  out.set(body, 1);
  return out;
}

/** The StateCommit answer: `(id × 2) mod 2^32` (PROTON-5.1). */
export function commitAnswer(id: number): number {
  return (id * 2) % 0x1_0000_0000;
}

/**
 * Splits a byte stream into 4-byte items, keeping a partial item between
 * calls (items may be split or coalesced across STREAM frames, PROTON-4.4).
 */
export class ItemDecoder {
  /** The bytes of the incomplete item held, big-endian, as a number. */
  private acc = 0;
  private len = 0;

  /** Bytes of an incomplete item held (0–3). */
  get partial(): number {
    return this.len;
  }

  /** Appends bytes; returns the items they complete, in order. */
  push(bytes: Uint8Array): number[] {
    const items: number[] = [];
    this.pushInto(bytes, 0, bytes.length, items);
    return items;
  }

  /**
   * {@link push} with no array per call, for a caller that decodes at every
   * event: appends `bytes[from..to)` and writes the items they complete to
   * `items[0..count)` (entries beyond are left as they were).
   * @returns count, the number of items completed.
   */
  pushInto(bytes: Uint8Array, from: number, to: number, items: number[]): number {
    let count = 0;
    let acc = this.acc;
    let len = this.len;
    for (let i = from; i < to; i++) {
      acc = (acc << 8) | bytes[i]!;
      if (++len === ITEM_SIZE) {
        items[count++] = acc >>> 0;
        acc = 0;
        len = 0;
      }
    }
    this.acc = acc;
    this.len = len;
    return count;
  }

  /** Drops the incomplete item held, if any (a stream ended by RESET_STREAM, PROTON-8.3 `ends-stream`). */
  clear(): void {
    this.acc = 0;
    this.len = 0;
  }
}

/** Formats an item as 8 hex digits, the way reports show it. */
export function itemHex(value: number): string {
  return value.toString(16).padStart(8, '0');
}

/** What a server has read of a client stream before a write: its discriminator (once written) and the bytes after it. */
export interface ClientStreamRead {
  /** The discriminator byte, once written. */
  readonly discriminator: number | undefined;
  /** Bytes written after the discriminator (bytes). */
  readonly body: number;
}

/** What a client write means to a server: one phrase per part. */
export interface ExplainedWrite {
  /** Phrases, in wire order, e.g. `discriminator 0x01 (event)`, `event ids 1, 2`, `1 byte of an item (partial: PROTON-1.3)`. */
  readonly parts: readonly string[];
  /** The discriminator the write carries, when it carries the stream's first byte. */
  readonly discriminator?: number;
}

const plural = (n: number, what: string) => `${n} ${what}${n > 1 ? 's' : ''}`;

/**
 * Explains bytes a client writes on a stream, as a Proton server reads them
 * (SPEC §1.3, §3–§6, §9): the discriminator and its stream type, whole
 * items, the bytes of a partial item, bytes on the Action stream (6.1) or
 * after the reset discriminator (9.2). Pure; `read` is the stream before
 * the write. `discriminatorRule` is the rule the model says the
 * discriminator breaks on its connection (PROTON-3.3 for a type already
 * open; an unknown byte is PROTON-3.2 by itself).
 */
export function explainClientWrite(read: ClientStreamRead, bytes: Uint8Array, discriminatorRule?: string): ExplainedWrite {
  const parts: string[] = [];
  let disc = read.discriminator;
  let rest = bytes;
  let first: number | undefined;
  if (disc === undefined && rest.length > 0) {
    disc = first = rest[0]!;
    const k = streamKindOf(disc);
    const why = k === undefined ? 'unknown: PROTON-3.2' : discriminatorRule === 'PROTON-3.3' ? `${k} again: PROTON-3.3` : discriminatorRule !== undefined ? `${k}: ${discriminatorRule}` : k;
    parts.push(`discriminator 0x${disc.toString(16).padStart(2, '0')} (${why})`);
    rest = rest.subarray(1);
  }
  const k = disc === undefined ? undefined : streamKindOf(disc);
  if (rest.length > 0) {
    if (k === 'event' || k === 'commit') {
      const name = ITEM_NAMES[k].client;
      const lead = first === undefined ? read.body % ITEM_SIZE : 0;
      const head = lead > 0 ? Math.min(ITEM_SIZE - lead, rest.length) : 0;
      if (head > 0) parts.push(`${head} more byte${head > 1 ? 's' : ''} of an item${lead + head === ITEM_SIZE ? ` (completes it: ${name})` : ''}`);
      const body = rest.subarray(head);
      const whole = Math.floor(body.length / ITEM_SIZE);
      const ids: number[] = [];
      for (let i = 0; i < whole; i++) ids.push(new DataView(body.buffer, body.byteOffset + i * ITEM_SIZE, ITEM_SIZE).getUint32(0, false));
      if (whole > 0) parts.push(`${name}${ids.length > 1 ? 's' : ''} ${ids.join(', ')}`);
      const tail = body.length % ITEM_SIZE;
      if (tail > 0) parts.push(`${plural(tail, 'byte')} of an item (partial: PROTON-1.3)`);
    } else if (k === 'action') {
      parts.push(`${plural(rest.length, 'byte')} on the Action stream (PROTON-6.1)`);
    } else if (k === 'reset') {
      parts.push(`${plural(rest.length, 'byte')} after the reset discriminator (ignored: PROTON-9.2)`);
    } else {
      parts.push(`${rest.length} more byte${rest.length > 1 ? 's' : ''}`);
    }
  }
  return { parts, ...(first !== undefined ? { discriminator: first } : {}) };
}

/**
 * Explains the end of a client stream's sending side (FIN, SPEC §3.5, §4.6,
 * §5.5) or its abort (`RESET_STREAM`/`STOP_SENDING`, §3.5, §8.3), as a
 * server reads it.
 */
export function explainClientEnd(read: ClientStreamRead, how: { readonly type: 'fin' } | { readonly type: 'reset' | 'stop_sending'; readonly code: number }, streamName: string): string {
  const k = read.discriminator === undefined ? undefined : streamKindOf(read.discriminator);
  const partial = k === 'event' || k === 'commit' ? read.body % ITEM_SIZE : 0;
  if (how.type === 'fin') {
    if (read.discriminator === undefined) return 'FIN before any discriminator (PROTON-3.5)';
    if (partial > 0) return `FIN inside an item, ${partial} of 4 bytes (${k === 'event' ? 'PROTON-4.6' : 'PROTON-5.5'})`;
    return `FIN on ${streamName} (${k ?? 'unknown'})`;
  }
  const frame = how.type === 'reset' ? 'RESET_STREAM' : 'STOP_SENDING';
  return `${frame} ${how.code} on ${streamName} (${read.discriminator === undefined ? 'before its discriminator: PROTON-3.5' : k === 'reset' ? 'reset stream' : `identified stream: ${how.type === 'reset' ? 'PROTON-8.3' : 'PROTON-8.6'}`})`;
}

/**
 * Explains bytes a server sent on a stream of type `kind` (undefined: not
 * identified): `ack 00000003`, `answer 0000002a`, `action item 00000001`;
 * items as 8 hex digits, as reports show them.
 */
export function explainServerData(kind: StreamKind | undefined, hex: string): string {
  const what = kind === undefined ? 'bytes' : ITEM_NAMES[kind].server;
  return `${what} ${(hex.match(/.{8}/g) ?? [hex]).join(' ')}`;
}
