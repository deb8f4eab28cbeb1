/**
 * Sentinel options of a client: the sentinels to ask, the service name they know the master
 * by, which role to connect to, and the sentinels' own credentials; and the
 * `redis+sentinel://[[user]:password@]h1:p1,h2:p2/service_name[/db]` URL.
 */
import { ConfigError } from '../errors.ts';

export type SentinelRole = 'master' | 'replica';

export interface SentinelSettings {
  readonly sentinels: ReadonlyArray<{ readonly host: string; readonly port: number }>;
  readonly serviceName: string;
  readonly role: SentinelRole;
  readonly username: string | null;
  /** Not enumerable: never shown by util.inspect or JSON.stringify. */
  readonly password: string | null;
  /** Milliseconds between ROLE checks of the server in use and PINGs of each subscription (the backstops for a missed announcement). */
  readonly pollInterval: number;
}

/** ROLE is asked of the server in use this often by default. */
export const DEFAULT_SENTINEL_POLL_MS = 1000;

export const SENTINEL_OPTION_NAMES: readonly string[] = [
  'sentinels', 'service_name', 'serviceName', 'role', 'sentinel_password', 'sentinelPassword', 'sentinel_username', 'sentinelUsername',
  'sentinel_poll_interval', 'sentinelPollInterval',
];

/** The sentinel options as given (ClientOptions holds them). */
export interface SentinelOptionsInput {
  /** Sentinels to ask where the master is: 'host:port' each. */
  sentinels?: readonly string[];
  /** The name the sentinels monitor the master by (`sentinel monitor <name> ...`). */
  service_name?: string;
  serviceName?: string;
  /** 'master' (default) or 'replica': a replica of that master, as the sentinels list them. */
  role?: SentinelRole;
  /** AUTH for the sentinels themselves (the data nodes take username / password). */
  sentinel_password?: string;
  sentinelPassword?: string;
  sentinel_username?: string;
  sentinelUsername?: string;
  /**
   * Milliseconds between ROLE checks of the server in use (default 1000): should a failover's
   * announcement not reach the client, the demoted server is left within this time. Each
   * sentinel subscription is PINGed as often; one unanswered within the sentinel timeout
   * (socket_connect_timeout, at most 2 s) is renewed, and the sentinels are asked again.
   */
  sentinel_poll_interval?: number;
  sentinelPollInterval?: number;
}

function fail(where: string, message: string): never {
  throw new ConfigError(`${where}: ${message}`);
}

function one(o: Record<string, unknown>, where: string, a: string, b: string): unknown {
  if (o[a] !== undefined && o[b] !== undefined) fail(where, `give ${a} or ${b}, not both`);
  return o[a] ?? o[b];
}

/** 'host:port' or '[v6]:port' → its parts. */
function hostPort(text: string, where: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text.trim()) ?? /^([^:\s/[\]]+):(\d+)$/.exec(text.trim());
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || !Number.isInteger(port) || port < 1 || port > 65535) fail(where, `a sentinel must be 'host:port', got ${JSON.stringify(text)}`);
  return { host: m[1]!, port };
}

/** The checked settings, or null when no sentinel option is given. */
export function sentinelSettings(o: Record<string, unknown>, where: string): SentinelSettings | null {
  const list = o['sentinels'];
  const service = one(o, where, 'service_name', 'serviceName');
  const role = o['role'];
  const password = one(o, where, 'sentinel_password', 'sentinelPassword');
  const username = one(o, where, 'sentinel_username', 'sentinelUsername');
  const poll = one(o, where, 'sentinel_poll_interval', 'sentinelPollInterval');
  if (list === undefined) {
    if (service !== undefined || role !== undefined || password !== undefined || username !== undefined || poll !== undefined) {
      fail(where, 'service_name, role, sentinel_poll_interval and sentinel_password / sentinel_username go with sentinels: [\'host:port\', ...]');
    }
    return null;
  }
  if (!Array.isArray(list) || list.length === 0) fail(where, "sentinels must be a non-empty list of 'host:port'");
  if (typeof service !== 'string' || service === '') fail(where, 'service_name (the name the sentinels monitor the master by) is required with sentinels');
  if (role !== undefined && role !== 'master' && role !== 'replica') fail(where, `role must be 'master' or 'replica', got ${JSON.stringify(role)}`);
  if (password !== undefined && typeof password !== 'string') fail(where, 'sentinel_password must be a string');
  if (username !== undefined && typeof username !== 'string') fail(where, `sentinel_username must be a string, got ${typeof username}`);
  if (poll !== undefined && (typeof poll !== 'number' || !Number.isFinite(poll) || poll < 10 || poll > 3_600_000)) {
    fail(where, `sentinel_poll_interval must be milliseconds from 10 to 3600000, got ${JSON.stringify(poll)}`);
  }
  if (o['path'] !== undefined) fail(where, 'give sentinels or a socket path, not both');
  const settings = {
    sentinels: Object.freeze(list.map((s) => (typeof s === 'string' ? hostPort(s, where) : fail(where, `a sentinel must be 'host:port', got ${typeof s}`)))),
    serviceName: service,
    role: (role ?? 'master') as SentinelRole,
    username: (username as string | undefined) ?? null,
    pollInterval: (poll as number | undefined) ?? DEFAULT_SENTINEL_POLL_MS,
  } as SentinelSettings;
  Object.defineProperty(settings, 'password', { value: (password as string | undefined) ?? null, enumerable: false });
  return Object.freeze(settings);
}

/**
 * `redis+sentinel://[[user]:password@]h1:p1,h2:p2/service_name[/db][?role=replica&sentinel_password=...]`
 * (`rediss+sentinel://` for TLS to the data nodes). The credentials are the data nodes'.
 */
export function parseSentinelUrl(url: string, where: string): Record<string, unknown> {
  const scheme = url.slice(0, url.indexOf('://')).toLowerCase();
  let rest = url.slice(url.indexOf('://') + 3);
  const q = rest.indexOf('?');
  const query = new URLSearchParams(q >= 0 ? rest.slice(q + 1) : '');
  if (q >= 0) rest = rest.slice(0, q);
  const slash = rest.indexOf('/', rest.lastIndexOf('@') + 1);
  const authority = slash >= 0 ? rest.slice(0, slash) : rest;
  const path = slash >= 0 ? rest.slice(slash + 1) : '';
  const at = authority.lastIndexOf('@');
  const out: Record<string, unknown> = {};
  if (at >= 0) {
    const creds = authority.slice(0, at);
    const colon = creds.indexOf(':');
    const user = colon >= 0 ? creds.slice(0, colon) : '';
    const pass = colon >= 0 ? creds.slice(colon + 1) : creds;
    try {
      if (user !== '') out['username'] = decodeURIComponent(user);
      if (pass !== '') out['password'] = decodeURIComponent(pass);
    } catch {
      fail(where, 'the credentials are not valid percent-encoding');
    }
  }
  const hosts = authority.slice(at + 1).split(',').filter((h) => h !== '');
  if (hosts.length === 0) fail(where, "no sentinel; expected redis+sentinel://host:port,host:port/service_name");
  for (const h of hosts) hostPort(h, where);
  out['sentinels'] = hosts;
  const [service, db, ...extra] = path.split('/');
  if (service === undefined || service === '') fail(where, 'the path must name the service: redis+sentinel://host:port/service_name');
  out['service_name'] = decodeURIComponent(service);
  if (db !== undefined && db !== '') {
    if (!/^\d+$/.test(db)) fail(where, 'the database after the service name must be a number');
    out['db'] = Number(db);
  }
  if (extra.length > 0) fail(where, 'expected redis+sentinel://host:port/service_name[/db]');
  for (const [key, value] of query) {
    if (key === 'role') out['role'] = value;
    else if (key === 'sentinel_password') out['sentinel_password'] = value;
    else if (key === 'sentinel_username') out['sentinel_username'] = value;
    else if (key === 'socket_timeout' || key === 'socket_connect_timeout' || key === 'sentinel_poll_interval') out[key] = Number(value);
    else if (key === 'protocol') out['protocol'] = value; // checked with the other options
    else fail(where, 'unknown query option; expected role, sentinel_username, sentinel_password, sentinel_poll_interval, socket_timeout, socket_connect_timeout or protocol');
  }
  if (scheme === 'rediss+sentinel') out['tls'] = true;
  return out;
}
