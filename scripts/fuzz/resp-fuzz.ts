/**
 * A seeded fuzzer for the streaming RESP decoder.
 *
 * Each case is built from its own seed (derived from the run's seed and the case number), so
 * any failure is reproduced by that pair alone. Four kinds of case:
 *   - valid: a random reply tree, encoded; the decoder must give exactly that tree back (half
 *     the cases use RESP3's types too: maps, sets, doubles, big numbers, booleans, verbatim
 *     strings, blob errors, nulls, attributes, and push frames between the replies);
 *   - mutated: a valid stream with bytes flipped, inserted, deleted, duplicated or a length
 *     replaced by a huge one;
 *   - noise: random bytes drawn mostly from RESP's own alphabet;
 *   - huge: a bulk or array length far beyond the bytes that follow (or beyond the limit).
 * For every case the checks are: nothing but ProtocolError is ever thrown; every chunking of
 * the same bytes gives the same replies, the same error and the same final state; and no
 * single buffer is ever allocated larger than the bytes fed so far.
 */
import { Buffer } from 'node:buffer';
import { ProtocolError, ReplyError } from '../../src/errors.ts';
import { Decoder, isMap, type Reply } from '../../src/resp/decode.ts';

/** sfc32: small, fast, and good enough to drive a fuzzer reproducibly. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream = 0) {
    this.a = 0x9e3779b9 ^ seed;
    this.b = 0x243f6a88 ^ stream;
    this.c = 0xb7e15162;
    this.d = 1;
    for (let i = 0; i < 12; i++) this.next();
  }

  /** A uint32. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return n <= 1 ? 0 : this.next() % n;
  }

  chance(p: number): boolean {
    return this.next() / 0x1_0000_0000 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

// ---- Reply generation -------------------------------------------------------------------------

/** What the generator meant, independent of the decoding mode. */
type Model =
  | { t: 'simple'; v: string }
  | { t: 'error'; v: string }
  | { t: 'int'; v: bigint }
  | { t: 'bulk'; v: Buffer }
  | { t: 'null' }
  | { t: 'array'; v: Model[] }
  // RESP3
  | { t: 'map'; v: Model[] }
  | { t: 'set'; v: Model[] }
  | { t: 'double'; v: string }
  | { t: 'bignum'; v: string }
  | { t: 'bool'; v: boolean }
  | { t: 'verbatim'; format: string; v: Buffer }
  | { t: 'blobError'; v: string }
  | { t: 'null3' }
  /** An attribute (dropped by the decoder) before the item it describes. */
  | { t: 'attribute'; attrs: Model[]; v: Model }
  /** A push frame: top-level only. */
  | { t: 'push'; v: Model[] };

const ALPHABET = Buffer.from('+-:$*%~>|=!,(#_\r\n0123456789-1abcOKtf ');

function randomBytes(rng: Rng, length: number, hostile: boolean): Buffer {
  const b = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) {
    b[i] = hostile && rng.chance(0.5) ? rng.pick([0x0d, 0x0a, 0x00, 0xff, 0xc3, 0x80, 0x24, 0x2a]) : rng.int(256);
  }
  return b;
}

function lineText(rng: Rng, max: number): string {
  const n = rng.int(max + 1);
  let s = '';
  // Anything but CR and LF, including multi-byte characters.
  for (let i = 0; i < n; i++) s += rng.chance(0.1) ? rng.pick(['é', 'ключ', '\u0000', '\u{1F600}']) : String.fromCharCode(32 + rng.int(95));
  return s;
}

function genModel(rng: Rng, depth: number, resp3 = false): Model {
  if (resp3 && rng.chance(0.4)) return genResp3(rng, depth);
  const r = rng.int(depth < 4 ? 7 : 6);
  switch (r) {
    case 0:
      return { t: 'simple', v: lineText(rng, 20) };
    case 1:
      return { t: 'error', v: rng.pick(['ERR', 'WRONGTYPE', 'MOVED', 'NOSCRIPT']) + ' ' + lineText(rng, 30) };
    case 2: {
      const big = rng.chance(0.2);
      const magnitude = big ? BigInt(rng.next()) * BigInt(rng.next()) * BigInt(rng.next()) : BigInt(rng.int(100000));
      return { t: 'int', v: rng.chance(0.3) ? -magnitude : magnitude };
    }
    case 3:
    case 4: {
      const length = rng.chance(0.05) ? rng.int(5000) : rng.int(40);
      return { t: 'bulk', v: randomBytes(rng, length, rng.chance(0.5)) };
    }
    case 5:
      return { t: 'null' };
    default: {
      const n = rng.int(7);
      const items: Model[] = [];
      for (let i = 0; i < n; i++) items.push(genModel(rng, depth + 1, resp3));
      return { t: 'array', v: items };
    }
  }
}

function genItems(rng: Rng, depth: number, n: number): Model[] {
  const items: Model[] = [];
  for (let i = 0; i < n; i++) items.push(genModel(rng, depth + 1, true));
  return items;
}

/** One of RESP3's own types (aggregates only above a depth of 4). */
function genResp3(rng: Rng, depth: number): Model {
  switch (rng.int(depth < 4 ? 11 : 7)) {
    case 0:
      return { t: 'double', v: rng.pick(['inf', '-inf', 'nan', '0', '-0', '3.141', '1.5e+20', '-2.2250738585072014e-308', String(rng.int(1e6) / 7)]) };
    case 1: {
      let digits = String(1 + rng.int(9));
      for (let i = rng.int(60); i > 0; i--) digits += String(rng.int(10));
      return { t: 'bignum', v: rng.chance(0.3) ? `-${digits}` : digits };
    }
    case 2:
      return { t: 'bool', v: rng.chance(0.5) };
    case 3:
      return { t: 'verbatim', format: rng.pick(['txt', 'mkd']), v: randomBytes(rng, rng.chance(0.05) ? rng.int(3000) : rng.int(40), rng.chance(0.5)) };
    case 4:
      return { t: 'blobError', v: rng.pick(['ERR', 'SYNTAX', 'WRONGTYPE']) + ' ' + lineText(rng, 20) + (rng.chance(0.3) ? '\r\nsecond line' : '') };
    case 5:
      return { t: 'null3' };
    case 6:
      return { t: 'bool', v: true };
    case 7:
      return { t: 'map', v: genItems(rng, depth, 2 * rng.int(4)) };
    case 8:
      return { t: 'set', v: genItems(rng, depth, rng.int(6)) };
    default:
      return { t: 'attribute', attrs: genItems(rng, depth, 2 * (1 + rng.int(2))), v: genModel(rng, depth + 1, true) };
  }
}

function encodeModel(m: Model, out: Buffer[], rng: Rng): void {
  switch (m.t) {
    case 'simple':
      out.push(Buffer.from(`+${m.v}\r\n`));
      return;
    case 'error':
      out.push(Buffer.from(`-${m.v}\r\n`));
      return;
    case 'int':
      out.push(Buffer.from(`:${m.v}\r\n`));
      return;
    case 'bulk':
      out.push(Buffer.from(`$${m.v.length}\r\n`), m.v, Buffer.from('\r\n'));
      return;
    case 'null':
      out.push(Buffer.from(rng.chance(0.5) ? '$-1\r\n' : '*-1\r\n'));
      return;
    case 'array':
      out.push(Buffer.from(`*${m.v.length}\r\n`));
      for (const item of m.v) encodeModel(item, out, rng);
      return;
    case 'map':
    case 'set':
    case 'push':
      out.push(Buffer.from(`${m.t === 'map' ? '%' : m.t === 'set' ? '~' : '>'}${m.t === 'map' ? m.v.length / 2 : m.v.length}\r\n`));
      for (const item of m.v) encodeModel(item, out, rng);
      return;
    case 'attribute':
      out.push(Buffer.from(`|${m.attrs.length / 2}\r\n`));
      for (const item of m.attrs) encodeModel(item, out, rng);
      encodeModel(m.v, out, rng);
      return;
    case 'double':
      out.push(Buffer.from(`,${m.v}\r\n`));
      return;
    case 'bignum':
      out.push(Buffer.from(`(${m.v}\r\n`));
      return;
    case 'bool':
      out.push(Buffer.from(m.v ? '#t\r\n' : '#f\r\n'));
      return;
    case 'verbatim':
      out.push(Buffer.from(`=${m.v.length + 4}\r\n${m.format}:`), m.v, Buffer.from('\r\n'));
      return;
    case 'blobError':
      out.push(Buffer.from(`!${Buffer.byteLength(m.v)}\r\n${m.v}\r\n`));
      return;
    case 'null3':
      out.push(Buffer.from('_\r\n'));
  }
}

/** The reply the decoder must produce for a model. */
function expected(m: Model, buffers: boolean): Reply {
  switch (m.t) {
    case 'simple':
      return buffers ? Buffer.from(m.v) : m.v;
    case 'error':
      return new ReplyError(m.v);
    case 'int': {
      const n = Number(m.v);
      return Number.isSafeInteger(n) ? n : m.v;
    }
    case 'bulk':
      return buffers ? m.v : m.v.toString('utf8');
    case 'null':
      return null;
    case 'array':
    case 'set':
    case 'push':
      return m.v.map((x) => expected(x, buffers));
    case 'map':
      return markedMap(m.v.map((x) => expected(x, buffers)));
    case 'double':
    case 'bignum':
      return buffers ? Buffer.from(m.v) : m.v;
    case 'bool':
      return m.v ? 1 : 0;
    case 'verbatim':
      return buffers ? m.v : m.v.toString('utf8');
    case 'blobError':
      return new ReplyError(m.v);
    case 'null3':
      return null;
    case 'attribute':
      return expected(m.v, buffers);
  }
}

/** What a map is expected to decode to: its items, fingerprinted as a map. */
const expectedMaps = new WeakSet<Reply[]>();
function markedMap(items: Reply[]): Reply[] {
  expectedMaps.add(items);
  return items;
}

/** The fingerprint of a push frame, in the same list as the replies (its place counts). */
function pushFingerprint(items: Reply[]): string {
  return 'P' + fingerprint(items);
}

/** A canonical text for a reply, so two decodings compare with one string equality. */
export function fingerprint(r: Reply): string {
  if (r === null) return 'N';
  if (typeof r === 'string') return 'S' + JSON.stringify(r);
  if (typeof r === 'number') return (Object.is(r, -0) ? 'I-0' : 'I' + r);
  if (typeof r === 'bigint') return 'L' + r;
  if (Buffer.isBuffer(r)) return 'B' + r.toString('hex');
  if (r instanceof ReplyError) return 'E' + JSON.stringify(r.message);
  if (Array.isArray(r)) return (isMap(r) || expectedMaps.has(r) ? 'M[' : '[') + r.map(fingerprint).join(',') + ']';
  return '?' + typeof r;
}

// ---- Mutation ---------------------------------------------------------------------------------

function mutate(rng: Rng, input: Buffer): Buffer {
  let b = input;
  const rounds = 1 + rng.int(3);
  for (let k = 0; k < rounds; k++) {
    const at = rng.int(b.length + 1);
    switch (rng.int(7)) {
      case 0: { // flip a byte
        if (b.length === 0) break;
        b = Buffer.from(b);
        b[Math.min(at, b.length - 1)] = rng.chance(0.5) ? rng.int(256) : rng.pick([...ALPHABET]);
        break;
      }
      case 1: // insert bytes
        b = Buffer.concat([b.subarray(0, at), randomBytes(rng, 1 + rng.int(6), true), b.subarray(at)]);
        break;
      case 2: // delete a range
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + rng.int(8)))]);
        break;
      case 3: { // duplicate a range
        const end = Math.min(b.length, at + 1 + rng.int(20));
        b = Buffer.concat([b.subarray(0, end), b.subarray(at, end), b.subarray(end)]);
        break;
      }
      case 4: // truncate
        b = b.subarray(0, at);
        break;
      case 5: { // a length far too large, or a negative one
        const header = rng.pick(['$', '*', '$', '*', '%', '~', '>', '|', '=', '!']) + rng.pick(['4294967296', '999999999999999', '536870913', '-2', '-1', '1'.repeat(16), '0']) + '\r\n';
        b = Buffer.concat([b.subarray(0, at), Buffer.from(header), b.subarray(at)]);
        break;
      }
      default: { // digits in a length changed
        const text = b.toString('latin1');
        const found = /[$*:%~>|=!(](\d+)\r\n/g;
        found.lastIndex = at;
        const m = found.exec(text);
        if (m === null) break;
        const digits = String(rng.chance(0.5) ? Number(m[1]) + 1 + rng.int(3) : Math.max(0, Number(m[1]) - 1));
        b = Buffer.concat([b.subarray(0, m.index + 1), Buffer.from(digits, 'latin1'), b.subarray(m.index + 1 + m[1]!.length)]);
      }
    }
  }
  return b;
}

function noise(rng: Rng): Buffer {
  const n = 1 + rng.int(200);
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = rng.chance(0.8) ? ALPHABET[rng.int(ALPHABET.length)]! : rng.int(256);
  // Start like a reply more often than not, so the decoder gets past the first byte.
  if (rng.chance(0.7)) b[0] = rng.pick([0x2b, 0x2d, 0x3a, 0x24, 0x2a, 0x2b, 0x2d, 0x3a, 0x24, 0x2a, 0x25, 0x7e, 0x3e, 0x7c, 0x3d, 0x21, 0x2c, 0x28, 0x23, 0x5f]);
  return b;
}

function huge(rng: Rng, maxBulk: number): Buffer {
  const declared = rng.chance(0.3) ? maxBulk + 1 + rng.int(1000) : rng.chance(0.5) ? maxBulk : 1000 + rng.int(maxBulk);
  const type = rng.chance(0.8) ? rng.pick(['$', '$', '$', '=', '!']) : rng.pick(['*', '%', '~', '>']);
  const prefix = rng.chance(0.5) ? rng.pick(['*2\r\n:1\r\n', '%1\r\n:1\r\n', '|1\r\n+a\r\n']) : '';
  return Buffer.concat([Buffer.from(`${prefix}${type}${declared}\r\n`), randomBytes(rng, rng.int(3000), true)]);
}

/** A header or simple line right around the line limit, possibly left unfinished. */
function longLine(rng: Rng): Buffer {
  const length = LINE_LIMIT - 8 + rng.int(16);
  const type = rng.pick(['+', '-', ':', '$', '(', ',', '%', '=']);
  const body = type === '+' || type === '-' ? 'x'.repeat(length) : '1'.repeat(length);
  const end = rng.chance(0.8) ? '\r\n' : '';
  return Buffer.from(`${rng.chance(0.5) ? '+OK\r\n' : ''}${type}${body}${end}`);
}

/** Arrays nested deeply, each frame costing a few bytes of input. */
function deep(rng: Rng): Buffer {
  const depth = 1 + rng.int(2000);
  const frame = rng.pick(['*1\r\n', '*1\r\n', '%1\r\n+k\r\n', '~1\r\n', '|1\r\n+a\r\n_\r\n*1\r\n']);
  return Buffer.from(frame.repeat(depth) + (rng.chance(0.8) ? ':1\r\n' : ''));
}

// ---- Running one case -------------------------------------------------------------------------

/** What decoding a byte stream led to, independent of how it was chunked. */
interface Outcome {
  replies: string[];
  error: string | null;
  midReply: boolean;
}

/**
 * Tracks the largest single Buffer allocation while the decoder runs, so a length that was
 * declared but never sent can be shown not to have been allocated.
 */
class AllocationMeter {
  largest = 0;
  private restore: Array<() => void> = [];

  install(): void {
    const meter = this;
    const wrap = <K extends 'from' | 'concat' | 'alloc' | 'allocUnsafe' | 'allocUnsafeSlow'>(name: K): void => {
      const original = Buffer[name] as unknown as (...args: unknown[]) => Buffer;
      const wrapped = function (this: unknown, ...args: unknown[]): Buffer {
        const b = original.apply(Buffer, args);
        if (b.length > meter.largest) meter.largest = b.length;
        return b;
      };
      (Buffer as unknown as Record<string, unknown>)[name] = wrapped;
      this.restore.push(() => {
        (Buffer as unknown as Record<string, unknown>)[name] = original;
      });
    };
    for (const name of ['from', 'concat', 'alloc', 'allocUnsafe', 'allocUnsafeSlow'] as const) wrap(name);
  }

  uninstall(): void {
    for (const undo of this.restore.splice(0)) undo();
  }
}

export interface FuzzFailure {
  seed: number;
  caseIndex: number;
  kind: string;
  message: string;
  bytes: string;
}

class CaseFailure extends Error {}

let scratchBuffer = Buffer.alloc(0);

/** The reused read buffer, grown as needed (outside the allocation meter's view of the decoder). */
function scratchFor(length: number): Buffer {
  if (scratchBuffer.length < length) scratchBuffer = Buffer.alloc(Math.max(length, 64 * 1024));
  return scratchBuffer;
}

function decodeWith(bytes: Buffer, cuts: number[], buffers: boolean, maxBulk: number, meter: AllocationMeter | null): Outcome {
  const replies: string[] = [];
  const d = new Decoder((r) => replies.push(fingerprint(r)), {
    maxBulkLength: maxBulk, maxLineLength: LINE_LIMIT, buffers, pushBuffers: buffers,
    onPush: (frame) => replies.push(pushFingerprint(frame)),
  });
  let error: string | null = null;
  let start = 0;
  let fed = 0;
  const scratch = scratchFor(bytes.length);
  for (const cut of [...cuts, bytes.length]) {
    if (cut <= start) continue;
    // One read buffer reused for every chunk, as the connection does: once feed() returns the
    // bytes are overwritten, so a decoder that kept a view instead of a copy gives wrong replies.
    const chunk = scratch.subarray(0, cut - start);
    bytes.copy(chunk, 0, start, cut);
    start = cut;
    fed += chunk.length;
    if (meter !== null) meter.largest = 0;
    try {
      d.feed(chunk);
      chunk.fill(0xaa);
    } catch (err) {
      if (!(err instanceof ProtocolError)) {
        throw new CaseFailure(`threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)} instead of ProtocolError`);
      }
      error = err.message;
      // A failed decoder must stay failed.
      try {
        d.feed(Buffer.from('+OK\r\n'));
        throw new CaseFailure('decoder accepted bytes after a protocol error');
      } catch (again) {
        if (again instanceof CaseFailure) throw again;
        if (!(again instanceof ProtocolError)) throw new CaseFailure('a failed decoder threw something other than ProtocolError');
      }
      break;
    } finally {
      // A little slack for the fixed-size probe written after an error.
      if (meter !== null && meter.largest > fed + 64) {
        throw new CaseFailure(`allocated ${meter.largest} bytes after only ${fed} bytes had arrived`);
      }
    }
  }
  return { replies, error, midReply: error === null && d.midReply };
}

function randomCuts(rng: Rng, length: number): number[] {
  if (length < 2) return [];
  const mode = rng.int(4);
  if (mode === 0 && length <= 400) return Array.from({ length: length - 1 }, (_, i) => i + 1); // one byte at a time
  const count = mode === 1 ? 1 : 1 + rng.int(Math.min(length - 1, 16));
  const cuts = new Set<number>();
  for (let i = 0; i < count; i++) cuts.add(1 + rng.int(length - 1));
  return [...cuts].sort((x, y) => x - y);
}

function sameOutcome(a: Outcome, b: Outcome): string | null {
  if (a.error !== b.error) return `error ${JSON.stringify(a.error)} vs ${JSON.stringify(b.error)}`;
  if (a.midReply !== b.midReply) return `midReply ${a.midReply} vs ${b.midReply}`;
  if (a.replies.length !== b.replies.length) return `${a.replies.length} replies vs ${b.replies.length}`;
  for (let i = 0; i < a.replies.length; i++) {
    if (a.replies[i] !== b.replies[i]) return `reply ${i}: ${a.replies[i]!.slice(0, 200)} vs ${b.replies[i]!.slice(0, 200)}`;
  }
  return null;
}

const KINDS = ['valid', 'valid', 'mutated', 'mutated', 'mutated', 'noise', 'noise', 'huge', 'huge', 'longline', 'deep'] as const;
/** The decoder's line limit in this fuzz: small, so lines around it are cheap to make. */
const LINE_LIMIT = 4096;

/** Runs one case; returns a failure description or null. Deterministic in (seed, index). */
export function runCase(seed: number, index: number, meter: AllocationMeter | null, chunkings = 3): { kind: string; bytes: Buffer; failure: string | null } {
  const rng = new Rng(seed, index);
  let kind: string = rng.pick(KINDS);
  const buffers = rng.chance(0.5);
  // A small limit sometimes, so the limit itself is exercised without big buffers.
  const maxBulk = rng.chance(0.3) ? 1 + rng.int(64) : 512 * 1024 * 1024;
  let bytes: Buffer;
  let want: string[] | null = null;
  if (kind === 'valid' || kind === 'mutated') {
    const models: Model[] = [];
    const parts: Buffer[] = [];
    const n = 1 + rng.int(5);
    const resp3 = rng.chance(0.5);
    if (resp3) kind += '-resp3';
    for (let i = 0; i < n; i++) {
      // Push frames only between replies, as a server sends them.
      const m = resp3 && rng.chance(0.25) ? { t: 'push' as const, v: genItems(rng, 0, 1 + rng.int(4)) } : genModel(rng, 0, resp3);
      models.push(m);
      encodeModel(m, parts, rng);
    }
    bytes = Buffer.concat(parts);
    if (kind.startsWith('valid')) {
      if (maxBulk < 512 * 1024 * 1024) bytes = mutate(rng, bytes); // limits make valid streams invalid: treat as mutated
      else want = models.map((m) => (m.t === 'push' ? pushFingerprint(expected(m, buffers) as Reply[]) : fingerprint(expected(m, buffers))));
    } else {
      bytes = mutate(rng, bytes);
    }
  } else if (kind === 'noise') {
    bytes = noise(rng);
  } else if (kind === 'huge') {
    bytes = huge(rng, maxBulk);
  } else if (kind === 'longline') {
    bytes = longLine(rng);
  } else {
    bytes = deep(rng);
  }
  try {
    const whole = decodeWith(bytes, [], buffers, maxBulk, meter);
    if (want !== null) {
      const diff = sameOutcome({ replies: want, error: null, midReply: false }, whole);
      if (diff !== null) return { kind, bytes, failure: `valid stream decoded wrongly: ${diff}` };
    }
    for (let i = 0; i < chunkings; i++) {
      const cuts = randomCuts(rng, bytes.length);
      const chunked = decodeWith(bytes, cuts, buffers, maxBulk, meter);
      const diff = sameOutcome(whole, chunked);
      if (diff !== null) return { kind, bytes, failure: `chunking at [${cuts.slice(0, 20).join(',')}${cuts.length > 20 ? ',…' : ''}] changed the outcome: ${diff}` };
    }
  } catch (err) {
    if (err instanceof CaseFailure) return { kind, bytes, failure: err.message };
    throw err;
  }
  return { kind, bytes, failure: null };
}

export interface FuzzReport {
  seed: number;
  cases: number;
  bytes: number;
  byKind: Record<string, number>;
  failures: FuzzFailure[];
  elapsedMs: number;
}

/** Runs `cases` cases from `first`; stops collecting after `maxFailures` failures. */
export function fuzz(options: { seed: number; cases: number; first?: number; maxFailures?: number; chunkings?: number; checkAllocations?: boolean; deadlineMs?: number }): FuzzReport {
  const { seed, cases } = options;
  const first = options.first ?? 0;
  const maxFailures = options.maxFailures ?? 10;
  const meter = options.checkAllocations === false ? null : new AllocationMeter();
  const report: FuzzReport = { seed, cases: 0, bytes: 0, byKind: {}, failures: [], elapsedMs: 0 };
  const started = performance.now();
  meter?.install();
  try {
    for (let i = first; i < first + cases; i++) {
      const { kind, bytes, failure } = runCase(seed, i, meter, options.chunkings);
      report.cases++;
      report.bytes += bytes.length;
      report.byKind[kind] = (report.byKind[kind] ?? 0) + 1;
      if (failure !== null) {
        report.failures.push({ seed, caseIndex: i, kind, message: failure, bytes: bytes.toString('hex') });
        if (report.failures.length >= maxFailures) break;
      }
      if (options.deadlineMs !== undefined && (i & 255) === 0 && performance.now() - started > options.deadlineMs) break;
    }
  } finally {
    meter?.uninstall();
  }
  report.elapsedMs = performance.now() - started;
  return report;
}
