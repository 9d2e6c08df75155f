/**
 * Proton wire codec (pure). Rules: suites/proton/SPEC.md §3 (discriminators),
 * §4–§6 (4-byte big-endian items), §8.2 (application error codes); fixed in
 * shared/PROTOCOLS.md "Proton".
 */

/** Size of every payload item (bytes): a 4-byte unsigned big-endian integer (PROTON-1.3). */
export const ITEM_SIZE = 4;

/** Largest item value (2^32 − 1). */
export const MAX_ITEM = 0xffff_ffff;

/** Stream discriminators: the first byte a client writes on a stream (PROTON-3.1). */
export const Discriminator = {
  Event: 0x01,
  StateCommit: 0x02,
  Action: 0x03,
  Reset: 0xff,
} as const;

/** Stream types, named. */
export type StreamKind = 'event' | 'commit' | 'action' | 'reset';

/** Maps a discriminator byte to its stream type, or undefined for an unknown byte (PROTON-3.2). */
export function streamKindOf(byte: number): StreamKind | undefined {
  switch (byte) {
    case Discriminator.Event:
      return 'event';
    case Discriminator.StateCommit:
      return 'commit';
    case Discriminator.Action:
      return 'action';
    case Discriminator.Reset:
      return 'reset';
    default:
      return undefined;
  }
}

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
  private buf = new Uint8Array(ITEM_SIZE);
  private len = 0;

  /** Bytes of an incomplete item held (0–3). */
  get partial(): number {
    return this.len;
  }

  /** Appends bytes; returns the items they complete, in order. */
  push(bytes: Uint8Array): number[] {
    const items: number[] = [];
    for (const b of bytes) {
      this.buf[this.len++] = b;
      if (this.len === ITEM_SIZE) {
        items.push(((this.buf[0]! << 24) | (this.buf[1]! << 16) | (this.buf[2]! << 8) | this.buf[3]!) >>> 0);
        this.len = 0;
      }
    }
    return items;
  }
}

/** Formats an item as 8 hex digits, the way reports show it. */
export function itemHex(value: number): string {
  return value.toString(16).padStart(8, '0');
}
