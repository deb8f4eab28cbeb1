/**
 * createCaches(CACHES): Django's CACHES setting, as the reference writes it, turned into one
 * backend per alias. Every alias is checked before any backend is made, so a wrong setting
 * opens no connection; each error names the alias and the key that is wrong.
 */
import { Cache, type KeyFunction } from '../cache/index.ts';
import type { CacheBackend } from '../cache/target.ts';
import type { RedisCopyBase, RedisRingBase } from '../backends/index.ts';
import type { ConstRedisBase } from '../client/const-redis.ts';
import { CLIENT_OPTION_NAMES } from '../connection/options.ts';
import { ConfigError } from '../errors.ts';
import { suggestion } from '../util/did-you-mean.ts';
import { isPlainObject } from '../util/options.ts';
import { NOT_COMMANDS } from '../util/proxy.ts';
import { backendKind, type BackendKind } from './backend-kinds.ts';
import type { CachesConfig } from './caches-config.ts';
import { cachesFromEnv } from './load.ts';
import { locationList, parseLocation } from './location.ts';

export type { CacheConfig, CachesConfig } from './caches-config.ts';

/** Any command by method name, as the backends run them. */
type CommandFn = (...args: unknown[]) => Promise<unknown>;

/**
 * A backend made from configuration: a RedisRing, RedisCopy or ConstRedis (narrow it with a
 * cast when its own members matter), every command as a method, and `.cache`, the
 * Django-style facade configured by TIMEOUT, KEY_PREFIX, VERSION and KEY_FUNCTION.
 */
export type ConfiguredBackend = (RedisRingBase | RedisCopyBase | ConstRedisBase) & { readonly cache: Cache } & { [command: string]: CommandFn };

export interface CachesMembers {
  /** Closes every connection of every alias. */
  closeAll(): Promise<void>;
  /** Django's name for closeAll. */
  close_all(): Promise<void>;
  /** The configured aliases. */
  readonly aliases: readonly string[];
}

/** The backends by alias: `caches['redis_ring']`. An unknown alias is a ConfigError. */
export type Caches = { readonly [alias: string]: ConfiguredBackend } & CachesMembers;

const ALIAS_KEYS = ['BACKEND', 'LOCATION', 'DB', 'OPTIONS', 'TIMEOUT', 'KEY_PREFIX', 'VERSION', 'KEY_FUNCTION'];
const RESERVED = new Set(['closeAll', 'close_all', 'aliases']);

/** Every backend made by createCaches and not yet closed, for the module-level closeAll(). */
const live = new Set<CacheBackend>();


interface CheckedAlias {
  alias: string;
  where: string;
  kind: BackendKind;
  location: unknown[];
  params: { DB?: number; OPTIONS?: Record<string, unknown> };
  cacheOptions: ConstructorParameters<typeof Cache>[1];
}

function checkAlias(alias: string, config: unknown): CheckedAlias {
  const where = `CACHES['${alias}']`;
  if (RESERVED.has(alias)) throw new ConfigError(`${where}: '${alias}' is reserved; choose another alias`);
  if (!isPlainObject(config)) throw new ConfigError(`${where} must be an object with BACKEND and LOCATION`);
  for (const key of Object.keys(config)) {
    if (!ALIAS_KEYS.includes(key)) throw new ConfigError(`${where}: unknown key '${key}'${suggestion(key, ALIAS_KEYS)}`);
  }
  if (config['BACKEND'] === undefined) throw new ConfigError(`${where}: BACKEND is missing; use 'redisdb.backends.RedisRing' or 'redisdb.backends.RedisCopy'`);
  const kind = backendKind(config['BACKEND'], where);
  if (config['LOCATION'] === undefined) throw new ConfigError(`${where}: LOCATION is missing; give a list of node addresses such as ['127.0.0.1:6379']`);
  const location = locationList(config['LOCATION'], `${where}.LOCATION`);
  if (location.length > kind.maxNodes) {
    throw new ConfigError(`${where}.LOCATION: ${kind.name} takes ${kind.maxNodes} address, got ${location.length}; use RedisRing or RedisCopy for several`);
  }
  location.forEach((entry, i) => {
    // Object entries ({ host, port, weight }) are checked by the backend itself.
    if (!isPlainObject(entry)) parseLocation(entry, `${where}.LOCATION[${i}]`);
  });

  // django-redisdb's own example settings write the number as a string ('DB': '0').
  const db = typeof config['DB'] === 'string' && /^\d+$/.test(config['DB']) ? Number(config['DB']) : config['DB'];
  if (db !== undefined && (typeof db !== 'number' || !Number.isSafeInteger(db) || db < 0)) {
    throw new ConfigError(`${where}.DB must be a database number (an integer from 0, or its digits as a string), got ${JSON.stringify(db)}`);
  }
  const options = config['OPTIONS'] ?? {};
  if (!isPlainObject(options)) throw new ConfigError(`${where}.OPTIONS must be an object`);
  const known = new Set([...CLIENT_OPTION_NAMES, ...kind.extraOptions]);
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw new ConfigError(`${where}.OPTIONS: unknown option '${key}'${suggestion(key, known)}`);
  }
  if (options['db'] !== undefined || options['DB'] !== undefined) {
    throw new ConfigError(`${where}.OPTIONS: give the database as DB next to OPTIONS, not inside it`);
  }

  const timeout = config['TIMEOUT'];
  if (timeout !== undefined && timeout !== null && (typeof timeout !== 'number' || !Number.isFinite(timeout))) {
    throw new ConfigError(`${where}.TIMEOUT must be a number of seconds or null, got ${JSON.stringify(timeout)}`);
  }
  const prefix = config['KEY_PREFIX'];
  if (prefix !== undefined && typeof prefix !== 'string') throw new ConfigError(`${where}.KEY_PREFIX must be a string`);
  const version = config['VERSION'];
  if (version !== undefined && (typeof version !== 'number' || !Number.isSafeInteger(version))) {
    throw new ConfigError(`${where}.VERSION must be an integer, got ${JSON.stringify(version)}`);
  }
  const keyFunction = config['KEY_FUNCTION'];
  if (keyFunction !== undefined && typeof keyFunction !== 'function') {
    throw new ConfigError(`${where}.KEY_FUNCTION must be a function (key, keyPrefix, version) => string`);
  }

  const params: CheckedAlias['params'] = { OPTIONS: options };
  if (db !== undefined) params.DB = db as number;
  const cacheOptions: CheckedAlias['cacheOptions'] = {};
  if (timeout !== undefined) cacheOptions.timeout = timeout as number | null;
  if (prefix !== undefined) cacheOptions.keyPrefix = prefix as string;
  if (version !== undefined) cacheOptions.version = version as number;
  if (keyFunction !== undefined) cacheOptions.keyFunction = keyFunction as KeyFunction;
  return { alias, where, kind, location, params, cacheOptions };
}

function build(checked: CheckedAlias): ConfiguredBackend {
  let backend: CacheBackend;
  try {
    backend = checked.kind.create(checked.location, checked.params, checked.where);
  } catch (err) {
    if (err instanceof ConfigError && err.message.startsWith(checked.where)) throw err;
    const e = err as Error;
    throw new ConfigError(`${checked.where}: ${e.message}`, { cause: e });
  }
  attachCache(backend, new Cache(backend, checked.cacheOptions));
  return backend as ConfiguredBackend;
}

/** Gives a backend its `.cache`; an own property, so it shadows any command of that name. */
export function attachCache(backend: CacheBackend, cache: Cache): void {
  Object.defineProperty(backend, 'cache', { value: cache, enumerable: false, configurable: true, writable: false });
}

/**
 * Makes the backends of a CACHES setting. Without an argument, the setting is read from the
 * REDISDB_CACHES environment variable (JSON, or the path of a JSON file).
 */
export function createCaches(config?: CachesConfig): Caches {
  const source = config === undefined ? cachesFromEnv() : config;
  if (!isPlainObject(source)) throw new ConfigError('CACHES must be an object mapping aliases to { BACKEND, LOCATION, ... }');
  const aliases = Object.keys(source);
  if (aliases.length === 0) throw new ConfigError('CACHES is empty; configure at least one alias');
  const checked = aliases.map((alias) => checkAlias(alias, source[alias]));

  const backends: Record<string, ConfiguredBackend> = Object.create(null) as Record<string, ConfiguredBackend>;
  try {
    for (const c of checked) backends[c.alias] = build(c);
  } catch (err) {
    for (const b of Object.values(backends)) void b.close();
    throw err;
  }
  for (const b of Object.values(backends)) live.add(b);

  const closeAllOfThese = async (): Promise<void> => {
    const list = Object.values(backends);
    for (const b of list) live.delete(b);
    await Promise.all(list.map((b) => b.close()));
  };
  const target = backends as unknown as Record<string, unknown>;
  Object.defineProperties(target, {
    closeAll: { value: closeAllOfThese, enumerable: false },
    close_all: { value: closeAllOfThese, enumerable: false },
    aliases: { value: Object.freeze(aliases.slice()), enumerable: false },
  });
  // Django raises InvalidCacheBackendError for an unknown alias; so does this, with a suggestion.
  return new Proxy(target, {
    get(obj, prop, receiver) {
      if (typeof prop === 'symbol' || prop in obj || NOT_COMMANDS.has(prop)) return Reflect.get(obj, prop, receiver);
      throw new ConfigError(`no cache alias '${prop}'${suggestion(prop, aliases)}; configured: ${aliases.join(', ')}`);
    },
  }) as unknown as Caches;
}

/** Closes every connection of every backend made by createCaches, so the process can exit. */
export async function closeAll(): Promise<void> {
  const list = [...live];
  live.clear();
  await Promise.all(list.map((b) => b.close()));
}
