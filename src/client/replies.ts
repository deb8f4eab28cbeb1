/**
 * Reply shapes the reference documents: booleans, objects, (member, score) pairs, dates and
 * parsed INFO / CLIENT LIST / SLOWLOG / DEBUG OBJECT texts.
 */
import { Buffer } from 'node:buffer';
import type { Reply } from '../resp/decode.ts';

/** A reply element as text (bulk strings may be Buffers in buffers mode). */
export function text(r: unknown): string {
  if (typeof r === 'string') return r;
  if (Buffer.isBuffer(r)) return r.toString();
  return String(r);
}

/** 'OK' → true; anything else as it is (redis-py's bool_ok). */
export function okToTrue(r: Reply): unknown {
  return r === 'OK' || (Buffer.isBuffer(r) && r.length === 2 && r.toString() === 'OK') ? true : r;
}

/** Integer 1/0 (or 'OK') → boolean; null → false. */
export function toBoolean(r: Reply): boolean {
  if (typeof r === 'number') return r !== 0;
  if (r === null) return false;
  return text(r) === 'OK' || text(r) === '1';
}

/** A float reply ('3.5', 'inf', '-inf') → number; null stays null. */
export function toFloat(r: Reply): number | null {
  if (r === null) return null;
  if (typeof r === 'number') return r;
  const s = text(r);
  if (s === 'inf' || s === '+inf') return Infinity;
  if (s === '-inf') return -Infinity;
  return Number(s);
}

/** [k1, v1, k2, v2, ...] → { k1: v1, ... } */
export function toObject(r: Reply): Record<string, Reply> {
  const out: Record<string, Reply> = {};
  if (Array.isArray(r)) for (let i = 0; i + 1 < r.length; i += 2) out[text(r[i])] = r[i + 1] as Reply;
  return out;
}

/** [m1, s1, m2, s2, ...] → [[m1, s1], ...] with numeric scores. */
export function toScorePairs(r: Reply, cast: (s: Reply) => unknown = toFloat): Array<[Reply, unknown]> {
  const out: Array<[Reply, unknown]> = [];
  if (Array.isArray(r)) for (let i = 0; i + 1 < r.length; i += 2) out.push([r[i] as Reply, cast(r[i + 1] as Reply)]);
  return out;
}

/** A number when the text is one (INFO and CLIENT LIST values), else the text. */
function scalar(v: string): string | number {
  if (v !== '' && /^-?\d+(\.\d+)?$/.test(v)) {
    const n = Number(v);
    if (Number.isSafeInteger(n) || v.includes('.')) return n;
  }
  return v;
}

export type InfoValue = string | number | Record<string, string | number>;

/**
 * INFO text → one flat object, as redis-py gives it: numbers as numbers, and values like
 * `keys=1,expires=0` (the keyspace section) as nested objects.
 */
export function parseInfo(r: Reply): Record<string, InfoValue> {
  const out: Record<string, InfoValue> = {};
  for (const line of text(r).split('\r\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon);
    const value = line.slice(colon + 1);
    if (value.includes('=') && /^[\w-]+=/.test(value) && !key.startsWith('executable') && !key.startsWith('config_file')) {
      const sub: Record<string, string | number> = {};
      for (const part of value.split(',')) {
        const eq = part.indexOf('=');
        if (eq > 0) sub[part.slice(0, eq)] = scalar(part.slice(eq + 1));
      }
      out[key] = sub;
    } else {
      out[key] = scalar(value);
    }
  }
  return out;
}

/** CLIENT LIST text → one object per client. */
export function parseClientList(r: Reply): Array<Record<string, string | number>> {
  return text(r)
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const client: Record<string, string | number> = {};
      for (const part of line.trim().split(' ')) {
        const eq = part.indexOf('=');
        if (eq > 0) client[part.slice(0, eq)] = scalar(part.slice(eq + 1));
      }
      return client;
    });
}

/** DEBUG OBJECT's `Value at:0x... refcount:1 encoding:...` → object. */
export function parseDebugObject(r: Reply): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const part of text(r).split(' ')) {
    const colon = part.indexOf(':');
    if (colon > 0) out[part.slice(0, colon)] = scalar(part.slice(colon + 1));
  }
  return out;
}

export interface SlowlogEntry {
  id: number;
  start_time: number;
  duration: number;
  command: string;
  client_address?: string;
  client_name?: string;
}

export function parseSlowlog(r: Reply): SlowlogEntry[] {
  if (!Array.isArray(r)) return [];
  return r.map((e) => {
    const item = e as Reply[];
    const entry: SlowlogEntry = {
      id: Number(item[0]),
      start_time: Number(item[1]),
      duration: Number(item[2]),
      command: Array.isArray(item[3]) ? item[3].map(text).join(' ') : '',
    };
    if (item.length > 4) entry.client_address = text(item[4]);
    if (item.length > 5) entry.client_name = text(item[5]);
    return entry;
  });
}

/** [cursor, items] with the cursor as a number (SCAN, SSCAN). */
export function parseScan(r: Reply): [number, Reply[]] {
  const a = r as Reply[];
  return [Number(text(a[0])), (a[1] as Reply[]) ?? []];
}
