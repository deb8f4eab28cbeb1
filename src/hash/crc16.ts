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

/** Whether a string is plain ASCII, so its UTF-16 code units are its UTF-8 bytes. */
function ascii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** The slot of a key (a string as UTF-8, bytes as given, a number as its decimal text). */
export function slotOf(key: unknown): number {
  if (key instanceof Uint8Array) return slotOfBytes(key);
  const s = typeof key === 'string' ? key : String(key);
  if (!ascii(s)) return slotOfBytes(Buffer.from(s));
  // The common case without an allocation.
  let from = 0;
  let to = s.length;
  const open = s.indexOf('{');
  if (open >= 0) {
    const close = s.indexOf('}', open + 1);
    if (close > open + 1) {
      from = open + 1;
      to = close;
    }
  }
  let crc = 0;
  for (let i = from; i < to; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ s.charCodeAt(i)) & 0xff]!;
  return crc & (SLOT_COUNT - 1);
}
