/**
 * Redis Cluster's key slots: CRC16 (XMODEM: polynomial 0x1021, initial 0) of the key, or of its
 * `{hash tag}` when it has one, modulo 16384. The same rule as the server's keyHashSlot.
 */
import { Buffer } from 'node:buffer';

export const SLOT_COUNT = 16384;

const TABLE = ((): Uint16Array => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

export function crc16(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ bytes[i]!) & 0xff]!;
  return crc;
}

const OPEN = 0x7b; // '{'
const CLOSE = 0x7d; // '}'

/** The slot of a key given as bytes: only the part between the first '{' and the next '}' counts, when not empty. */
export function slotOfBytes(bytes: Uint8Array): number {
  const open = bytes.indexOf(OPEN);
  if (open >= 0) {
    const close = bytes.indexOf(CLOSE, open + 1);
    if (close > open + 1) return crc16(bytes, open + 1, close) & (SLOT_COUNT - 1);
  }
  return crc16(bytes) & (SLOT_COUNT - 1);
}

/** The slot of a key (a string as UTF-8, bytes as given, a number as its decimal text). */
export function slotOf(key: unknown): number {
  if (typeof key !== 'string') return key instanceof Uint8Array ? slotOfBytes(key) : slotOf(String(key));
  // One pass over a plain ASCII key with no '{' (nearly every key), which is its own UTF-8:
  // no allocation, no second scan. Anything else is judged on its bytes.
  let crc = 0;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c > 0x7f) return slotOfBytes(Buffer.from(key));
    if (c === OPEN) {
      const close = key.indexOf('}', i + 1);
      if (close > i + 1) return slotOfTag(key, i + 1, close);
      // No tag after all: the whole key counts, and this was its first '{'.
      return slotOfRest(key, i, crc);
    }
    crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ c) & 0xff]!;
  }
  return crc & (SLOT_COUNT - 1);
}

/** The slot of a string key's {tag}, between `from` and `to`. */
function slotOfTag(key: string, from: number, to: number): number {
  let crc = 0;
  for (let i = from; i < to; i++) {
    const c = key.charCodeAt(i);
    if (c > 0x7f) return slotOfBytes(Buffer.from(key));
    crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ c) & 0xff]!;
  }
  return crc & (SLOT_COUNT - 1);
}

/** The CRC of a key with no tag, carried on from `from`. */
function slotOfRest(key: string, from: number, crc: number): number {
  for (let i = from; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c > 0x7f) return slotOfBytes(Buffer.from(key));
    crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ c) & 0xff]!;
  }
  return crc & (SLOT_COUNT - 1);
}
