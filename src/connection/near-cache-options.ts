/**
 * The near cache's options: how much it keeps, for how long at most, and how the server tells
 * it what changed (CLIENT TRACKING's default, BCAST or OPTIN mode). Read and checked once,
 * with the client's other options; the cache receives the typed settings.
 *
 * `nearCache` takes times in milliseconds, `near_cache` in seconds, as the client's other
 * options do; the keys inside either may be written in camelCase or snake_case.
 */
import { ConfigError } from '../errors.ts';
import { isPlainObject, pick } from '../util/options.ts';

export type NearCacheMode = 'default' | 'bcast' | 'optin';

/** The near cache as given: `true` for the defaults, or an object. */
export interface NearCacheOptions {
  /** Most entries kept per node (default 10,000); the least recently used go first. */
  maxEntries?: number;
  max_entries?: number;
  /** Most bytes kept per node, as estimated (default 64 MiB). */
  maxBytes?: number;
  max_bytes?: number;
  /**
   * Longest an entry is served without asking the server again, whatever the invalidations
   * say: a backstop (default 5 minutes). Milliseconds under `nearCache`, seconds under `near_cache`.
   */
  ttl?: number;
  /**
   * 'default': the server remembers each key this client read and says when it changes.
   * 'bcast': the server says when any key under `prefixes` changes (nothing remembered per key).
   * 'optin': as 'default', but only the reads the cache keeps are remembered by the server.
   */
  mode?: NearCacheMode;
  /** Only keys starting with one of these are cached; in 'bcast' mode, the server's PREFIX list too. */
  prefixes?: readonly string[];
  /**
   * How often the invalidation connection is PINGed (default 3 s), so that a silently lost one
   * is noticed and the cache flushed. Milliseconds under `nearCache`, seconds under `near_cache`.
   */
  pingInterval?: number;
  ping_interval?: number;
}

export interface NearCacheSettings {
  readonly maxEntries: number;
  readonly maxBytes: number;
  /** Milliseconds. */
  readonly ttl: number;
  readonly mode: NearCacheMode;
  /** Empty: every key. */
  readonly prefixes: readonly string[];
  /** Milliseconds. */
  readonly pingInterval: number;
}

export const NEAR_CACHE_DEFAULTS: NearCacheSettings = Object.freeze({
  maxEntries: 10_000,
  maxBytes: 64 * 1024 * 1024,
  ttl: 300_000,
  mode: 'default',
  prefixes: Object.freeze([]) as readonly string[],
  pingInterval: 3_000,
});

const NAMES = new Set([
  'maxEntries', 'max_entries', 'maxBytes', 'max_bytes', 'ttl', 'mode', 'prefixes', 'pingInterval', 'ping_interval',
]);
const MODES: readonly NearCacheMode[] = ['default', 'bcast', 'optin'];

function fail(where: string, message: string): never {
  throw new ConfigError(`${where}: ${message}`);
}

function count(where: string, name: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) fail(where, `${name} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

function time(where: string, name: string, v: unknown, scale: number, fallback: number, min: number): number {
  if (v === undefined) return fallback;
  const unit = scale === 1 ? 'milliseconds' : 'seconds';
  if (typeof v !== 'number' || !Number.isFinite(v) || v * scale < min) fail(where, `${name} must be ${unit}, at least ${min / scale}, got ${JSON.stringify(v)}`);
  return v * scale;
}

/**
 * The checked settings, or null when neither spelling is given (or it is false).
 * `input` holds the client's options as given.
 */
export function nearCacheSettings(input: Record<string, unknown>, where: string): NearCacheSettings | null {
  const camel = input['nearCache'];
  const snake = input['near_cache'];
  if (camel !== undefined && snake !== undefined) fail(where, 'give nearCache or near_cache, not both');
  const given = camel ?? snake;
  if (given === undefined || given === null || given === false) return null;
  const at = camel !== undefined ? `${where} nearCache` : `${where} near_cache`;
  if (given === true) return NEAR_CACHE_DEFAULTS;
  if (!isPlainObject(given)) fail(at, `must be true or an object, got ${Array.isArray(given) ? 'an array' : typeof given}`);
  for (const key of Object.keys(given)) if (!NAMES.has(key)) fail(at, `unknown option '${key}'; expected one of: ${[...NAMES].join(', ')}`);
  // The container's spelling says the unit, as for the client's own times.
  const scale = camel !== undefined ? 1 : 1000;
  const d = NEAR_CACHE_DEFAULTS;
  const mode = given['mode'] ?? d.mode;
  if (!MODES.includes(mode as NearCacheMode)) fail(at, `mode must be one of ${MODES.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(mode)}`);
  const prefixes = given['prefixes'] ?? [];
  if (!Array.isArray(prefixes) || prefixes.some((p) => typeof p !== 'string' || p.length === 0)) {
    fail(at, 'prefixes must be a list of non-empty strings');
  }
  const list = prefixes as string[];
  // The server refuses overlapping prefixes (one the start of another) in BCAST mode.
  for (const a of list) {
    for (const b of list) if (a !== b && b.startsWith(a)) fail(at, `prefixes '${a}' and '${b}' overlap; give only '${a}'`);
  }
  if (new Set(list).size !== list.length) fail(at, 'prefixes lists a prefix twice');
  return Object.freeze({
    maxEntries: count(at, 'maxEntries', pick(given, at, 'max_entries', 'maxEntries'), d.maxEntries),
    maxBytes: count(at, 'maxBytes', pick(given, at, 'max_bytes', 'maxBytes'), d.maxBytes),
    ttl: time(at, 'ttl', given['ttl'], scale, d.ttl, 1),
    mode: mode as NearCacheMode,
    prefixes: Object.freeze([...list]),
    pingInterval: time(at, 'pingInterval', pick(given, at, 'ping_interval', 'pingInterval'), scale, d.pingInterval, 10),
  });
}

export const NEAR_CACHE_OPTION_NAMES: readonly string[] = ['nearCache', 'near_cache'];
