import { Buffer } from 'node:buffer';
/**
 * How the cache facade turns values into the strings Redis stores, and back.
 *
 * The default is JSON with a small tagged encoding for what JSON loses: a tagged value is an
 * object `{"$t": <tag>, "v": <payload>}`, e.g. `{"$t":"Date","v":1700000000000}`. Plain
 * objects that happen to have a `$t` key are themselves wrapped (tag `Object`), so no user
 * data is ever mistaken for a tag. Safe integers are stored as bare digits, as Django's Redis
 * serializer stores ints unpickled, so INCRBY works on them and other clients can read them.
 */

export interface Serializer {
  dumps(value: unknown): string | Buffer;
  loads(data: string | Buffer): unknown;
  /** Set when `loads` needs the stored bytes as a Buffer rather than a UTF-8 string. */
  readonly binary?: boolean;
}

const TAG = '$t';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function tagged(tag: string, v: Json): Json {
  return { [TAG]: tag, v };
}

function encode(value: unknown, path: Set<object>): Json | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? (Object.is(value, -0) ? tagged('Num', '-0') : value) : tagged('Num', String(value));
    case 'bigint':
      return tagged('BigInt', value.toString());
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined; // as JSON does: dropped from objects, null in arrays
    case 'object':
      break;
  }
  if (value === null) return null;
  const obj = value as object;
  if (obj instanceof Date) return tagged('Date', Number.isNaN(obj.getTime()) ? null : obj.getTime());
  if (Buffer.isBuffer(obj)) return tagged('Buffer', obj.toString('base64'));
  if (obj instanceof Uint8Array) return tagged('Bytes', Buffer.from(obj.buffer, obj.byteOffset, obj.byteLength).toString('base64'));
  if (path.has(obj)) throw new TypeError('cache values cannot be circular');
  path.add(obj);
  try {
    if (Array.isArray(obj)) return obj.map((x) => encode(x, path) ?? null);
    if (obj instanceof Map) return tagged('Map', [...obj].map(([k, v]) => [encode(k, path) ?? null, encode(v, path) ?? null]));
    if (obj instanceof Set) return tagged('Set', [...obj].map((x) => encode(x, path) ?? null));
    const toJSON = (obj as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function' && !isPlainObject(obj)) return encode(toJSON.call(obj), path);
    const out: { [key: string]: Json } = {};
    for (const [k, v] of Object.entries(obj)) {
      const e = encode(v, path);
      if (e !== undefined) out[k] = e;
    }
    return Object.hasOwn(out, TAG) ? tagged('Object', out) : out;
  } finally {
    path.delete(obj);
  }
}

function decode(json: Json): unknown {
  if (json === null || typeof json !== 'object') return json;
  if (Array.isArray(json)) return json.map(decode);
  const tag = json[TAG];
  if (typeof tag !== 'string') return decodeEntries(json);
  const v = json['v'] ?? null;
  switch (tag) {
    case 'Object':
      return decodeEntries(v as { [key: string]: Json });
    case 'Date':
      return new Date(v === null ? NaN : (v as number));
    case 'Buffer':
      return Buffer.from(v as string, 'base64');
    case 'Bytes':
      return new Uint8Array(Buffer.from(v as string, 'base64'));
    case 'BigInt':
      return BigInt(v as string);
    case 'Num':
      return v === '-0' ? -0 : Number(v);
    case 'Map':
      return new Map((v as Json[][]).map(([k, x]) => [decode(k ?? null), decode(x ?? null)]));
    case 'Set':
      return new Set((v as Json[]).map(decode));
    default:
      return decodeEntries(json); // not one of ours: an ordinary object
  }
}

function decodeEntries(json: { [key: string]: Json }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(json)) out[k] = decode(v);
  return out;
}

const INTEGER = /^-?\d+$/;

/**
 * The default serializer. `loads` also accepts what it did not write: bare integers (from
 * INCRBY or another client) come back as numbers (bigint beyond 2^53), and anything that is
 * not JSON comes back as the stored string, so values set with raw commands stay readable.
 */
export const jsonSerializer: Serializer = {
  dumps(value: unknown): string {
    if (typeof value === 'number' && Number.isSafeInteger(value) && !Object.is(value, -0)) return String(value);
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') {
      throw new TypeError(`cannot cache ${typeof value === 'undefined' ? 'undefined (use null)' : `a ${typeof value}`}`);
    }
    return JSON.stringify(encode(value, new Set()));
  },
  loads(data: string | Buffer): unknown {
    const text = typeof data === 'string' ? data : data.toString('utf8');
    if (INTEGER.test(text)) {
      const n = Number(text);
      return Number.isSafeInteger(n) ? n : BigInt(text);
    }
    let json: Json;
    try {
      json = JSON.parse(text) as Json;
    } catch {
      return text;
    }
    return decode(json);
  },
};

/** Checks a user-supplied serializer's shape once, at construction. */
export function checkSerializer(s: unknown, where: string): Serializer {
  if (typeof s !== 'object' || s === null || typeof (s as Serializer).dumps !== 'function' || typeof (s as Serializer).loads !== 'function') {
    throw new TypeError(`${where}: a serializer must be an object with dumps(value) and loads(data) functions`);
  }
  return s as Serializer;
}
