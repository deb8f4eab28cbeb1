/**
 * The cache facade's options (Django's TIMEOUT, KEY_PREFIX, VERSION, KEY_FUNCTION), checked
 * once, and the timeout arithmetic every write shares.
 */
import { suggestion } from '../util/did-you-mean.ts';
import { checkSerializer, jsonSerializer, type Serializer } from './serializer.ts';

/** Django's default key function: `prefix:version:key`. */
export type KeyFunction = (key: string, keyPrefix: string, version: number) => string;

export interface CacheOptions {
  /** Seconds a value lives when a write gives no timeout; null: forever. Default 300. */
  timeout?: number | null;
  keyPrefix?: string;
  /** Version used when a call gives none. Default 1. */
  version?: number;
  keyFunction?: KeyFunction;
  serializer?: Serializer;
}

export interface ResolvedCacheOptions {
  readonly timeout: number | null;
  readonly keyPrefix: string;
  readonly version: number;
  readonly keyFunction: KeyFunction;
  /** Whether the key function is the default one, so clear() knows the key layout. */
  readonly defaultKeyFunction: boolean;
  readonly serializer: Serializer;
}

export const DEFAULT_TIMEOUT_SECONDS = 300;

export const defaultKeyFunction: KeyFunction = (key, keyPrefix, version) => `${keyPrefix}:${version}:${key}`;

const NAMES = ['timeout', 'keyPrefix', 'version', 'keyFunction', 'serializer'];

export function resolveCacheOptions(options: CacheOptions = {}, where = 'cache options'): ResolvedCacheOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${where}: options must be an object`);
  for (const key of Object.keys(options)) {
    if (!NAMES.includes(key)) throw new TypeError(`${where}: unknown option '${key}'${suggestion(key, NAMES)}`);
  }
  const timeout = options.timeout === undefined ? DEFAULT_TIMEOUT_SECONDS : checkTimeout(options.timeout, `${where}: timeout`);
  const keyPrefix = options.keyPrefix ?? '';
  if (typeof keyPrefix !== 'string') throw new TypeError(`${where}: keyPrefix must be a string`);
  const version = options.version ?? 1;
  checkVersion(version, `${where}: version`);
  const keyFunction = options.keyFunction ?? defaultKeyFunction;
  if (typeof keyFunction !== 'function') throw new TypeError(`${where}: keyFunction must be a function (key, keyPrefix, version) => string`);
  const serializer = options.serializer === undefined ? jsonSerializer : checkSerializer(options.serializer, where);
  return { timeout, keyPrefix, version, keyFunction, defaultKeyFunction: keyFunction === defaultKeyFunction, serializer };
}

/** A timeout in seconds: a finite number (zero or less: expire at once) or null (never). */
export function checkTimeout(timeout: unknown, what: string): number | null {
  if (timeout === null) return null;
  if (typeof timeout !== 'number' || !Number.isFinite(timeout)) {
    throw new TypeError(`${what} must be a number of seconds or null, got ${String(timeout)}`);
  }
  return timeout;
}

export function checkVersion(version: unknown, what: string): asserts version is number {
  if (typeof version !== 'number' || !Number.isSafeInteger(version)) {
    throw new TypeError(`${what} must be an integer, got ${String(version)}`);
  }
}

/**
 * Milliseconds to keep a value: null for no expiry, or 0 or less for "expire at once" (the
 * write then deletes instead, as Django's Redis cache does). Fractions of a second are kept.
 */
export function expiryMillis(timeout: number | null): number | null {
  if (timeout === null) return null;
  return timeout <= 0 ? 0 : Math.max(1, Math.round(timeout * 1000));
}
