/**
 * A backend's configuration, in either form: the reference's `(LOCATION, { DB, OPTIONS })`
 * or `{ nodes, db, ...options }`. Everything is checked here, before any node connects.
 */
import {
  CLIENT_OPTION_NAMES, addressOf, checkOptionNames, redactUrl, resolveOptions,
  type ClientOptions,
} from '../connection/options.js';
import { parseAddress } from '../connection/address.js';
import { ConfigError } from '../errors.js';
import { validateHashTag } from '../hash/index.js';
import { HEALTH_OPTION_NAMES, type NodeHealthOptions } from './health.js';
import { COPY_OPTION_NAMES, type CopyWriteOptions } from './hints.js';

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
}

// Health and write options are read by the backends themselves (health.ts, hints.ts), never
// passed on to the nodes' clients.
const PLACEMENT_NAMES = ['hashing', 'hash_tag', 'hashTag', ...HEALTH_OPTION_NAMES, ...COPY_OPTION_NAMES];
const BACKEND_NAMES = new Set([...CLIENT_OPTION_NAMES, ...PLACEMENT_NAMES, 'nodes']);
const NODE_NAMES = new Set([...CLIENT_OPTION_NAMES, 'weight']);
const PARAM_NAMES = new Set(['DB', 'OPTIONS', 'TIMEOUT', 'KEY_PREFIX', 'VERSION', 'KEY_FUNCTION']);
const OPTION_NAMES = new Set([...CLIENT_OPTION_NAMES, ...PLACEMENT_NAMES]);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Reads either constructor form into one checked configuration. */
export function backendConfig(kind: string, first: unknown, params: unknown): BackendConfig {
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
  for (const name of PLACEMENT_NAMES) delete shared[name];

  const entries = locationEntries(kind, location);
  const nodes = entries.map((entry, i) => nodeConfig(kind, i, entry, shared as ClientOptions));
  checkDuplicates(kind, nodes);
  return { nodes, hashing, hashTag };
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
