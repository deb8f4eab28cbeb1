/** The shape of Django's CACHES setting, as createCaches, REDISDB_CACHES and JSON files give it. */
import type { KeyFunction } from '../cache/index.ts';

/** One alias of CACHES, as in Django's settings (and the reference's Configuration). */
export interface CacheConfig {
  BACKEND: string;
  LOCATION: string | ReadonlyArray<string | Record<string, unknown>>;
  /** The database number; a string of digits ('0') is read as that number. */
  DB?: number | string;
  OPTIONS?: Record<string, unknown>;
  /** The cache facade's default timeout in seconds (null: never expires). Default 300. */
  TIMEOUT?: number | null;
  KEY_PREFIX?: string;
  VERSION?: number;
  KEY_FUNCTION?: KeyFunction;
}

export type CachesConfig = Record<string, CacheConfig>;
