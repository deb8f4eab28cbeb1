/**
 * Cursor iterators over SCAN, HSCAN, SSCAN and ZSCAN: async generators that hide the cursor
 * and end when the server hands it back as 0. As SCAN guarantees, an element present for the
 * whole walk is yielded at least once; one added or removed meanwhile may or may not be.
 */
import type { Bulk, Key } from './types.ts';

export interface ScanIterOptions {
  /** Glob-style pattern the names must match. */
  match?: string;
  /** A hint for how many elements each round trip looks at. */
  count?: number;
  /** Only keys of this type (SCAN only): 'string', 'hash', 'zset'... */
  type?: string;
  _type?: string;
  /** Casts each score (ZSCAN only), instead of parsing it as a float. */
  score_cast_func?: (score: string) => unknown;
  scoreCastFunc?: (score: string) => unknown;
}

/** Runs one cursor step: what the client's scan / hscan / sscan / zscan methods do. */
export type ScanStep = (method: string, args: unknown[]) => Promise<unknown>;

const COMMON = ['match', 'count'];

function checkOptions(method: string, o: ScanIterOptions, allowed: readonly string[]): Record<string, unknown> {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new TypeError(`${method}: options must be an object`);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(o)) {
    if (!allowed.includes(key)) throw new TypeError(`${method}: unknown option '${key}'; expected one of: ${allowed.join(', ')}`);
    if (value === undefined || value === null) continue;
    if ((key === 'match' || key === 'type' || key === '_type') && typeof value !== 'string') {
      throw new TypeError(`${method}: ${key} must be a string, got ${typeof value}`);
    }
    if (key === 'count' && (!Number.isInteger(value) || (value as number) < 1)) {
      throw new RangeError(`${method}: count must be a positive integer, got ${String(value)}`);
    }
    if ((key === 'score_cast_func' || key === 'scoreCastFunc') && typeof value !== 'function') {
      throw new TypeError(`${method}: ${key} must be a function`);
    }
    out[key] = value;
  }
  return out;
}

function checkKey(method: string, key: unknown): void {
  if (typeof key !== 'string' && !(key instanceof Uint8Array)) throw new TypeError(`${method}: the key must be a string or a Buffer, got ${typeof key}`);
}

/** Walks a cursor to its end: `step(cursor)` returns [nextCursor, items]. */
async function* walk<T>(step: (cursor: number) => Promise<[number, T[]]>): AsyncGenerator<T, void, undefined> {
  let cursor = 0;
  do {
    const [next, items] = await step(cursor);
    for (const item of items) yield item;
    cursor = next;
  } while (cursor !== 0);
}

// The options are checked when the iterator is made, so bad input throws before anything is sent.

/** Every key name (SCAN). */
export function scanIter(run: ScanStep, options: ScanIterOptions = {}): AsyncGenerator<Bulk, void, undefined> {
  const o = checkOptions('scan_iter', options, [...COMMON, 'type', '_type']);
  return walk((cursor) => run('scan', [cursor, o]) as Promise<[number, Bulk[]]>);
}

/** Every [field, value] of a hash (HSCAN). */
export function hscanIter(run: ScanStep, name: Key, options: ScanIterOptions = {}): AsyncGenerator<[string, Bulk], void, undefined> {
  checkKey('hscan_iter', name);
  const o = checkOptions('hscan_iter', options, COMMON);
  return walk(async (cursor) => {
    const [next, fields] = (await run('hscan', [name, cursor, o])) as [number, Record<string, Bulk>];
    return [next, Object.entries(fields)];
  });
}

/** Every member of a set (SSCAN). */
export function sscanIter(run: ScanStep, name: Key, options: ScanIterOptions = {}): AsyncGenerator<Bulk, void, undefined> {
  checkKey('sscan_iter', name);
  const o = checkOptions('sscan_iter', options, COMMON);
  return walk((cursor) => run('sscan', [name, cursor, o]) as Promise<[number, Bulk[]]>);
}

/** Every [member, score] of a sorted set (ZSCAN); scores are numbers unless cast otherwise. */
export function zscanIter(run: ScanStep, name: Key, options: ScanIterOptions = {}): AsyncGenerator<[Bulk, unknown], void, undefined> {
  checkKey('zscan_iter', name);
  const o = checkOptions('zscan_iter', options, [...COMMON, 'score_cast_func', 'scoreCastFunc']);
  return walk((cursor) => run('zscan', [name, cursor, o]) as Promise<[number, Array<[Bulk, unknown]>]>);
}
