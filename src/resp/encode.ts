import { Buffer } from 'node:buffer';
/**
 * RESP2 request encoding: a command is an array of bulk strings.
 *
 * Encoding validates every argument before anything is appended, so a bad argument is a
 * TypeError that leaves the outgoing buffer untouched.
 */

/** What may be sent as one argument of a command. */
export type CommandArg = string | number | bigint | Uint8Array;


/** A TypeError that names the command and the 1-based position of the faulty argument. */
export function argumentError(command: string, position: number, value: unknown, why?: string): TypeError {
  const shown = describe(value);
  const reason = why ?? 'expected a string, number, bigint, Buffer or Uint8Array';
  return new TypeError(`${command}: argument ${position} is ${shown}; ${reason}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return `a boolean (${value})`;
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
  return `a ${typeof value}`;
}

/**
 * Numbers as Redis parses them: integers in plain decimal (never exponent notation, which
 * INCRBY and friends reject), floats in the shortest form that round-trips.
 */
export function numberToArg(n: number): string | null {
  if (!Number.isFinite(n)) return null;
  if (Number.isInteger(n)) {
    if (n === 0) return '0'; // also maps -0
    return Math.abs(n) < 1e21 ? String(n) : BigInt(n).toString();
  }
  return String(n);
}

/** Validates a command's arguments without encoding them (for commands queued while offline). */
export function validateArgs(args: readonly unknown[], commandName?: string): void {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (typeof a === 'string' || typeof a === 'bigint' || a instanceof Uint8Array) continue;
    if (typeof a === 'number') {
      if (Number.isFinite(a)) continue;
      throw argumentError(commandName ?? String(args[0]), i, a,
        "expected a finite number (pass Redis's '+inf' / '-inf' as strings)");
    }
    throw argumentError(commandName ?? String(args[0]), i, a);
  }
}

/** Size of a fresh slab; a command larger than this gets a slab of its own size. */
const SLAB_SIZE = 64 * 1024;
/** Binary arguments larger than this are sent as they are instead of being copied. */
const COPY_LIMIT = 16 * 1024;
/**
 * Strings longer than this (in UTF-16 units) are handed to the socket as they are: it encodes
 * them into memory it frees as soon as they are written, where a slab would hold them until
 * the garbage collector runs.
 */
const LARGE_STRING = 16 * 1024;
/** Strings up to this length are written by a JavaScript loop when they are ASCII. */
const SHORT_STRING = 128;
/** Room for '$', up to 16 digits and CRLF before a body, and CRLF after it. */
const HEADER_ROOM = 21;

/**
 * Appends commands to an outgoing batch, encoding them straight into bytes.
 *
 * Commands are written into a slab; take() hands over a view of the bytes written since the
 * last take() and later commands go on after them, so no byte is copied twice and no string
 * is built. A slab is never written again once a view of it is handed over: when it is full a
 * new one is started (the socket keeps the old one alive until it is written). Large binary
 * arguments are not copied at all: they go out as chunks of their own.
 */
export class RequestWriter {
  private slab: Buffer = Buffer.allocUnsafe(SLAB_SIZE);
  /** Start of the current batch in the slab. */
  private start = 0;
  private pos = 0;
  /** Earlier parts of the current batch (previous slabs, large arguments). */
  private chunks: Array<Uint8Array | string> = [];
  private chunkBytes = 0;
  /** Commands appended since the last take(). */
  count = 0;
  /** Where the last command starts in the slab, or -1 when it is not in one piece there. */
  private last = -1;
  private readonly lastView = { bytes: this.slab, start: 0, end: 0 };

  /** Encodes one command. Throws a TypeError (and appends nothing) on a bad argument. */
  write(args: readonly unknown[], commandName?: string): void {
    validateArgs(args, commandName);
    this.reserve(1 + 11 + 2);
    const slab = this.slab;
    const begin = this.pos;
    const pieces = this.chunks.length;
    this.pos = this.writeHeader(0x2a, args.length, this.pos);
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (typeof a === 'string') this.writeString(a);
      else if (typeof a === 'number') this.writeAscii(numberToArg(a)!);
      else if (typeof a === 'bigint') this.writeAscii(a.toString());
      else this.writeBinary(a as Uint8Array);
    }
    this.last = slab === this.slab && pieces === this.chunks.length ? begin : -1;
    this.count++;
  }

  /**
   * Appends a command another writer encoded (its `lastCommand()`): the bytes are copied as
   * they are, so a write for several servers is encoded once.
   */
  writeEncoded(command: EncodedCommand): void {
    const { bytes, start, end } = command;
    const n = end - start;
    this.reserve(n);
    const slab = this.slab;
    let p = this.pos;
    // Short commands by a loop: a view for set() would cost more than the copy.
    if (n <= 256) for (let i = start; i < end; i++) slab[p++] = bytes[i]!;
    else {
      slab.set(bytes.subarray(start, end), p);
      p += n;
    }
    this.last = this.pos;
    this.pos = p;
    this.count++;
  }

  /**
   * Where the last command's bytes are, when they are in one piece in the slab; valid until
   * the next write (the object is reused). Null when they span slabs or hold large arguments.
   */
  lastCommand(): EncodedCommand | null {
    if (this.last < 0) return null;
    const view = this.lastView;
    view.bytes = this.slab;
    view.start = this.last;
    view.end = this.pos;
    return view;
  }

  get empty(): boolean {
    return this.count === 0;
  }

  /** Bytes written since the last take(). */
  get size(): number {
    return this.chunkBytes + this.pos - this.start;
  }

  /**
   * Hands over everything written so far and starts a new batch: one Buffer, or the chunks
   * to write in order (strings as UTF-8) when the batch spans slabs or holds large arguments.
   */
  take(): Buffer | Array<Uint8Array | string> {
    const tail = this.slab.subarray(this.start, this.pos);
    this.start = this.pos;
    this.count = 0;
    if (this.chunks.length === 0) return tail;
    const chunks = this.chunks;
    if (tail.length > 0) chunks.push(tail);
    this.chunks = [];
    this.chunkBytes = 0;
    return chunks;
  }

  /**
   * Writes from the start of the current slab again. Only for when every byte handed over by
   * take() has been written out (the socket holds no view of the slab any more): then a busy
   * connection keeps one slab instead of leaving one to the garbage collector every 64 KB.
   */
  recycle(): void {
    if (this.start === this.pos && this.chunks.length === 0) {
      this.start = 0;
      this.pos = 0;
      this.last = -1;
    }
  }

  /** Makes room for `n` more bytes, starting a new slab (never growing one in place). */
  private reserve(n: number): void {
    if (this.pos + n <= this.slab.length) return;
    if (this.pos > this.start) {
      this.chunks.push(this.slab.subarray(this.start, this.pos));
      this.chunkBytes += this.pos - this.start;
    }
    this.slab = Buffer.allocUnsafe(Math.max(SLAB_SIZE, n));
    this.start = 0;
    this.pos = 0;
  }

  /** `<type><n>\r\n` at p; returns the position after it. */
  private writeHeader(type: number, n: number, p: number): number {
    const slab = this.slab;
    slab[p++] = type;
    if (n < 10) {
      slab[p++] = 0x30 + n;
    } else {
      const digits = String(n);
      for (let i = 0; i < digits.length; i++) slab[p++] = digits.charCodeAt(i);
    }
    slab[p++] = 0x0d;
    slab[p++] = 0x0a;
    return p;
  }

  private writeString(s: string): void {
    const length = s.length;
    if (length <= SHORT_STRING) {
      // Most keys and small values are ASCII: copy them byte by byte, no call into C++.
      this.reserve(length + HEADER_ROOM);
      const slab = this.slab;
      let p = this.writeHeader(0x24, length, this.pos);
      let i = 0;
      for (; i < length; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        slab[p++] = c;
      }
      if (i === length) {
        slab[p++] = 0x0d;
        slab[p++] = 0x0a;
        this.pos = p;
        return;
      }
      // Not ASCII: fall through to the UTF-8 path, writing over what was started.
    }
    const bytes = Buffer.byteLength(s);
    if (length > LARGE_STRING) {
      this.reserve(HEADER_ROOM);
      this.pos = this.writeHeader(0x24, bytes, this.pos);
      this.pushLarge(s, bytes);
      return;
    }
    this.reserve(bytes + HEADER_ROOM);
    let p = this.writeHeader(0x24, bytes, this.pos);
    p += this.slab.write(s, p, bytes, 'utf8');
    this.slab[p++] = 0x0d;
    this.slab[p++] = 0x0a;
    this.pos = p;
  }

  private writeAscii(t: string): void {
    this.reserve(t.length + HEADER_ROOM);
    const slab = this.slab;
    let p = this.writeHeader(0x24, t.length, this.pos);
    for (let i = 0; i < t.length; i++) slab[p++] = t.charCodeAt(i);
    slab[p++] = 0x0d;
    slab[p++] = 0x0a;
    this.pos = p;
  }

  private writeBinary(a: Uint8Array): void {
    const n = a.byteLength;
    if (n <= COPY_LIMIT) {
      this.reserve(n + HEADER_ROOM);
      let p = this.writeHeader(0x24, n, this.pos);
      this.slab.set(a, p);
      p += n;
      this.slab[p++] = 0x0d;
      this.slab[p++] = 0x0a;
      this.pos = p;
      return;
    }
    this.reserve(HEADER_ROOM);
    this.pos = this.writeHeader(0x24, n, this.pos);
    this.pushLarge(a, n);
  }

  /** The slab so far, then a large argument as it is (its header already written). */
  private pushLarge(a: Uint8Array | string, bytes: number): void {
    this.chunks.push(this.slab.subarray(this.start, this.pos), a);
    this.chunkBytes += this.pos - this.start + bytes;
    this.start = this.pos;
    this.reserve(2);
    this.slab[this.pos++] = 0x0d;
    this.slab[this.pos++] = 0x0a;
  }
}

/** A command as written into a batch: bytes[start, end) of a slab (see RequestWriter.lastCommand). */
export interface EncodedCommand {
  readonly bytes: Buffer;
  readonly start: number;
  readonly end: number;
}

/** One command as bytes: for tests, tools and one-off writes. */
export function encodeCommand(args: readonly unknown[]): Buffer {
  const w = new RequestWriter();
  w.write(args);
  const out = w.take();
  return Buffer.isBuffer(out) ? Buffer.from(out) : Buffer.concat(out.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
}
