/**
 * One LOCATION entry → client options: 'host:port', '[ipv6]:port', '/path/to.sock', or a
 * redis://, rediss:// or unix:// URL. Errors are ConfigErrors that say where the entry is.
 */
import { parseRedisUrl, redactUrl, type ClientOptions } from '../connection/options.js';
import { ConfigError } from '../errors.js';

const URL_SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

export function parseLocation(entry: unknown, where: string): ClientOptions {
  if (typeof entry !== 'string') {
    throw new ConfigError(`${where}: a node address must be a string such as '127.0.0.1:6379', got ${entry === null ? 'null' : typeof entry}`);
  }
  const s = entry.trim();
  const at = `${where} ('${redactUrl(s)}')`;
  if (s === '') throw new ConfigError(`${where}: the address is empty; expected 'host:port'`);
  const scheme = URL_SCHEME.exec(s)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    if (scheme !== 'redis' && scheme !== 'rediss' && scheme !== 'unix') {
      throw new ConfigError(`${at}: unsupported scheme '${scheme}://'; use redis://, rediss:// or unix://`);
    }
    // Checked first: WHATWG URL parsing would only say "invalid URL" for a port out of range.
    const port = /^rediss?:\/\/(?:[^@/]*@)?(?:\[[^\]]*\]|[^:/?#]*):(\d+)/i.exec(s)?.[1];
    if (port !== undefined) checkPort(at, port);
    let options: ClientOptions;
    try {
      options = parseRedisUrl(s);
    } catch (err) {
      throw new ConfigError(`${at}: ${(err as Error).message.replace(/^URL [^:]*: /, '')}`);
    }
    if (options.host === undefined && options.path === undefined) throw new ConfigError(`${at}: the URL names no host`);
    return options;
  }
  if (s.startsWith('/')) return { path: s };
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:\s/[\]]+):(\d+)$/.exec(s);
  if (m === null) {
    if (/^[^:\s/]+$/.test(s)) throw new ConfigError(`${at}: no port; expected 'host:port' such as '${s}:6379'`);
    if (/^[^:\s/[\]]+:[^:]*$/.test(s)) throw new ConfigError(`${at}: the port must be a number from 1 to 65535`);
    if (/^[^[\]]*:[^[\]]*:/.test(s)) throw new ConfigError(`${at}: write an IPv6 address in brackets, as in '[::1]:6379'`);
    throw new ConfigError(`${at}: expected 'host:port', '[ipv6]:port', a socket path or a redis://, rediss:// or unix:// URL`);
  }
  return { host: m[1]!, port: checkPort(at, m[2]!) };
}

function checkPort(at: string, text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError(`${at}: port ${text} is out of range (1-65535)`);
  }
  return port;
}

/** LOCATION as a list: an array as given, or a string of addresses separated by ',' or ';' (as Django allows). */
export function locationList(location: unknown, where: string): unknown[] {
  let list: unknown[];
  if (typeof location === 'string') list = location.split(/[;,]/).map((s) => s.trim()).filter((s) => s !== '');
  else if (Array.isArray(location)) list = location;
  else throw new ConfigError(`${where}: LOCATION must be a list of node addresses such as ['127.0.0.1:6379'], got ${location === null ? 'null' : typeof location}`);
  if (list.length === 0) throw new ConfigError(`${where}: LOCATION is empty; give at least one node address such as '127.0.0.1:6379'`);
  return list;
}
