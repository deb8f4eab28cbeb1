/**
 * RedisCluster's own options, taken out before the shared backend options are read (by
 * backendConfig, as for RedisRing): how many redirects a command may follow, where reads go,
 * the address translation for nodes behind NAT, and how often the slot map is read again.
 */
import { ConfigError } from '../errors.ts';
import { isPlainObject, pick } from '../util/options.ts';
import type { ClientOptions } from '../connection/options.ts';
import type { NatMap } from './slot-map.ts';

export type ReadFrom = 'primary' | 'replica' | 'prefer_replica';

/** RedisCluster's options as given, in both spellings. */
export interface ClusterOptionsInput {
  /** Redirects (MOVED, ASK, TRYAGAIN, CLUSTERDOWN) a command may follow (default 16). */
  max_redirections?: number;
  maxRedirections?: number;
  /** Where reads go: 'primary' (default), 'replica', 'prefer_replica' (a replica when one is known). */
  read_from?: ReadFrom;
  readFrom?: ReadFrom;
  /** Announced 'host:port' → the 'host:port' to dial, for nodes behind NAT or in containers. */
  nat_map?: Record<string, string>;
  natMap?: Record<string, string>;
  /** Milliseconds between background slot map reads, jittered ±20% (default 30000; 0: only on events). */
  slots_refresh_interval?: number;
  slotsRefreshInterval?: number;
  /** Milliseconds a command keeps following redirects and waiting out a failover (default: socket_timeout, or 10000). */
  retry_window?: number;
  retryWindow?: number;
  /** Milliseconds a health-check PING or a slot map read may take (default 1000). */
  health_check_timeout?: number;
  healthCheckTimeout?: number;
}

export interface ClusterOptions {
  readonly maxRedirections: number;
  readonly readFrom: ReadFrom;
  readonly natMap: NatMap | null;
  readonly refreshInterval: number;
  /** null: socket_timeout, else 10 s. */
  readonly retryWindow: number | null;
}

export interface ClusterParams {
  DB?: number;
  OPTIONS?: ClientOptions & ClusterOptionsInput;
  TIMEOUT?: number | null;
  KEY_PREFIX?: string;
  VERSION?: number;
  KEY_FUNCTION?: unknown;
}

export interface ClusterConstructorOptions extends ClientOptions, ClusterOptionsInput {
  nodes: readonly (string | ClientOptions)[] | string;
}

const OWN = [
  'max_redirections', 'maxRedirections', 'read_from', 'readFrom', 'nat_map', 'natMap',
  'slots_refresh_interval', 'slotsRefreshInterval', 'retry_window', 'retryWindow',
];

/** Ring options that mean nothing where the cluster places keys by slot. */
const NOT_HERE = [
  'hashing', 'hash_tag', 'hashTag', 'empty_key_hash', 'emptyKeyHash', 'server_failure_limit', 'serverFailureLimit',
  'server_retry_timeout', 'serverRetryTimeout', 'auto_eject_hosts', 'autoEjectHosts',
];

export const DEFAULT_MAX_REDIRECTIONS = 16;
export const DEFAULT_REFRESH_INTERVAL = 30_000;
export const DEFAULT_RETRY_WINDOW = 10_000;

/**
 * Splits either constructor form into the cluster's options and what backendConfig reads
 * (the seeds and the client options every node shares).
 */
export function splitClusterOptions(first: unknown, params: unknown): { first: unknown; params: unknown; cluster: ClusterOptions } {
  let options: Record<string, unknown>;
  let rest: Record<string, unknown>;
  if (isPlainObject(first)) {
    ({ rest, own: options } = take(first));
    first = rest;
  } else {
    if (params !== undefined && isPlainObject(params)) {
      const p = params as Record<string, unknown>;
      if (p['DB'] !== undefined && Number(p['DB']) !== 0) throw new ConfigError(`RedisCluster: a cluster has database 0 only, got DB ${String(p['DB'])}`);
      const o = p['OPTIONS'];
      if (isPlainObject(o)) {
        ({ rest, own: options } = take(o));
        params = { ...p, OPTIONS: rest };
      } else options = {};
    } else options = {};
  }
  return { first, params, cluster: clusterOptions(options) };
}

function take(o: Record<string, unknown>): { rest: Record<string, unknown>; own: Record<string, unknown> } {
  const rest: Record<string, unknown> = {};
  const own: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (NOT_HERE.includes(k)) throw new ConfigError(`RedisCluster: '${k}' does not apply: the cluster places every key by its slot (CRC16 of the key or its {hash tag})`);
    if ((k === 'db' || k === 'DB') && v !== undefined && Number(v) !== 0) throw new ConfigError(`RedisCluster: a cluster has database 0 only, got db ${String(v)}`);
    if (OWN.includes(k)) own[k] = v;
    else rest[k] = v;
  }
  return { rest, own };
}

function clusterOptions(o: Record<string, unknown>): ClusterOptions {
  const kind = 'RedisCluster';
  const max = pick(o, kind, 'max_redirections', 'maxRedirections') ?? DEFAULT_MAX_REDIRECTIONS;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 0 || max > 1000) {
    throw new ConfigError(`${kind}: max_redirections must be an integer from 0 to 1000, got ${String(max)}`);
  }
  const readFrom = pick(o, kind, 'read_from', 'readFrom') ?? 'primary';
  if (readFrom !== 'primary' && readFrom !== 'replica' && readFrom !== 'prefer_replica') {
    throw new ConfigError(`${kind}: read_from must be 'primary', 'replica' or 'prefer_replica', got ${JSON.stringify(readFrom)}`);
  }
  const nat = pick(o, kind, 'nat_map', 'natMap') ?? null;
  if (nat !== null) {
    if (!isPlainObject(nat)) throw new ConfigError(`${kind}: nat_map must be an object of 'host:port' → 'host:port'`);
    for (const [from, to] of Object.entries(nat)) {
      if (typeof to !== 'string' || !/^.+:\d+$/.test(to) || !/^.+:\d+$/.test(from)) {
        throw new ConfigError(`${kind}: nat_map entries must map 'host:port' to 'host:port', got ${JSON.stringify(from)} → ${JSON.stringify(to)}`);
      }
    }
  }
  const interval = pick(o, kind, 'slots_refresh_interval', 'slotsRefreshInterval') ?? DEFAULT_REFRESH_INTERVAL;
  if (typeof interval !== 'number' || !Number.isFinite(interval) || interval < 0 || interval > 86_400_000) {
    throw new ConfigError(`${kind}: slots_refresh_interval must be milliseconds from 0 to 86400000, got ${String(interval)}`);
  }
  const windowMs = pick(o, kind, 'retry_window', 'retryWindow') ?? null;
  if (windowMs !== null && (typeof windowMs !== 'number' || !Number.isFinite(windowMs) || windowMs < 0 || windowMs > 86_400_000)) {
    throw new ConfigError(`${kind}: retry_window must be milliseconds from 0 to 86400000, got ${String(windowMs)}`);
  }
  return Object.freeze({
    maxRedirections: max, readFrom, natMap: nat === null ? null : Object.freeze({ ...(nat as Record<string, string>) }),
    refreshInterval: interval, retryWindow: windowMs as number | null,
  });
}
