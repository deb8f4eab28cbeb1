/**
 * RESP2 request encoding: a command is an array of bulk strings.
 *
 * Encoding validates every argument before anything is appended, so a bad argument is a
 * TypeError that leaves the outgoing buffer untouched.
 */

/** What may be sent as one argument of a command. */
export type CommandArg = string | number | bigint | Uint8Array;

const CRLF = '\r\n';

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

/**
 * Appends commands to an outgoing batch. Small commands are joined into one string (cheap in
 * V8); binary arguments are kept as separate chunks so they are never copied into a string.
 */
export class RequestWriter {
  private text = '';
  private chunks: Array<string | Uint8Array> = [];
  /** Commands appended since the last take(). */
  count = 0;

  /** Encodes one command. Throws a TypeError (and appends nothing) on a bad argument. */
  write(args: readonly unknown[], commandName?: string): void {
    let s = '*' + args.length + CRLF;
    let parts: Array<string | Uint8Array> | null = null;
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (typeof a === 'string') {
        s += '$' + Buffer.byteLength(a) + CRLF + a + CRLF;
      } else if (typeof a === 'number') {
        const t = numberToArg(a);
        if (t === null) {
          throw argumentError(commandName ?? String(args[0]), i, a,
            "expected a finite number (pass Redis's '+inf' / '-inf' as strings)");
        }
        s += '$' + t.length + CRLF + t + CRLF;
      } else if (a instanceof Uint8Array) {
        if (parts === null) parts = [];
        parts.push(s + '$' + a.byteLength + CRLF, a);
        s = CRLF;
      } else if (typeof a === 'bigint') {
        const t = a.toString();
        s += '$' + t.length + CRLF + t + CRLF;
      } else {
        throw argumentError(commandName ?? String(args[0]), i, a);
      }
    }
    if (parts === null) {
      this.text += s;
    } else {
      parts[0] = this.text + (parts[0] as string);
      this.text = '';
      for (const p of parts) this.chunks.push(p);
      this.text = s;
    }
    this.count++;
  }

  get empty(): boolean {
    return this.count === 0;
  }

  /** Hands over everything written so far and starts a new batch. */
  take(): string | Array<string | Uint8Array> {
    const text = this.text;
    this.text = '';
    this.count = 0;
    if (this.chunks.length === 0) return text;
    const chunks = this.chunks;
    if (text.length > 0) chunks.push(text);
    this.chunks = [];
    return chunks;
  }
}

/** One command as bytes: for tests, tools and one-off writes. */
export function encodeCommand(args: readonly unknown[]): Buffer {
  const w = new RequestWriter();
  w.write(args);
  const out = w.take();
  if (typeof out === 'string') return Buffer.from(out);
  return Buffer.concat(out.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
}
