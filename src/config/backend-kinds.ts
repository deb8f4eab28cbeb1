/**
 * The BACKEND names a CACHES entry may use, and how each kind is built from its LOCATION and
 * parameters. Long names are the reference's (`redisdb.backends.RedisRing`); short names work too.
 */
import { RedisCluster, RedisCopy, RedisRing, type ReferenceParams } from '../backends/index.ts';
import { ConstRedis } from '../client/const-redis.ts';
import type { ClientOptions } from '../connection/options.ts';
import type { CacheBackend } from '../cache/target.ts';
import { ConfigError } from '../errors.ts';
import { suggestion } from '../util/did-you-mean.ts';
import { parseLocation } from './location.ts';

export interface BackendParams {
  DB?: number;
  OPTIONS?: Record<string, unknown>;
}

export interface BackendKind {
  /** The short name: 'RedisRing', 'RedisCopy', 'ConstRedis'. */
  readonly name: string;
  /** Option names its OPTIONS may hold besides the client's own. */
  readonly extraOptions: readonly string[];
  /** Most LOCATION entries it accepts (ConstRedis is one server). */
  readonly maxNodes: number;
  create(location: readonly unknown[], params: BackendParams, where: string): CacheBackend;
}

/** One server: LOCATION holds exactly one address; the address's own db wins over DB, as for ring nodes. */
const constRedisKind: BackendKind = {
  name: 'ConstRedis',
  extraOptions: [],
  maxNodes: 1,
  create(location, params, where) {
    const own = parseLocation(location[0], `${where}.LOCATION[0]`);
    const options: ClientOptions = { ...(params.OPTIONS as ClientOptions | undefined) };
    if (params.DB !== undefined) options.db = params.DB;
    return new ConstRedis({ ...options, ...own });
  },
};

const kinds = new Map<string, BackendKind>();

/** Makes a backend kind available under its short name and `redisdb.backends.<name>`. */
export function registerBackendKind(kind: BackendKind): void {
  kinds.set(kind.name, kind);
  kinds.set(`redisdb.backends.${kind.name}`, kind);
}

/** Ring and Copy read LOCATION and { DB, OPTIONS } themselves, as the reference's constructors do. */
function nodesKind(name: string, Backend: new (location: readonly (string | object)[], params: ReferenceParams) => CacheBackend): BackendKind {
  return {
    name,
    extraOptions: ['hashing', 'hash_tag', 'hashTag'],
    maxNodes: Infinity,
    create: (location, params) => new Backend(location as (string | object)[], params as ReferenceParams),
  };
}

registerBackendKind(constRedisKind);
registerBackendKind(nodesKind('RedisRing', RedisRing));
registerBackendKind(nodesKind('RedisCopy', RedisCopy));
// LOCATION: seed nodes; the cluster's own slot map names the rest.
registerBackendKind({
  name: 'RedisCluster',
  extraOptions: ['max_redirections', 'maxRedirections', 'read_from', 'readFrom', 'nat_map', 'natMap', 'slots_refresh_interval', 'slotsRefreshInterval', 'retry_window', 'retryWindow'],
  maxNodes: Infinity,
  create: (location, params) => new RedisCluster(location as (string | object)[], params as ReferenceParams),
});

export function backendKind(name: unknown, where: string): BackendKind {
  if (typeof name !== 'string') throw new ConfigError(`${where}.BACKEND must be a string such as 'redisdb.backends.RedisRing'`);
  const kind = kinds.get(name);
  if (kind !== undefined) return kind;
  const long = [...kinds.keys()].filter((k) => k.startsWith('redisdb.'));
  // Suggested from the long and the short names alike: 'RedisRnig' and 'redisdb.backends.RedisRnig'.
  throw new ConfigError(`${where}.BACKEND: unknown backend '${name}'${suggestion(name, kinds.keys())}; expected one of: ${long.join(', ')}`);
}
