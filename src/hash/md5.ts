/**
 * MD5 (RFC 1321) in plain TypeScript.
 *
 * Key hashing for client-side sharding calls this once per command, usually
 * on keys of a few dozen bytes, so the implementation is shaped for that:
 * strings are UTF-8 encoded by hand into a module-level scratch block that is
 * padded and compressed in place, and the running state lives in a
 * module-level Int32Array. Nothing is allocated per call except the results
 * that `md5`/`md5Hex` return, or when an input does not fit the scratch block.
 * Sharing module-level buffers is safe because hashing is synchronous.
 */

/** Anything that can be hashed: strings are hashed as their UTF-8 bytes. */
export type Md5Input = string | Uint8Array;

/** Bytes compressed per pass; long inputs are fed through in chunks of this size. */
const CHUNK_BYTES = 8192;
// The extra 128 bytes leave room for padding a tail of up to CHUNK_BYTES bytes.
const scratchBuffer = new ArrayBuffer(CHUNK_BYTES + 128);
const scratchBytes = new Uint8Array(scratchBuffer);
const scratchWords = new Int32Array(scratchBuffer);

/** Running MD5 state (A, B, C, D) as signed 32-bit integers. */
const state = new Int32Array(4);

// MD5 reads its message as little-endian words; on the (rare) big-endian host
// the Int32Array view sees them byte-swapped and must be fixed up first.
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

const textEncoder = new TextEncoder();

const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function resetState(): void {
  state[0] = 0x67452301;
  state[1] = 0xefcdab89 | 0;
  state[2] = 0x98badcfe | 0;
  state[3] = 0x10325476;
}

function swapWords(words: number): void {
  for (let i = 0, p = 0; i < words; i++, p += 4) {
    scratchWords[i] =
      scratchBytes[p]! | (scratchBytes[p + 1]! << 8) | (scratchBytes[p + 2]! << 16) | (scratchBytes[p + 3]! << 24);
  }
}

/** Runs the compression function over the first `blocks` 64-byte blocks of the scratch buffer. */
function compress(blocks: number): void {
  if (!LITTLE_ENDIAN) swapWords(blocks * 16);
  const w = scratchWords;
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  for (let o = 0, end = blocks * 16; o < end; o += 16) {
    const a0 = a;
    const b0 = b;
    const c0 = c;
    const d0 = d;
    const x0 = w[o]!;
    const x1 = w[o + 1]!;
    const x2 = w[o + 2]!;
    const x3 = w[o + 3]!;
    const x4 = w[o + 4]!;
    const x5 = w[o + 5]!;
    const x6 = w[o + 6]!;
    const x7 = w[o + 7]!;
    const x8 = w[o + 8]!;
    const x9 = w[o + 9]!;
    const x10 = w[o + 10]!;
    const x11 = w[o + 11]!;
    const x12 = w[o + 12]!;
    const x13 = w[o + 13]!;
    const x14 = w[o + 14]!;
    const x15 = w[o + 15]!;

    // 4 rounds x 16 steps, unrolled. The additive constants, floor(|sin(i + 1)| * 2^32),
    // are written as signed 32-bit values so the sums stay in int32 arithmetic.
    a = (a + (d ^ (b & (c ^ d))) + x0 + (-680876936)) | 0;
    a = (((a << 7) | (a >>> 25)) + b) | 0;
    d = (d + (c ^ (a & (b ^ c))) + x1 + (-389564586)) | 0;
    d = (((d << 12) | (d >>> 20)) + a) | 0;
    c = (c + (b ^ (d & (a ^ b))) + x2 + 606105819) | 0;
    c = (((c << 17) | (c >>> 15)) + d) | 0;
    b = (b + (a ^ (c & (d ^ a))) + x3 + (-1044525330)) | 0;
    b = (((b << 22) | (b >>> 10)) + c) | 0;
    a = (a + (d ^ (b & (c ^ d))) + x4 + (-176418897)) | 0;
    a = (((a << 7) | (a >>> 25)) + b) | 0;
    d = (d + (c ^ (a & (b ^ c))) + x5 + 1200080426) | 0;
    d = (((d << 12) | (d >>> 20)) + a) | 0;
    c = (c + (b ^ (d & (a ^ b))) + x6 + (-1473231341)) | 0;
    c = (((c << 17) | (c >>> 15)) + d) | 0;
    b = (b + (a ^ (c & (d ^ a))) + x7 + (-45705983)) | 0;
    b = (((b << 22) | (b >>> 10)) + c) | 0;
    a = (a + (d ^ (b & (c ^ d))) + x8 + 1770035416) | 0;
    a = (((a << 7) | (a >>> 25)) + b) | 0;
    d = (d + (c ^ (a & (b ^ c))) + x9 + (-1958414417)) | 0;
    d = (((d << 12) | (d >>> 20)) + a) | 0;
    c = (c + (b ^ (d & (a ^ b))) + x10 + (-42063)) | 0;
    c = (((c << 17) | (c >>> 15)) + d) | 0;
    b = (b + (a ^ (c & (d ^ a))) + x11 + (-1990404162)) | 0;
    b = (((b << 22) | (b >>> 10)) + c) | 0;
    a = (a + (d ^ (b & (c ^ d))) + x12 + 1804603682) | 0;
    a = (((a << 7) | (a >>> 25)) + b) | 0;
    d = (d + (c ^ (a & (b ^ c))) + x13 + (-40341101)) | 0;
    d = (((d << 12) | (d >>> 20)) + a) | 0;
    c = (c + (b ^ (d & (a ^ b))) + x14 + (-1502002290)) | 0;
    c = (((c << 17) | (c >>> 15)) + d) | 0;
    b = (b + (a ^ (c & (d ^ a))) + x15 + 1236535329) | 0;
    b = (((b << 22) | (b >>> 10)) + c) | 0;

    a = (a + (c ^ (d & (b ^ c))) + x1 + (-165796510)) | 0;
    a = (((a << 5) | (a >>> 27)) + b) | 0;
    d = (d + (b ^ (c & (a ^ b))) + x6 + (-1069501632)) | 0;
    d = (((d << 9) | (d >>> 23)) + a) | 0;
    c = (c + (a ^ (b & (d ^ a))) + x11 + 643717713) | 0;
    c = (((c << 14) | (c >>> 18)) + d) | 0;
    b = (b + (d ^ (a & (c ^ d))) + x0 + (-373897302)) | 0;
    b = (((b << 20) | (b >>> 12)) + c) | 0;
    a = (a + (c ^ (d & (b ^ c))) + x5 + (-701558691)) | 0;
    a = (((a << 5) | (a >>> 27)) + b) | 0;
    d = (d + (b ^ (c & (a ^ b))) + x10 + 38016083) | 0;
    d = (((d << 9) | (d >>> 23)) + a) | 0;
    c = (c + (a ^ (b & (d ^ a))) + x15 + (-660478335)) | 0;
    c = (((c << 14) | (c >>> 18)) + d) | 0;
    b = (b + (d ^ (a & (c ^ d))) + x4 + (-405537848)) | 0;
    b = (((b << 20) | (b >>> 12)) + c) | 0;
    a = (a + (c ^ (d & (b ^ c))) + x9 + 568446438) | 0;
    a = (((a << 5) | (a >>> 27)) + b) | 0;
    d = (d + (b ^ (c & (a ^ b))) + x14 + (-1019803690)) | 0;
    d = (((d << 9) | (d >>> 23)) + a) | 0;
    c = (c + (a ^ (b & (d ^ a))) + x3 + (-187363961)) | 0;
    c = (((c << 14) | (c >>> 18)) + d) | 0;
    b = (b + (d ^ (a & (c ^ d))) + x8 + 1163531501) | 0;
    b = (((b << 20) | (b >>> 12)) + c) | 0;
    a = (a + (c ^ (d & (b ^ c))) + x13 + (-1444681467)) | 0;
    a = (((a << 5) | (a >>> 27)) + b) | 0;
    d = (d + (b ^ (c & (a ^ b))) + x2 + (-51403784)) | 0;
    d = (((d << 9) | (d >>> 23)) + a) | 0;
    c = (c + (a ^ (b & (d ^ a))) + x7 + 1735328473) | 0;
    c = (((c << 14) | (c >>> 18)) + d) | 0;
    b = (b + (d ^ (a & (c ^ d))) + x12 + (-1926607734)) | 0;
    b = (((b << 20) | (b >>> 12)) + c) | 0;

    a = (a + (b ^ c ^ d) + x5 + (-378558)) | 0;
    a = (((a << 4) | (a >>> 28)) + b) | 0;
    d = (d + (a ^ b ^ c) + x8 + (-2022574463)) | 0;
    d = (((d << 11) | (d >>> 21)) + a) | 0;
    c = (c + (d ^ a ^ b) + x11 + 1839030562) | 0;
    c = (((c << 16) | (c >>> 16)) + d) | 0;
    b = (b + (c ^ d ^ a) + x14 + (-35309556)) | 0;
    b = (((b << 23) | (b >>> 9)) + c) | 0;
    a = (a + (b ^ c ^ d) + x1 + (-1530992060)) | 0;
    a = (((a << 4) | (a >>> 28)) + b) | 0;
    d = (d + (a ^ b ^ c) + x4 + 1272893353) | 0;
    d = (((d << 11) | (d >>> 21)) + a) | 0;
    c = (c + (d ^ a ^ b) + x7 + (-155497632)) | 0;
    c = (((c << 16) | (c >>> 16)) + d) | 0;
    b = (b + (c ^ d ^ a) + x10 + (-1094730640)) | 0;
    b = (((b << 23) | (b >>> 9)) + c) | 0;
    a = (a + (b ^ c ^ d) + x13 + 681279174) | 0;
    a = (((a << 4) | (a >>> 28)) + b) | 0;
    d = (d + (a ^ b ^ c) + x0 + (-358537222)) | 0;
    d = (((d << 11) | (d >>> 21)) + a) | 0;
    c = (c + (d ^ a ^ b) + x3 + (-722521979)) | 0;
    c = (((c << 16) | (c >>> 16)) + d) | 0;
    b = (b + (c ^ d ^ a) + x6 + 76029189) | 0;
    b = (((b << 23) | (b >>> 9)) + c) | 0;
    a = (a + (b ^ c ^ d) + x9 + (-640364487)) | 0;
    a = (((a << 4) | (a >>> 28)) + b) | 0;
    d = (d + (a ^ b ^ c) + x12 + (-421815835)) | 0;
    d = (((d << 11) | (d >>> 21)) + a) | 0;
    c = (c + (d ^ a ^ b) + x15 + 530742520) | 0;
    c = (((c << 16) | (c >>> 16)) + d) | 0;
    b = (b + (c ^ d ^ a) + x2 + (-995338651)) | 0;
    b = (((b << 23) | (b >>> 9)) + c) | 0;

    a = (a + (c ^ (b | ~d)) + x0 + (-198630844)) | 0;
    a = (((a << 6) | (a >>> 26)) + b) | 0;
    d = (d + (b ^ (a | ~c)) + x7 + 1126891415) | 0;
    d = (((d << 10) | (d >>> 22)) + a) | 0;
    c = (c + (a ^ (d | ~b)) + x14 + (-1416354905)) | 0;
    c = (((c << 15) | (c >>> 17)) + d) | 0;
    b = (b + (d ^ (c | ~a)) + x5 + (-57434055)) | 0;
    b = (((b << 21) | (b >>> 11)) + c) | 0;
    a = (a + (c ^ (b | ~d)) + x12 + 1700485571) | 0;
    a = (((a << 6) | (a >>> 26)) + b) | 0;
    d = (d + (b ^ (a | ~c)) + x3 + (-1894986606)) | 0;
    d = (((d << 10) | (d >>> 22)) + a) | 0;
    c = (c + (a ^ (d | ~b)) + x10 + (-1051523)) | 0;
    c = (((c << 15) | (c >>> 17)) + d) | 0;
    b = (b + (d ^ (c | ~a)) + x1 + (-2054922799)) | 0;
    b = (((b << 21) | (b >>> 11)) + c) | 0;
    a = (a + (c ^ (b | ~d)) + x8 + 1873313359) | 0;
    a = (((a << 6) | (a >>> 26)) + b) | 0;
    d = (d + (b ^ (a | ~c)) + x15 + (-30611744)) | 0;
    d = (((d << 10) | (d >>> 22)) + a) | 0;
    c = (c + (a ^ (d | ~b)) + x6 + (-1560198380)) | 0;
    c = (((c << 15) | (c >>> 17)) + d) | 0;
    b = (b + (d ^ (c | ~a)) + x13 + 1309151649) | 0;
    b = (((b << 21) | (b >>> 11)) + c) | 0;
    a = (a + (c ^ (b | ~d)) + x4 + (-145523070)) | 0;
    a = (((a << 6) | (a >>> 26)) + b) | 0;
    d = (d + (b ^ (a | ~c)) + x11 + (-1120210379)) | 0;
    d = (((d << 10) | (d >>> 22)) + a) | 0;
    c = (c + (a ^ (d | ~b)) + x2 + 718787259) | 0;
    c = (((c << 15) | (c >>> 17)) + d) | 0;
    b = (b + (d ^ (c | ~a)) + x9 + (-343485551)) | 0;
    b = (((b << 21) | (b >>> 11)) + c) | 0;
    a = (a + a0) | 0;
    b = (b + b0) | 0;
    c = (c + c0) | 0;
    d = (d + d0) | 0;
  }
  state[0] = a;
  state[1] = b;
  state[2] = c;
  state[3] = d;
}

/**
 * Appends MD5 padding after `tail` message bytes already in the scratch
 * buffer and compresses the final block(s). `total` is the whole message
 * length in bytes, which the padding records in bits.
 */
function finish(tail: number, total: number): void {
  const bytes = scratchBytes;
  bytes[tail] = 0x80;
  const end = (((tail + 8) >>> 6) << 6) + 64;
  bytes.fill(0, tail + 1, end - 8);
  const low = (total << 3) >>> 0;
  const high = Math.floor(total / 0x20000000);
  bytes[end - 8] = low & 0xff;
  bytes[end - 7] = (low >>> 8) & 0xff;
  bytes[end - 6] = (low >>> 16) & 0xff;
  bytes[end - 5] = low >>> 24;
  bytes[end - 4] = high & 0xff;
  bytes[end - 3] = (high >>> 8) & 0xff;
  bytes[end - 2] = (high >>> 16) & 0xff;
  bytes[end - 1] = (high >>> 24) & 0xff;
  compress(end >>> 6);
}

/**
 * UTF-8 encodes `s[start, end)` into `dest`, returning the byte count.
 * Unpaired surrogates become U+FFFD, exactly as TextEncoder and Buffer do, so
 * a key hashes the same as the bytes that are sent for it.
 */
function encodeUtf8(s: string, start: number, end: number, dest: Uint8Array): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      dest[n++] = c;
      continue;
    }
    if (c < 0x800) {
      dest[n++] = 0xc0 | (c >> 6);
      dest[n++] = 0x80 | (c & 0x3f);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      if (c <= 0xdbff && i + 1 < end) {
        const lo = s.charCodeAt(i + 1);
        if (lo >= 0xdc00 && lo <= 0xdfff) {
          i++;
          const cp = ((c - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
          dest[n++] = 0xf0 | (cp >> 18);
          dest[n++] = 0x80 | ((cp >> 12) & 0x3f);
          dest[n++] = 0x80 | ((cp >> 6) & 0x3f);
          dest[n++] = 0x80 | (cp & 0x3f);
          continue;
        }
      }
      c = 0xfffd;
    }
    dest[n++] = 0xe0 | (c >> 12);
    dest[n++] = 0x80 | ((c >> 6) & 0x3f);
    dest[n++] = 0x80 | (c & 0x3f);
  }
  return n;
}

function hashBytes(src: Uint8Array): void {
  resetState();
  const total = src.length;
  if (total <= CHUNK_BYTES) {
    scratchBytes.set(src);
    finish(total, total);
    return;
  }
  let offset = 0;
  while (total - offset >= CHUNK_BYTES) {
    scratchBytes.set(src.subarray(offset, offset + CHUNK_BYTES));
    compress(CHUNK_BYTES >>> 6);
    offset += CHUNK_BYTES;
  }
  scratchBytes.set(src.subarray(offset));
  finish(total - offset, total);
}

function hashString(s: string, start: number, end: number): void {
  // Each UTF-16 unit needs at most 3 bytes, so this bound guarantees the fit.
  if ((end - start) * 3 <= CHUNK_BYTES) {
    resetState();
    const n = encodeUtf8(s, start, end, scratchBytes);
    finish(n, n);
    return;
  }
  hashBytes(textEncoder.encode(start === 0 && end === s.length ? s : s.slice(start, end)));
}

function hashInput(input: Md5Input): void {
  if (typeof input === 'string') hashString(input, 0, input.length);
  else if (input instanceof Uint8Array) hashBytes(input);
  else throw new TypeError('md5: input must be a string or a Uint8Array');
}

/** The 16-byte MD5 digest of `input` (strings are hashed as UTF-8). */
export function md5(input: Md5Input): Uint8Array {
  hashInput(input);
  const out = new Uint8Array(16);
  for (let i = 0; i < 4; i++) {
    const word = state[i]!;
    out[4 * i] = word & 0xff;
    out[4 * i + 1] = (word >>> 8) & 0xff;
    out[4 * i + 2] = (word >>> 16) & 0xff;
    out[4 * i + 3] = word >>> 24;
  }
  return out;
}

/** The MD5 digest of `input` as 32 lowercase hex digits. */
export function md5Hex(input: Md5Input): string {
  hashInput(input);
  let hex = '';
  for (let i = 0; i < 4; i++) {
    const word = state[i]!;
    hex += HEX[word & 0xff]! + HEX[(word >>> 8) & 0xff]! + HEX[(word >>> 16) & 0xff]! + HEX[word >>> 24]!;
  }
  return hex;
}

/**
 * The digest as four unsigned 32-bit words, word i being the little-endian
 * value of digest bytes 4i..4i+3 (the form ketama takes its points in).
 * Writes into `out` when given, which makes the call allocation-free.
 */
export function md5Words(input: Md5Input, out: Uint32Array = new Uint32Array(4)): Uint32Array {
  if (out.length < 4) throw new RangeError('md5Words: out must have room for 4 words');
  hashInput(input);
  out[0] = state[0]!;
  out[1] = state[1]!;
  out[2] = state[2]!;
  out[3] = state[3]!;
  return out;
}

/**
 * Little-endian unsigned 32-bit value of digest bytes 0-3: the ketama key
 * hash. Allocation-free, although V8 boxes a returned number of 2^30 or more
 * when the call is not inlined; `md5Words` with a reused array avoids even that.
 */
export function md5FirstWord(input: Md5Input): number {
  hashInput(input);
  return state[0]! >>> 0;
}

function checkRange(s: string, start: number, end: number): void {
  if (typeof s !== 'string') throw new TypeError('md5: input must be a string');
  if (!(start >= 0 && start <= end && end <= s.length) || start !== Math.floor(start) || end !== Math.floor(end)) {
    throw new RangeError(`md5: invalid range [${start}, ${end}) for a string of length ${s.length}`);
  }
}

/**
 * `md5Words(s.slice(start, end), out)` without creating the substring, so a
 * hash-tagged key can be hashed allocation-free.
 */
export function md5WordsOfRange(s: string, start: number, end: number, out: Uint32Array): Uint32Array {
  if (out.length < 4) throw new RangeError('md5WordsOfRange: out must have room for 4 words');
  checkRange(s, start, end);
  hashString(s, start, end);
  out[0] = state[0]!;
  out[1] = state[1]!;
  out[2] = state[2]!;
  out[3] = state[3]!;
  return out;
}

/** `md5FirstWord(s.slice(start, end))` without creating the substring. */
export function md5FirstWordOfRange(s: string, start: number, end: number): number {
  checkRange(s, start, end);
  hashString(s, start, end);
  return state[0]! >>> 0;
}
