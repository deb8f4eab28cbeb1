/**
 * Connection options: the reference's snake_case names (times in seconds, as redis-py takes
 * them) and camelCase names (times in milliseconds, as JavaScript takes them), resolved into
 * one shape with milliseconds.
 */
import { Buffer } from 'node:buffer';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { inspect } from 'node:util';
import { ConfigError } from '../errors.ts';
import { suggestion } from '../util/did-you-mean.ts';
import { NEAR_CACHE_OPTION_NAMES, nearCacheSettings, type NearCacheOptions, type NearCacheSettings } from './near-cache-options.ts';
import { parseSentinelUrl, SENTINEL_OPTION_NAMES, sentinelSettings, type SentinelOptionsInput, type SentinelSettings } from './sentinel-options.ts';

export interface TlsOptions {
  ca?: string | Buffer | Array<string | Buffer>;
  cert?: string | Buffer;
  key?: string | Buffer;
  servername?: string;
  /** Certificates are verified unless this is explicitly `false`. */
  rejectUnauthorized?: boolean;
}

export interface ClientOptions extends SentinelOptionsInput {
  host?: string;
  port?: number;
  /** Unix socket path (instead of host and port). */
  path?: string;
  /** `redis://`, `rediss://` or `unix://` URL; explicit options win over what it says. */
  url?: string;
  db?: number;
  DB?: number;
  username?: string;
  password?: string;
  /** `true` or TLS settings: connect with TLS. */
  tls?: boolean | TlsOptions;
  /** Seconds a command may wait for its reply (null: no limit). */
  socket_timeout?: number | null;
  /** Milliseconds a command may wait for its reply (null: no limit). */
  socketTimeout?: number | null;
  /** Seconds a connection (TCP, TLS, AUTH, SELECT) may take. */
  socket_connect_timeout?: number | null;
  /** Milliseconds a connection (TCP, TLS, AUTH, SELECT) may take. */
  socketConnectTimeout?: number | null;
  /** Retry a timed-out command once on a fresh connection. */
  retry_on_timeout?: boolean;
  retryOnTimeout?: boolean;
  /** Bulk replies as Buffers instead of UTF-8 strings. */
  returnBuffers?: boolean;
  return_buffers?: boolean;
  /** Sent as CLIENT SETNAME on every connect. */
  name?: string;
  client_name?: string;
  /** Commands that may wait while the connection is being (re)made. */
  offlineQueueLimit?: number;
  offline_queue_limit?: number;
  /** Longest bulk reply accepted, in bytes. */
  maxBulkLength?: number;
  max_bulk_length?: number;
  /** Longest wait between reconnection attempts, in milliseconds. */
  maxReconnectDelay?: number;
  /**
   * A cache of read replies in this process, kept true by the server's invalidations
   * (CLIENT TRACKING): `true` for the defaults, or its settings (times in milliseconds).
   */
  nearCache?: NearCacheOptions | boolean;
  /** The same, times in seconds. */
  near_cache?: NearCacheOptions | boolean;
  /**
   * The protocol asked for with HELLO on every connect: 2 (the default) or 3. Replies keep
   * RESP2's shapes either way; with 3 the connection also receives push frames (Connection.onPush).
   * A server that refuses HELLO 3 is spoken to in RESP2, with one warning.
   */
  protocol?: 2 | 3;
}

export interface ResolvedOptions {
  readonly host: string;
  readonly port: number;
  readonly path: string | null;
  readonly db: number;
  readonly username: string | null;
  /** Not enumerable: never shown by util.inspect or JSON.stringify. */
  readonly password: string | null;
  readonly tls: TlsConnectionOptions | null;
  readonly socketTimeout: number | null;
  readonly connectTimeout: number;
  readonly retryOnTimeout: boolean;
  readonly returnBuffers: boolean;
  readonly name: string | null;
  readonly offlineQueueLimit: number;
  readonly maxBulkLength: number;
  readonly maxReconnectDelay: number;
  /** The protocol asked for on connect (2 or 3). */
  readonly protocol: 2 | 3;
  /** Where the sentinels say the server is, when given sentinels (host and port are then unused). */
  readonly sentinel: SentinelSettings | null;
  /** The near cache's settings; null when it is off. */
  readonly nearCache: NearCacheSettings | null;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

const KNOWN = new Set<string>([
  'host', 'port', 'path', 'url', 'db', 'DB', 'username', 'password', 'tls',
  'socket_timeout', 'socketTimeout', 'socket_connect_timeout', 'socketConnectTimeout',
  'retry_on_timeout', 'retryOnTimeout', 'returnBuffers', 'return_buffers', 'name', 'client_name',
  'offlineQueueLimit', 'offline_queue_limit', 'maxBulkLength', 'max_bulk_length', 'maxReconnectDelay',
  'protocol', ...SENTINEL_OPTION_NAMES, ...NEAR_CACHE_OPTION_NAMES,
]);

/** The protocol of clients whose options do not name one. */
let defaultProtocol: 2 | 3 = 2;

/**
 * Sets the protocol of clients made from now on whose options do not name one. Not exported
 * by the package: it lets the test suite run whole under RESP3 (test/helpers/resp3-default.ts).
 */
export function setDefaultProtocol(protocol: 2 | 3): void {
  if (protocol !== 2 && protocol !== 3) throw new ConfigError(`the default protocol must be 2 or 3, got ${show(protocol)}`);
  defaultProtocol = protocol;
}

function protocolOf(where: string, v: unknown): 2 | 3 {
  if (v === undefined || v === null) return defaultProtocol;
  if (v === 2 || v === 3 || v === '2' || v === '3') return Number(v) as 2 | 3;
  fail(where, `protocol must be 2 or 3, got ${show(v)}`);
}

/** The option names a single client understands (for config validation above this layer). */
export const CLIENT_OPTION_NAMES: ReadonlySet<string> = KNOWN;

function fail(where: string, message: string): never {
  throw new ConfigError(`${where}: ${message}`);
}

function seconds(where: string, key: string, v: unknown): number | null | undefined {
  if (v === undefined) return undefined;
  if (v === null) return null;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(where, `${key} must be a non-negative number of seconds or null, got ${show(v)}`);
  return v * 1000;
}

function millis(where: string, key: string, v: unknown): number | null | undefined {
  if (v === undefined) return undefined;
  if (v === null) return null;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(where, `${key} must be a non-negative number of milliseconds or null, got ${show(v)}`);
  return v;
}

function bool(where: string, key: string, v: unknown): boolean | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') fail(where, `${key} must be true or false, got ${show(v)}`);
  return v;
}

function str(where: string, key: string, v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') fail(where, `${key} must be a string, got ${show(v)}`);
  return v;
}

function int(where: string, key: string, v: unknown, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string' && /^\d+$/.test(v)) v = Number(v);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(where, `${key} must be an integer from ${min} to ${max}, got ${show(v)}`);
  }
  return v;
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'object' && v !== null) return Array.isArray(v) ? 'an array' : 'an object';
  return String(v);
}

/** Throws on option names no layer understands, with a suggestion for near misses. */
export function checkOptionNames(where: string, options: object, known: Iterable<string>): void {
  const set = known instanceof Set ? (known as Set<string>) : new Set(known);
  for (const key of Object.keys(options)) {
    if (!set.has(key)) fail(where, `unknown option '${key}'${suggestion(key, set)}`);
  }
}

/** Resolves client options (and the URL they may carry) into milliseconds and defaults. */
export function resolveOptions(input: ClientOptions = {}, where = 'redisdb options', strict = true): ResolvedOptions {
  if (typeof input !== 'object' || input === null) fail(where, `options must be an object, got ${show(input)}`);
  if (strict) checkOptionNames(where, input, KNOWN);
  const fromUrl: ClientOptions = input.url !== undefined ? parseRedisUrl(str(where, 'url', input.url)!) : {};
  const o: ClientOptions = { ...fromUrl, ...stripUndefined(input) };

  const path = str(where, 'path', o.path) ?? null;
  const host = str(where, 'host', o.host) ?? '127.0.0.1';
  if (host.length === 0) fail(where, 'host must not be empty');
  const port = int(where, 'port', o.port, 1, 65535) ?? 6379;
  const db = int(where, 'db', o.db ?? o.DB, 0, 1 << 30) ?? 0;
  const username = str(where, 'username', o.username) ?? null;
  // Checked here rather than by str(), whose message would show the value.
  if (o.password !== undefined && o.password !== null && typeof o.password !== 'string') {
    fail(where, `password must be a string, got a value of type ${typeof o.password}`);
  }
  const password = str(where, 'password', o.password) ?? null;

  const socketTimeout = o.socketTimeout !== undefined
    ? millis(where, 'socketTimeout', o.socketTimeout)
    : seconds(where, 'socket_timeout', o.socket_timeout);
  const connectTimeout = o.socketConnectTimeout !== undefined
    ? millis(where, 'socketConnectTimeout', o.socketConnectTimeout)
    : seconds(where, 'socket_connect_timeout', o.socket_connect_timeout);

  let tls: TlsConnectionOptions | null = null;
  if (o.tls !== undefined && o.tls !== false) {
    if (o.tls !== true && (typeof o.tls !== 'object' || o.tls === null)) fail(where, `tls must be true, false or an object, got ${show(o.tls)}`);
    const t: TlsOptions = o.tls === true ? {} : o.tls;
    checkOptionNames(`${where} tls`, t, ['ca', 'cert', 'key', 'servername', 'rejectUnauthorized']);
    tls = {
      ...(t.ca !== undefined ? { ca: t.ca } : {}),
      ...(t.cert !== undefined ? { cert: t.cert } : {}),
      ...(t.key !== undefined ? { key: t.key } : {}),
      servername: t.servername ?? (isIpAddress(host) ? undefined : host),
      // Verification is on unless turned off by name.
      rejectUnauthorized: t.rejectUnauthorized !== false,
    };
  }

  const resolved = {
    host,
    port,
    path,
    db,
    username,
    tls,
    socketTimeout: socketTimeout ?? null,
    connectTimeout: connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_MS,
    retryOnTimeout: bool(where, 'retry_on_timeout', o.retryOnTimeout ?? o.retry_on_timeout) ?? false,
    returnBuffers: bool(where, 'returnBuffers', o.returnBuffers ?? o.return_buffers) ?? false,
    name: str(where, 'name', o.name ?? o.client_name) ?? null,
    offlineQueueLimit: int(where, 'offlineQueueLimit', o.offlineQueueLimit ?? o.offline_queue_limit, 0, 2 ** 31) ?? 100_000,
    maxBulkLength: int(where, 'maxBulkLength', o.maxBulkLength ?? o.max_bulk_length, 1, 2 ** 40) ?? 512 * 1024 * 1024,
    maxReconnectDelay: int(where, 'maxReconnectDelay', o.maxReconnectDelay, 0, 3_600_000) ?? 2000,
    protocol: protocolOf(where, o.protocol),
    sentinel: sentinelSettings(o as Record<string, unknown>, where),
    nearCache: nearCacheSettings(o as Record<string, unknown>, where),
  } as ResolvedOptions;
  Object.defineProperty(resolved, 'password', { value: password, enumerable: false });
  // Hidden from util.inspect even with showHidden, which would list the property above.
  Object.defineProperty(resolved, inspect.custom, {
    value: () => ({ ...resolved, ...(password !== null ? { password: '[hidden]' } : {}) }),
    enumerable: false,
  });
  return Object.freeze(resolved);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && k !== 'url') (out as Record<string, unknown>)[k] = v;
  return out;
}

function isIpAddress(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

const URL_QUERY_KEYS = new Set<string>([
  'db', 'socket_timeout', 'socket_connect_timeout', 'retry_on_timeout', 'name', 'client_name', 'password', 'username', 'protocol',
]);

/** How parseRedisUrl's errors begin: "URL <the URL, redacted>". */
export function urlErrorPrefix(url: unknown): string {
  return `URL ${redactUrl(url)}`;
}

/**
 * Parses `redis://[[user]:password@]host[:port][/db][?db=N&socket_timeout=S&protocol=3...]`,
 * `rediss://...` (TLS) and `unix://[[user]:password@]/path/to.sock[?db=N]`.
 * The `db` query option wins over the path, as in the reference.
 */
export function parseRedisUrl(url: string): ClientOptions {
  const where = urlErrorPrefix(url);
  if (typeof url !== 'string') fail('redisdb', 'a URL must be a string');
  // A part of the URL is quoted in a message only when the redacted URL shows it anyway: with
  // a password left unencoded, the parse may take a piece of it for a path or a query option.
  const visible = redactUrl(url);
  const got = (part: string): string => (visible.includes(part) ? `, got '${part}'` : '');
  const scheme = /^([a-z+]+):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'redis+sentinel' || scheme === 'rediss+sentinel') return parseSentinelUrl(url, where) as ClientOptions;
  if (scheme !== 'redis' && scheme !== 'rediss' && scheme !== 'unix') {
    fail(where, "expected a redis://, rediss:// or unix:// URL");
  }
  const out: ClientOptions = {};
  let query: URLSearchParams;
  if (scheme === 'unix') {
    // unix URLs carry credentials before a path, which WHATWG URL does not parse for this scheme.
    const rest = url.slice('unix://'.length);
    const at = rest.lastIndexOf('@', rest.indexOf('/') === -1 ? undefined : rest.indexOf('/'));
    const creds = at >= 0 ? rest.slice(0, at) : '';
    const afterCreds = at >= 0 ? rest.slice(at + 1) : rest;
    const q = afterCreds.indexOf('?');
    const path = percentDecoded(where, q >= 0 ? afterCreds.slice(0, q) : afterCreds);
    query = new URLSearchParams(q >= 0 ? afterCreds.slice(q + 1) : '');
    if (!path.startsWith('/')) fail(where, 'a unix:// URL needs an absolute socket path');
    out.path = path;
    if (creds) setCredentials(where, out, creds);
  } else {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      fail(where, 'not a valid URL');
    }
    const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
    if (host) out.host = host;
    if (parsed.port) out.port = Number(parsed.port);
    if (parsed.username) out.username = percentDecoded(where, parsed.username);
    if (parsed.password) out.password = percentDecoded(where, parsed.password);
    const dbPath = parsed.pathname.replace(/^\//, '');
    if (dbPath) {
      if (!/^\d+$/.test(dbPath)) fail(where, `the path must be a database number${got(dbPath)}`);
      out.db = Number(dbPath);
    }
    if (scheme === 'rediss') out.tls = true;
    query = parsed.searchParams;
  }
  for (const [key, value] of query) {
    if (!URL_QUERY_KEYS.has(key)) {
      fail(where, visible.includes(key) ? `unknown query option '${key}'${suggestion(key, URL_QUERY_KEYS)}` : 'unknown query option');
    }
    switch (key) {
      case 'db':
        if (!/^\d+$/.test(value)) fail(where, `db must be a number${got(value)}`);
        out.db = Number(value);
        break;
      case 'socket_timeout':
      case 'socket_connect_timeout': {
        const n = Number(value);
        if (!Number.isFinite(n) || n < 0) fail(where, `${key} must be seconds${got(value)}`);
        out[key] = n;
        break;
      }
      case 'retry_on_timeout':
        out.retry_on_timeout = value === 'true' || value === '1' || value === 'yes';
        break;
      case 'name':
      case 'client_name':
        out.name = value;
        break;
      case 'password':
        out.password = value;
        break;
      case 'username':
        out.username = value;
        break;
      case 'protocol':
        if (value !== '2' && value !== '3') fail(where, `protocol must be 2 or 3${got(value)}`);
        out.protocol = Number(value) as 2 | 3;
        break;
    }
  }
  return out;
}

/** decodeURIComponent, with a ConfigError (that shows no part of the text) for bad escapes. */
function percentDecoded(where: string, text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    fail(where, "a '%' escape in the URL is not valid percent-encoding");
  }
}

function setCredentials(where: string, out: ClientOptions, creds: string): void {
  const colon = creds.indexOf(':');
  const user = colon >= 0 ? creds.slice(0, colon) : '';
  const pass = colon >= 0 ? creds.slice(colon + 1) : creds;
  if (user) out.username = percentDecoded(where, user);
  if (pass) out.password = percentDecoded(where, pass);
}

/**
 * The URL (or address) with anything that may be a password replaced, for messages. It must
 * work on text that does not parse, so it is conservative: a password left unencoded may hold
 * '#', '?', '/', ':' or '@', any of which can look like the end of it, so everything from '://'
 * (or the start) to the last '@' is hidden, except a user name plainly before a ':'. A
 * password given as a query option hides the rest of the URL, as an unencoded '&' or '#' may
 * continue it.
 */
export function redactUrl(url: unknown): string {
  if (typeof url !== 'string') return String(url);
  // Hidden spans [from, to), found on the text as given (a query password may hold '@' too).
  const hidden: Array<[number, number]> = [];
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0] ?? '';
  const at = url.lastIndexOf('@');
  if (at >= scheme.length) {
    const creds = url.slice(scheme.length, at);
    const colon = creds.indexOf(':');
    const userShown = colon >= 0 && !/[/?#@&=]/.test(creds.slice(0, colon));
    hidden.push([scheme.length + (userShown ? colon + 1 : 0), at]);
  }
  const query = /[?&](?:sentinel_)?password=/i.exec(url);
  if (query !== null) hidden.push([query.index + query[0].length, url.length]);
  if (hidden.length === 2 && hidden[1]![0] <= hidden[0]![1]) hidden.splice(0, 2, [Math.min(hidden[0]![0], hidden[1]![0]), url.length]);
  let out = '';
  let shownFrom = 0;
  for (const [from, to] of hidden) {
    out += `${url.slice(shownFrom, from)}***`;
    shownFrom = to;
  }
  return out + url.slice(shownFrom);
}

/** "host:port" or the socket path: how a node is named in messages and on the ring. */
export function addressOf(o: ResolvedOptions): string {
  if (o.sentinel !== null) return `${o.sentinel.serviceName} (sentinel)`;
  if (o.path !== null) return o.path;
  return o.host.includes(':') ? `[${o.host}]:${o.port}` : `${o.host}:${o.port}`;
}
