/**
 * Streaming RESP2 and RESP3 reply decoder.
 *
 * Bytes may arrive split anywhere. Partial state is kept explicitly instead of re-parsing:
 * a stack of aggregates being filled, a partial header line, and the chunks of a bulk string
 * whose body has not fully arrived. A bulk body is copied once, when its last byte arrives, so
 * a declared length far beyond the data never allocates ahead of the bytes actually received.
 *
 * RESP3's types come out in RESP2's shapes, so a reply reads the same under either protocol: a
 * map as its flat key, value, key, value array (remembered as a map: isMap), a set as an array,
 * a double and a big number as the text RESP2 sent as a bulk string, a boolean as 1 or 0, a
 * verbatim string without its three-letter format, a blob error as a ReplyError, null as null.
 * Attributes are read and dropped. Push frames answer no command: they go to onPush, never
 * to onReply.
 */
import { Buffer } from 'node:buffer';
import { StringDecoder } from 'node:string_decoder';
import { ProtocolError, ReplyError } from '../errors.ts';

/** A decoded reply. Error replies nested in arrays (EXEC, pipelines) stay as ReplyError values. */
export type Reply = string | number | bigint | Buffer | null | ReplyError | Reply[];

export interface DecoderOptions {
  /** Largest bulk string accepted, in bytes (Redis's own proto-max-bulk-len default: 512 MB). */
  maxBulkLength?: number;
  /** Largest header or simple-string line accepted, in bytes. */
  maxLineLength?: number;
  /**
   * Whether bulk strings come as Buffers instead of UTF-8 strings: the same for every reply,
   * or asked once at the start of each top-level reply (a connection answers for the command
   * that reply belongs to). Strings by default.
   */
  buffers?: boolean | (() => boolean);
  /**
   * Called with each RESP3 push frame (its items in RESP2 shapes), which is never a reply to
   * a command. Without it, push frames are dropped.
   */
  onPush?: (frame: Reply[]) => void;
  /** Whether a push frame's strings are Buffers (default false). */
  pushBuffers?: boolean;
}

/** What an aggregate on the stack becomes once full. */
const ARRAY = 0; // an array, a set, or a map (whose items are then pairs)
const MAP = 1;
const PUSH = 2;
const ATTRIBUTE = 3;

interface Frame {
  items: Reply[];
  remaining: number;
  kind: number;
}

/** The arrays that were RESP3 maps (flat: key, value, key, value), for the reply normaliser. */
const maps = new WeakSet<Reply[]>();

/** True when `reply` was decoded from a RESP3 map (its items are key, value pairs). */
export function isMap(reply: unknown): boolean {
  return Array.isArray(reply) && maps.has(reply);
}

const CR = 13;
const LF = 10;
const DEFAULT_MAX_BULK = 512 * 1024 * 1024;
const DEFAULT_MAX_LINE = 1024 * 1024;
const always = (): boolean => true;
const never = (): boolean => false;

export class Decoder {
  private readonly onReply: (reply: Reply) => void;
  private readonly maxBulk: number;
  private readonly maxLine: number;
  /** The one source of the Buffers mode, asked when a top-level reply starts. */
  private readonly buffersFor: () => boolean;
  private readonly stack: Frame[] = [];
  /** Buffers mode chosen when the current top-level reply started. */
  private buffersNow = false;
  /**
   * A header line cut by the end of a chunk, kept in pieces and joined once its end arrives,
   * so a line trickling in byte by byte costs linear time, not quadratic.
   */
  private partialLine: Buffer[] | null = null;
  private partialSize = 0;
  /** Body of a bulk string still arriving (Buffers mode). */
  private bulkChunks: Buffer[] = [];
  /**
   * Body of a bulk string still arriving (text mode), decoded as it comes: no joined copy of
   * the bytes is ever made. The decoder keeps a character cut between two chunks.
   */
  private bulkText = '';
  private utf8: StringDecoder | null = null;
  private bulkLength = -1;
  private bulkReceived = 0;
  /** Bytes of the trailing CRLF of that bulk string still to check (2, 1 or 0). */
  private bulkTrailer = 0;
  /** What the bulk string still arriving is: '$' (0x24), '=' verbatim or '!' blob error. */
  private bulkType = 0x24;
  private failed: ProtocolError | null = null;
  private readonly onPush: ((frame: Reply[]) => void) | null;
  private readonly pushBuffers: boolean;

  constructor(onReply: (reply: Reply) => void, options: DecoderOptions = {}) {
    this.onReply = onReply;
    this.onPush = options.onPush ?? null;
    this.pushBuffers = options.pushBuffers ?? false;
    this.maxBulk = options.maxBulkLength ?? DEFAULT_MAX_BULK;
    this.maxLine = options.maxLineLength ?? DEFAULT_MAX_LINE;
    const buffers = options.buffers ?? false;
    this.buffersFor = typeof buffers === 'function' ? buffers : buffers ? always : never;
  }

  /** True while a reply has started but not finished. */
  get midReply(): boolean {
    return this.stack.length > 0 || this.partialLine !== null || this.bulkLength >= 0;
  }

  /** Drops all partial state (after the connection is reset). */
  reset(): void {
    this.stack.length = 0;
    this.partialLine = null;
    this.partialSize = 0;
    this.bulkChunks = [];
    this.bulkText = '';
    this.utf8?.end();
    this.bulkLength = -1;
    this.bulkReceived = 0;
    this.bulkTrailer = 0;
    this.bulkType = 0x24;
    this.failed = null;
  }

  /**
   * Feeds bytes; calls onReply for each complete reply. Throws ProtocolError on bad bytes.
   * Nothing refers to `chunk` once this returns, so the caller may reuse its memory.
   */
  feed(chunk: Buffer): void {
    if (this.failed !== null) throw this.failed;
    try {
      this.run(chunk);
    } catch (err) {
      if (err instanceof ProtocolError) this.failed = err;
      throw err;
    }
  }

  private fail(message: string): never {
    throw new ProtocolError(`invalid RESP: ${message}`);
  }

  private run(chunk: Buffer): void {
    if (chunk.length === 0) return;
    const buf = chunk;
    let pos = 0;
    if (this.bulkLength >= 0) {
      pos = this.continueBulk(buf);
      if (pos < 0) return;
    } else if (this.partialLine !== null) {
      const parts = this.partialLine;
      const last = parts[parts.length - 1]!;
      let lineEnd = 1; // the LF after a CR that ended the last piece
      if (last[last.length - 1] !== CR) {
        const cr = chunk.indexOf(CR);
        if (cr === -1 || cr === chunk.length - 1) {
          // The line's CRLF has still not arrived: keep the piece, scan nothing twice.
          if (this.partialSize + (cr === -1 ? chunk.length : cr) > this.maxLine) this.fail('header line too long');
          parts.push(Buffer.from(chunk)); // a copy: the caller may reuse the chunk's memory
          this.partialSize += chunk.length;
          return;
        }
        lineEnd = cr + 2;
      }
      // Join the line alone (not the rest of the chunk), decode it, then go on in the chunk.
      parts.push(chunk.subarray(0, lineEnd));
      const line = Buffer.concat(parts);
      this.partialLine = null;
      this.partialSize = 0;
      this.run(line);
      this.run(chunk.subarray(lineEnd));
      return;
    }
    const len = buf.length;
    while (pos < len) {
      const type = buf[pos];
      // Find the end of the header line.
      let end = pos + 1;
      // A bulk string's length is read while looking for the line's end: one pass over the
      // digits. Anything but plain digits is left to parseLength, which judges it.
      let length = 0;
      let plain = true;
      if (type === 0x24) {
        for (; end < len; end++) {
          const digit = buf[end]! - 0x30;
          if (digit === CR - 0x30) break;
          if (digit < 0 || digit > 9) plain = false;
          length = length * 10 + digit;
        }
      } else {
        while (end < len && buf[end] !== CR) end++;
      }
      // Measured the same way whether or not the line's end has arrived, so the verdict does
      // not depend on how the bytes were chunked.
      if (end - pos > this.maxLine) this.fail('header line too long');
      if (end + 1 >= len) {
        this.partialLine = [Buffer.from(buf.subarray(pos))];
        this.partialSize = len - pos;
        return;
      }
      if (buf[end + 1] !== LF) this.fail('expected LF after CR');
      // A top-level reply starts here, its header whole (a cut header comes back through here).
      if (this.stack.length === 0) this.buffersNow = this.buffersFor();
      const next = end + 2;
      switch (type) {
        case 0x2b: // '+' simple string
          if (!this.buffersNow && end - pos === 3 && buf[pos + 1] === 0x4f && buf[pos + 2] === 0x4b) this.emit('OK'); // the commonest reply, not allocated each time
          else this.emit(this.buffersNow ? Buffer.from(buf.subarray(pos + 1, end)) : utf8(buf, pos + 1, end));
          pos = next;
          break;
        case 0x2d: // '-' error
          this.emit(replyError(utf8(buf, pos + 1, end)));
          pos = next;
          break;
        case 0x3a: // ':' integer
          this.emit(parseInteger(buf, pos + 1, end, this));
          pos = next;
          break;
        case 0x24: { // '$' bulk string
          const n = plain && end > pos + 1 && end - pos <= 16 ? length : parseLength(buf, pos + 1, end, this);
          if (n === -1) {
            pos = next;
            this.emit(null);
            break;
          }
          if (n > this.maxBulk) this.fail(`bulk length ${n} exceeds the limit of ${this.maxBulk}`);
          const bodyEnd = next + n;
          if (bodyEnd + 2 <= len) {
            if (buf[bodyEnd] !== CR || buf[bodyEnd + 1] !== LF) this.fail('bulk string not followed by CRLF');
            const value = this.buffersNow
              ? Buffer.from(buf.subarray(next, bodyEnd))
              : utf8(buf, next, bodyEnd);
            pos = bodyEnd + 2;
            this.emit(value);
            break;
          }
          // The body continues in later chunks: keep only the bytes that did arrive.
          this.bulkLength = n;
          this.bulkReceived = 0;
          this.bulkChunks = [];
          this.bulkTrailer = 2;
          const rest = this.continueBulk(buf.subarray(next));
          if (rest >= 0) this.fail('internal: bulk completed unexpectedly');
          return;
        }
        case 0x2a: { // '*' array
          const n = parseLength(buf, pos + 1, end, this);
          pos = next;
          if (n === -1) this.emit(null);
          else if (n === 0) this.emit([]);
          else this.stack.push({ items: [], remaining: n, kind: ARRAY });
          break;
        }
        default: {
          // RESP3's types, rarer than RESP2's: kept out of the switch above, which the
          // replies of RESP2 take.
          const at = this.resp3(buf, type ?? 0, pos, end);
          if (at < 0) return;
          pos = at;
        }
      }
    }
  }

  /**
   * Decodes one RESP3 item whose header line is buf[pos, end). Returns the offset after it, or
   * -1 when a bulk body continues in later chunks.
   */
  private resp3(buf: Buffer, type: number, pos: number, end: number): number {
    const next = end + 2;
    switch (type) {
      case 0x5f: // '_' null
        if (end !== pos + 1) this.fail('null with a value');
        this.emit(null);
        return next;
      case 0x23: { // '#' boolean, as RESP2 gave it: an integer
        const c = buf[pos + 1];
        if (end !== pos + 2 || (c !== 0x74 && c !== 0x66)) this.fail('bad boolean');
        this.emit(c === 0x74 ? 1 : 0);
        return next;
      }
      case 0x2c: // ',' double, as RESP2 gave it: its text in a bulk string
        if (end === pos + 1 || !isDoubleText(buf, pos + 1, end)) this.fail('bad double');
        this.emit(this.buffersNow ? Buffer.from(buf.subarray(pos + 1, end)) : buf.toString('latin1', pos + 1, end));
        return next;
      case 0x28: { // '(' big number, as RESP2 gave it: its digits in a bulk string
        let i = pos + 1;
        if (buf[i] === 0x2d || buf[i] === 0x2b) i++;
        if (i >= end) this.fail('empty big number');
        for (; i < end; i++) if (buf[i]! < 0x30 || buf[i]! > 0x39) this.fail('bad digit in big number');
        this.emit(this.buffersNow ? Buffer.from(buf.subarray(pos + 1, end)) : buf.toString('latin1', pos + 1, end));
        return next;
      }
      case 0x3d: // '=' verbatim string
      case 0x21: { // '!' blob error
        const n = parseLength(buf, pos + 1, end, this);
        if (n < 0) this.fail('bad length');
        if (type === 0x3d && n < 4) this.fail('verbatim string without its format');
        if (n > this.maxBulk) this.fail(`bulk length ${n} exceeds the limit of ${this.maxBulk}`);
        const bodyEnd = next + n;
        if (bodyEnd + 2 <= buf.length) {
          if (buf[bodyEnd] !== CR || buf[bodyEnd + 1] !== LF) this.fail('bulk string not followed by CRLF');
          if (type === 0x21) this.emit(replyError(utf8(buf, next, bodyEnd)));
          // The 'txt:' (or 'mkd:') before the text is RESP3's alone.
          else this.emit(this.buffersNow ? Buffer.from(buf.subarray(next + 4, bodyEnd)) : utf8(buf, next + 4, bodyEnd));
          return bodyEnd + 2;
        }
        this.bulkLength = n;
        this.bulkReceived = 0;
        this.bulkChunks = [];
        this.bulkTrailer = 2;
        this.bulkType = type;
        if (this.continueBulk(buf.subarray(next)) >= 0) this.fail('internal: bulk completed unexpectedly');
        return -1;
      }
      case 0x25: // '%' map: key, value, key, value
      case 0x7e: // '~' set: an array
      case 0x3e: // '>' push: a frame that answers no command
      case 0x7c: { // '|' attribute: read, and dropped
        const n = parseLength(buf, pos + 1, end, this);
        if (n < 0) this.fail('bad length');
        const kind = type === 0x25 ? MAP : type === 0x7e ? ARRAY : type === 0x3e ? PUSH : ATTRIBUTE;
        if (kind === PUSH) {
          if (this.stack.length > 0) this.fail('push frame inside a reply');
          this.buffersNow = this.pushBuffers;
        }
        const count = kind === MAP || kind === ATTRIBUTE ? 2 * n : n;
        if (count > 0) this.stack.push({ items: [], remaining: count, kind });
        else if (kind === PUSH) this.onPush?.([]);
        else if (kind !== ATTRIBUTE) {
          const empty: Reply[] = [];
          if (kind === MAP) maps.add(empty);
          this.emit(empty);
        }
        return next;
      }
      default:
        this.fail(`unexpected type byte 0x${type.toString(16).padStart(2, '0')}`);
    }
  }

  /**
   * Takes bulk-string bytes from the start of `buf`. Returns the offset just after the bulk
   * string when it completed (and emits it), or -1 when more bytes are needed.
   */
  private continueBulk(buf: Buffer): number {
    let pos = 0;
    const need = this.bulkLength - this.bulkReceived;
    if (need > 0) {
      const take = Math.min(need, buf.length);
      if (take > 0) {
        const piece = take === buf.length ? buf : buf.subarray(0, take);
        // A copy: the caller may reuse the chunk's memory once feed() returns.
        if (this.buffersNow) this.bulkChunks.push(Buffer.from(piece));
        else this.bulkText += (this.utf8 ??= new StringDecoder('utf8')).write(piece);
        this.bulkReceived += take;
        pos = take;
      }
      if (this.bulkReceived < this.bulkLength) return -1;
    }
    while (this.bulkTrailer > 0) {
      if (pos >= buf.length) return -1;
      const expected = this.bulkTrailer === 2 ? CR : LF;
      if (buf[pos] !== expected) this.fail('bulk string not followed by CRLF');
      this.bulkTrailer--;
      pos++;
    }
    this.bulkLength = -1;
    this.bulkReceived = 0;
    let value: Buffer | string;
    if (this.buffersNow) {
      const chunks = this.bulkChunks;
      this.bulkChunks = [];
      value = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    } else {
      value = this.bulkText + (this.utf8?.end() ?? '');
      this.bulkText = '';
    }
    if (this.bulkType !== 0x24) {
      const type = this.bulkType;
      this.bulkType = 0x24;
      if (type === 0x21) {
        this.emit(replyError(typeof value === 'string' ? value : value.toString('utf8')));
        return pos;
      }
      // A verbatim string's format is 3 ASCII letters and ':', so 4 bytes and 4 characters.
      value = typeof value === 'string' ? value.slice(4) : value.subarray(4);
    }
    this.emit(value);
    return pos;
  }

  private emit(value: Reply): void {
    const stack = this.stack;
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      top.items.push(value);
      if (--top.remaining > 0) return;
      value = top.items;
      stack.pop();
      if (top.kind !== ARRAY) {
        // An attribute describes the item after it, and is no item itself.
        if (top.kind === ATTRIBUTE) return;
        if (top.kind === PUSH) {
          this.onPush?.(top.items);
          return;
        }
        maps.add(top.items);
      }
    }
    this.onReply(value);
  }

  /** @internal used by the number parsers */
  protocolError(message: string): never {
    this.fail(message);
  }
}

/**
 * An error reply as a ReplyError with no stack trace: captured here it would only show the
 * decoder's own frames, and capturing it costs more than decoding the reply.
 */
function replyError(message: string): ReplyError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new ReplyError(message);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** Buffer's own UTF-8 decoding, called directly: toString's argument handling costs as much. */
const utf8Slice = (Buffer.prototype as unknown as { utf8Slice?: (this: Buffer, start: number, end: number) => string }).utf8Slice;

/**
 * Bytes as text. Short ASCII strings (most keys, members, small values) are built in
 * JavaScript: a call into C++ costs several times more than the decoding itself.
 */
function utf8(buf: Buffer, start: number, end: number): string {
  const n = end - start;
  if (n <= 16 && n > 0) {
    const text = n <= 8 ? ascii8(buf, start, n) : ascii16(buf, start, n);
    if (text !== null) return text;
  }
  return utf8Slice !== undefined ? utf8Slice.call(buf, start, end) : buf.toString('utf8', start, end);
}

/** 9 to 16 ASCII bytes as one flat string (two halves joined would make a rope), or null. */
function ascii16(b: Buffer, s: number, n: number): string | null {
  let bits = 0;
  for (let i = s; i < s + n; i++) bits |= b[i]!;
  if ((bits & 0x80) !== 0) return null;
  const f = String.fromCharCode;
  const c0 = b[s]!, c1 = b[s + 1]!, c2 = b[s + 2]!, c3 = b[s + 3]!, c4 = b[s + 4]!, c5 = b[s + 5]!, c6 = b[s + 6]!, c7 = b[s + 7]!, c8 = b[s + 8]!;
  switch (n) {
    case 9: return f(c0, c1, c2, c3, c4, c5, c6, c7, c8);
    case 10: return f(c0, c1, c2, c3, c4, c5, c6, c7, c8, b[s + 9]!);
    case 11: return f(c0, c1, c2, c3, c4, c5, c6, c7, c8, b[s + 9]!, b[s + 10]!);
    case 12: return f(c0, c1, c2, c3, c4, c5, c6, c7, c8, b[s + 9]!, b[s + 10]!, b[s + 11]!);
    case 13: return f(c0, c1, c2, c3, c4, c5, c6, c7, c8, b[s + 9]!, b[s + 10]!, b[s + 11]!, b[s + 12]!);
    case 14: return f(c0, c1, c2, c3, c4, c5, c6, c7, c8, b[s + 9]!, b[s + 10]!, b[s + 11]!, b[s + 12]!, b[s + 13]!);
    case 15: return f(c0, c1, c2, c3, c4, c5, c6, c7, c8, b[s + 9]!, b[s + 10]!, b[s + 11]!, b[s + 12]!, b[s + 13]!, b[s + 14]!);
    default: return f(c0, c1, c2, c3, c4, c5, c6, c7, c8, b[s + 9]!, b[s + 10]!, b[s + 11]!, b[s + 12]!, b[s + 13]!, b[s + 14]!, b[s + 15]!);
  }
}

/** 1 to 8 ASCII bytes as a string, or null when one is not ASCII. */
function ascii8(b: Buffer, s: number, n: number): string | null {
  const f = String.fromCharCode;
  switch (n) {
    case 1: return b[s]! < 0x80 ? f(b[s]!) : null;
    case 2: return ((b[s]! | b[s + 1]!) & 0x80) === 0 ? f(b[s]!, b[s + 1]!) : null;
    case 3: return ((b[s]! | b[s + 1]! | b[s + 2]!) & 0x80) === 0 ? f(b[s]!, b[s + 1]!, b[s + 2]!) : null;
    case 4: return ((b[s]! | b[s + 1]! | b[s + 2]! | b[s + 3]!) & 0x80) === 0 ? f(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!) : null;
    default: {
      let bits = 0;
      for (let i = s; i < s + n; i++) bits |= b[i]!;
      if ((bits & 0x80) !== 0) return null;
      const c0 = b[s]!, c1 = b[s + 1]!, c2 = b[s + 2]!, c3 = b[s + 3]!, c4 = b[s + 4]!;
      if (n === 5) return f(c0, c1, c2, c3, c4);
      if (n === 6) return f(c0, c1, c2, c3, c4, b[s + 5]!);
      if (n === 7) return f(c0, c1, c2, c3, c4, b[s + 5]!, b[s + 6]!);
      return f(c0, c1, c2, c3, c4, b[s + 5]!, b[s + 6]!, b[s + 7]!);
    }
  }
}

/** Whether buf[start, end) is a double as RESP3 writes it: digits, sign, point, exponent, inf, nan. */
function isDoubleText(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if ((c < 0x30 || c > 0x39) && c !== 0x2d && c !== 0x2b && c !== 0x2e && c !== 0x65 && c !== 0x45
      && c !== 0x69 && c !== 0x6e && c !== 0x66 && c !== 0x61) return false;
  }
  return true;
}

/** Parses a signed decimal integer between start and end; exact beyond 2^53 (as a bigint). */
function parseInteger(buf: Buffer, start: number, end: number, d: Decoder): number | bigint {
  let i = start;
  let negative = false;
  if (buf[i] === 0x2d) {
    negative = true;
    i++;
  }
  if (i >= end) d.protocolError('empty integer');
  if (end - i > 15) {
    for (let j = i; j < end; j++) {
      const c = buf[j]!;
      if (c < 0x30 || c > 0x39) d.protocolError('bad digit in integer');
    }
    const big = BigInt(buf.toString('latin1', start, end));
    const n = Number(big);
    return Number.isSafeInteger(n) ? n : big;
  }
  let n = 0;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c < 0x30 || c > 0x39) d.protocolError('bad digit in integer');
    n = n * 10 + (c - 0x30);
  }
  return negative ? -n : n;
}

/** A bulk or array length: -1 (null) or a non-negative integer. */
function parseLength(buf: Buffer, start: number, end: number, d: Decoder): number {
  if (end - start === 2 && buf[start] === 0x2d && buf[start + 1] === 0x31) return -1;
  if (end <= start) d.protocolError('empty length');
  if (end - start > 15) d.protocolError('length too large');
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c < 0x30 || c > 0x39) d.protocolError('bad length');
    n = n * 10 + (c - 0x30);
  }
  return n;
}
