/**
 * A backend's options, read once. Either constructor form — the reference's
 * `(LOCATION, { DB, OPTIONS })` or `{ nodes, db, ...options }` — becomes one typed
 * BackendConfig: each node's client options, the placement, node health and (RedisCopy) the
 * write options. Everything is checked here, before any node connects; the rest of the
 * backend receives typed options and never reads the user's input again.
 */
import {
  CLIENT_OPTION_NAMES, addressOf, checkOptionNames, redactUrl, resolveOptions,
  type ClientOptions,
} from '../connection/options.ts';
import { parseAddress } from '../connection/address.ts';
import { ConfigError } from '../errors.ts';
import { validateHashTag, type EmptyKeyHash } from '../hash/index.ts';
import { isPlainObject, pick } from '../util/options.ts';

/** Health options as given to RedisRing and RedisCopy (times in milliseconds in both spellings). */
export interface NodeHealthOptions {
  server_failure_limit?: number;
  serverFailureLimit?: number;
  server_retry_timeout?: number;
  serverRetryTimeout?: number;
  auto_eject_hosts?: boolean;
  autoEjectHosts?: boolean;
  /** Milliseconds a health-check PING may take before its node counts as hung (default 1000). */
  health_check_timeout?: number;
  healthCheckTimeout?: number;
}

export interface HealthOptions {
  /** Consecutive failures after which a node is taken out (twemproxy's default: 2). */
  readonly failureLimit: number;
  /**
   * Milliseconds a node stays out before a PING may bring it back. Default 2 s: twemproxy's
   * 30 s suits one proxy; a client in every process can check sooner, so that a node that
   * restarted serves again within seconds (go-redis's ring checks every half second).
   */
  readonly retryTimeout: number;
  /** RedisRing: move an ejected node's keys to the next node instead of failing them. */
  readonly autoEject: boolean;
}

export const DEFAULT_HEALTH: HealthOptions = Object.freeze({ failureLimit: 2, retryTimeout: 2_000, autoEject: false });

/**
 * Milliseconds a health-check PING may take (health_check_timeout). A node with commands
 * waiting longer than this is PINGed; no answer within it, and the node is taken out and its
 * commands fail, even without socket_timeout, so a hung server cannot hang the backend.
 */
export const DEFAULT_HEALTH_CHECK_TIMEOUT = 1_000;

export type WriteQuorum = number | 'all' | 'majority';

/** RedisCopy's write options as given. */
export interface CopyWriteOptions {
  write_quorum?: WriteQuorum;
  writeQuorum?: WriteQuorum;
  hint_limit?: number;
  hintLimit?: number;
  hint_max_bytes?: number;
  hintMaxBytes?: number;
}

export interface CopyOptions {
  /** Nodes that must take a write for it to succeed (from write_quorum: 1 by default). */
  readonly writeQuorum: number;
  /** Most writes kept per node while it is away. */
  readonly hintLimit: number;
  /** Most bytes of arguments kept per node while it is away. */
  readonly hintMaxBytes: number;
}

export const DEFAULT_HINT_LIMIT = 10_000;
export const DEFAULT_HINT_MAX_BYTES = 16 * 1024 * 1024;

const HEALTH_OPTION_NAMES: readonly string[] = [
  'server_failure_limit', 'serverFailureLimit', 'server_retry_timeout', 'serverRetryTimeout',
  'auto_eject_hosts', 'autoEjectHosts', 'health_check_timeout', 'healthCheckTimeout',
];

const COPY_OPTION_NAMES: readonly string[] = [
  'write_quorum', 'writeQuorum', 'hint_limit', 'hintLimit', 'hint_max_bytes', 'hintMaxBytes',
];

export type Hashing = 'ketama' | 'hash_ring';

export interface PlacementOptions {
  /**
   * `'ketama'` (default): libketama-compatible placement, nodes named "host:port".
   * `'hash_ring'`: django-redisdb 0.2.1's placement, so both place every key alike.
   */
  hashing?: Hashing;
  /** Two characters delimiting the hashed part of a key; null: hash whole keys. */
  hash_tag?: string | null;
  hashTag?: string | null;
  /**
   * How ketama hashes the empty key '' (where keyless commands would go by key): 'zero' as
   * twemproxy (the default), or 'md5' as libmemcached. hash_ring always uses md5.
   */
  empty_key_hash?: EmptyKeyHash;
  emptyKeyHash?: EmptyKeyHash;
}

/** A node given as an object: its address and any client option of its own. */
export interface NodeOptions extends Omit<ClientOptions, 'name'> {
  /** The node's name on the ketama continuum (default "host:port"); `client_name` names the connection. */
  name?: string;
  /** Relative share of the keys (default 1). */
  weight?: number;
}

/** 'host:port', '[::1]:port', '/path/to.sock', a redis://, rediss:// or unix:// URL, or an object. */
export type NodeSpec = string | NodeOptions;

export interface BackendOptions extends ClientOptions, PlacementOptions, NodeHealthOptions, CopyWriteOptions {
  nodes: readonly NodeSpec[] | string;
}

/** The reference's second constructor argument (a Django CACHES entry without BACKEND / LOCATION). */
export interface ReferenceParams {
  DB?: number;
  OPTIONS?: ClientOptions & PlacementOptions & NodeHealthOptions & CopyWriteOptions;
  /** Cache-level settings, used by the cache layer and ignored here. */
  TIMEOUT?: number | null;
  KEY_PREFIX?: string;
  VERSION?: number;
  KEY_FUNCTION?: unknown;
}

export interface NodeConfig {
  /** Options for this node's ConstRedis. */
  readonly options: ClientOptions;
  /** "host:port" (or the socket path), for messages. */
  readonly address: string;
  /** The node's name on the continuum. */
  readonly name: string;
  readonly weight: number;
}

export interface BackendConfig {
  readonly nodes: readonly NodeConfig[];
  readonly hashing: Hashing;
  /** undefined: the placement's default ('{}' for ketama, none for hash_ring). */
  readonly hashTag: string | null | undefined;
  readonly emptyKeyHash: EmptyKeyHash;
  readonly health: HealthOptions;
  /** See DEFAULT_HEALTH_CHECK_TIMEOUT. */
  readonly healthCheckTimeout: number;
  /** RedisCopy's write options; null for a backend that takes none. */
  readonly copy: CopyOptions | null;
}

/** Which backend reads the options: its name for messages, and whether it takes write options. */
export interface BackendKind {
  readonly name: string;
  readonly copies: boolean;
}

// Placement, health and write options are the backend's own, never passed on to the nodes.
const PLACEMENT_NAMES = ['hashing', 'hash_tag', 'hashTag', 'empty_key_hash', 'emptyKeyHash', ...HEALTH_OPTION_NAMES, ...COPY_OPTION_NAMES];
const BACKEND_NAMES = new Set([...CLIENT_OPTION_NAMES, ...PLACEMENT_NAMES, 'nodes']);
const NODE_NAMES = new Set([...CLIENT_OPTION_NAMES, 'weight']);
const PARAM_NAMES = new Set(['DB', 'OPTIONS', 'TIMEOUT', 'KEY_PREFIX', 'VERSION', 'KEY_FUNCTION']);
const OPTION_NAMES = new Set([...CLIENT_OPTION_NAMES, ...PLACEMENT_NAMES]);

/** Reads either constructor form into one checked configuration. */
export function backendConfig(backend: BackendKind, first: unknown, params: unknown): BackendConfig {
  const kind = backend.name;
  let location: unknown;
  let shared: Record<string, unknown>;
  if (isPlainObject(first)) {
    if (params !== undefined) throw new TypeError(`${kind}: give either (options) or (location, params), not both`);
    checkOptionNames(kind, first, BACKEND_NAMES);
    const { nodes, ...rest } = first;
    if (nodes === undefined) throw new ConfigError(`${kind}: 'nodes' is required (a list of node addresses)`);
    location = nodes;
    shared = rest;
  } else {
    if (params !== undefined && !isPlainObject(params)) throw new TypeError(`${kind}: params must be an object like { DB, OPTIONS }`);
    const p = (params ?? {}) as Record<string, unknown>;
    checkOptionNames(`${kind} params`, p, PARAM_NAMES);
    const options = p['OPTIONS'] ?? {};
    if (!isPlainObject(options)) throw new TypeError(`${kind}: OPTIONS must be an object`);
    checkOptionNames(`${kind} OPTIONS`, options, OPTION_NAMES);
    if (options['db'] !== undefined || options['DB'] !== undefined) {
      throw new ConfigError(`${kind}: give the database as DB next to OPTIONS, not inside it`);
    }
    location = first;
    shared = { ...options };
    if (p['DB'] !== undefined) shared['db'] = p['DB'];
  }

  const hashing = shared['hashing'] ?? 'ketama';
  if (hashing !== 'ketama' && hashing !== 'hash_ring') {
    throw new ConfigError(`${kind}: hashing must be 'ketama' or 'hash_ring', got ${JSON.stringify(hashing)}`);
  }
  if (shared['hash_tag'] !== undefined && shared['hashTag'] !== undefined) {
    throw new ConfigError(`${kind}: give hash_tag or hashTag, not both`);
  }
  const rawTag = shared['hash_tag'] !== undefined ? shared['hash_tag'] : shared['hashTag'];
  let hashTag: string | null | undefined;
  try {
    hashTag = rawTag === undefined ? undefined : validateHashTag(rawTag);
  } catch (err) {
    throw new ConfigError(`${kind}: ${(err as Error).message}`);
  }
  const own: Record<string, unknown> = {};
  for (const name of PLACEMENT_NAMES) {
    own[name] = shared[name];
    delete shared[name];
  }

  const entries = locationEntries(kind, location);
  const nodes = entries.map((entry, i) => nodeConfig(kind, i, entry, shared as ClientOptions));
  checkDuplicates(kind, nodes);
  if (!backend.copies && COPY_OPTION_NAMES.some((n) => own[n] !== undefined)) {
    throw new ConfigError(`${kind}: write_quorum, hint_limit and hint_max_bytes are RedisCopy options`);
  }
  const health = healthOptions(kind, own);
  const check = pick(own, kind, 'health_check_timeout', 'healthCheckTimeout') ?? DEFAULT_HEALTH_CHECK_TIMEOUT;
  if (typeof check !== 'number' || !Number.isFinite(check) || check < 1 || check > 86_400_000) {
    throw new ConfigError(`${kind}: health_check_timeout must be milliseconds from 1 to 86400000, got ${String(check)}`);
  }
  const copy = backend.copies ? copyOptions(kind, own, nodes.length) : null;
  const emptyKeyHash = pick(own, kind, 'empty_key_hash', 'emptyKeyHash') ?? (hashing === 'ketama' ? 'zero' : 'md5');
  if (emptyKeyHash !== 'zero' && emptyKeyHash !== 'md5') {
    throw new ConfigError(`${kind}: empty_key_hash must be 'zero' or 'md5', got ${JSON.stringify(emptyKeyHash)}`);
  }
  if (hashing === 'hash_ring' && emptyKeyHash !== 'md5') throw new ConfigError(`${kind}: hash_ring hashes every key with md5; empty_key_hash 'zero' is for ketama`);
  return { nodes, hashing, hashTag, emptyKeyHash, health, healthCheckTimeout: check, copy };
}

function healthOptions(kind: string, options: Record<string, unknown>): HealthOptions {
  const limit = pick(options, kind, 'server_failure_limit', 'serverFailureLimit') ?? DEFAULT_HEALTH.failureLimit;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 1_000_000) {
    throw new ConfigError(`${kind}: server_failure_limit must be an integer from 1 to 1000000, got ${String(limit)}`);
  }
  const retry = pick(options, kind, 'server_retry_timeout', 'serverRetryTimeout') ?? DEFAULT_HEALTH.retryTimeout;
  if (typeof retry !== 'number' || !Number.isFinite(retry) || retry < 1 || retry > 86_400_000) {
    throw new ConfigError(`${kind}: server_retry_timeout must be milliseconds from 1 to 86400000, got ${String(retry)}`);
  }
  const eject = pick(options, kind, 'auto_eject_hosts', 'autoEjectHosts') ?? DEFAULT_HEALTH.autoEject;
  if (typeof eject !== 'boolean') throw new ConfigError(`${kind}: auto_eject_hosts must be true or false, got ${String(eject)}`);
  return Object.freeze({ failureLimit: limit, retryTimeout: retry, autoEject: eject });
}

function copyOptions(kind: string, options: Record<string, unknown>, nodeCount: number): CopyOptions {
  const quorum = pick(options, kind, 'write_quorum', 'writeQuorum') ?? 1;
  if (quorum !== 'all' && quorum !== 'majority' && (typeof quorum !== 'number' || !Number.isInteger(quorum) || quorum < 1 || quorum > nodeCount)) {
    throw new ConfigError(`${kind}: write_quorum must be 'all', 'majority' or an integer from 1 to ${nodeCount} (the number of nodes), got ${JSON.stringify(quorum)}`);
  }
  const limit = pick(options, kind, 'hint_limit', 'hintLimit') ?? DEFAULT_HINT_LIMIT;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0) {
    throw new ConfigError(`${kind}: hint_limit must be a non-negative integer, got ${String(limit)}`);
  }
  const bytes = pick(options, kind, 'hint_max_bytes', 'hintMaxBytes') ?? DEFAULT_HINT_MAX_BYTES;
  if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes < 0) {
    throw new ConfigError(`${kind}: hint_max_bytes must be a non-negative integer, got ${String(bytes)}`);
  }
  return Object.freeze({ writeQuorum: quorumSize(quorum, nodeCount), hintLimit: limit, hintMaxBytes: bytes });
}

/** The number of nodes a quorum asks for, out of `nodeCount`. */
function quorumSize(quorum: WriteQuorum, nodeCount: number): number {
  if (quorum === 'all') return nodeCount;
  if (quorum === 'majority') return Math.floor(nodeCount / 2) + 1;
  return Math.min(quorum, nodeCount);
}

/** LOCATION as a list; a string may hold several addresses separated by ',' or ';' as in Django. */
function locationEntries(kind: string, location: unknown): unknown[] {
  let list: unknown[];
  if (typeof location === 'string') list = location.split(/[;,]/).map((s) => s.trim());
  else if (Array.isArray(location)) list = location;
  else throw new TypeError(`${kind}: LOCATION must be a list of node addresses, got ${typeof location}`);
  if (list.length === 0 || (list.length === 1 && list[0] === '')) {
    throw new ConfigError(`${kind}: LOCATION is empty; give at least one node address such as '127.0.0.1:6379'`);
  }
  return list;
}

function nodeConfig(kind: string, index: number, entry: unknown, shared: ClientOptions): NodeConfig {
  let own: ClientOptions;
  let name: string | undefined;
  let weight = 1;
  let shown: string;
  if (typeof entry === 'string') {
    shown = `'${redactUrl(entry)}'`;
    own = parseAddress(entry, `${kind} node ${index} (${shown})`);
  } else if (isPlainObject(entry)) {
    shown = describeObject(entry);
    const where = `${kind} node ${index} (${shown})`;
    checkOptionNames(where, entry, NODE_NAMES);
    const { name: n, weight: w, url, ...rest } = entry as NodeOptions;
    if (n !== undefined) {
      if (typeof n !== 'string' || n === '') throw new ConfigError(`${where}: name must be a non-empty string`);
      name = n;
    }
    if (w !== undefined) {
      if (typeof w !== 'number' || !Number.isFinite(w) || w <= 0) {
        throw new ConfigError(`${where}: weight must be a positive number, got ${String(w)}`);
      }
      weight = w;
    }
    if (url === undefined && rest.host === undefined && rest.path === undefined) {
      throw new ConfigError(`${where}: give host (and port), path or url`);
    }
    if (url !== undefined && typeof url !== 'string') throw new TypeError(`${where}: url must be a string`);
    own = { ...(url !== undefined ? parseAddress(url, where) : {}), ...stripUndefined(rest) };
  } else {
    throw new TypeError(`${kind}: node ${index} must be an address string or an object, got ${entry === null ? 'null' : typeof entry}`);
  }
  // The node's own settings (its URL's db, its password) win over the backend's.
  const options: ClientOptions = { ...stripUndefined(shared), ...own };
  const where = `${kind} node ${index} (${shown})`;
  const resolved = resolveOptions(options, where);
  const address = addressOf(resolved);
  return { options, address, name: name ?? address, weight };
}

/** Two entries for one server and database would hold the same keys twice (or half of them). */
function checkDuplicates(kind: string, nodes: readonly NodeConfig[]): void {
  const byServer = new Map<string, number>();
  const byName = new Map<string, number>();
  nodes.forEach((node, i) => {
    const resolved = resolveOptions(node.options, kind);
    const server = `${addressOf(resolved).toLowerCase()}/${resolved.db}`;
    const same = byServer.get(server);
    if (same !== undefined) {
      throw new ConfigError(`${kind}: node ${i} ('${node.address}', db ${resolved.db}) is the same as node ${same}; each node must be listed once`);
    }
    byServer.set(server, i);
    const named = byName.get(node.name);
    if (named !== undefined) throw new ConfigError(`${kind}: nodes ${named} and ${i} are both named '${node.name}'`);
    byName.set(node.name, i);
  });
}

function stripUndefined<T extends object>(o: T): T {
  const out = {} as T;
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

function describeObject(o: Record<string, unknown>): string {
  if (typeof o['url'] === 'string') return `'${redactUrl(o['url'])}'`;
  if (typeof o['path'] === 'string') return `'${o['path']}'`;
  return `'${String(o['host'] ?? '?')}:${String(o['port'] ?? 6379)}'`;
}
