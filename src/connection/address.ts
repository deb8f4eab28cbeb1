/**
 * One node address → client options: 'host:port', '[ipv6]:port', '/path/to.sock', or a
 * redis://, rediss:// or unix:// URL. Shared by LOCATION lists and backend node lists, so both
 * accept the same forms and explain a wrong one the same way.
 */
import { ConfigError } from '../errors.ts';
import { parseRedisUrl, redactUrl, urlErrorPrefix, type ClientOptions } from './options.ts';

const URL_SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

/** `at` names the address in messages, e.g. "LOCATION[1] ('host:99999')". */
export function parseAddress(text: string, at: string): ClientOptions {
  const s = text.trim();
  if (s === '') throw new ConfigError(`${at}: the address is empty; expected 'host:port'`);
  const scheme = URL_SCHEME.exec(s)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    if (scheme === 'redis+sentinel' || scheme === 'rediss+sentinel') {
      try {
        return parseRedisUrl(s);
      } catch (err) {
        throw new ConfigError(`${at}: ${(err as Error).message}`);
      }
    }
    if (scheme !== 'redis' && scheme !== 'rediss' && scheme !== 'unix') {
      throw new ConfigError(`${at}: unsupported scheme '${scheme}://'; expected a redis://, rediss:// or unix:// URL, or redis+sentinel://`);
    }
    // Checked first: WHATWG URL parsing would only say "invalid URL" for a port out of range.
    // The host comes after the last '@', as a password left unencoded may hold ':' and digits.
    const authority = s.slice(s.indexOf('://') + 3);
    const hostPart = authority.slice(authority.lastIndexOf('@') + 1);
    const port = scheme === 'unix' ? undefined : /^(?:\[[^\]]*\]|[^:/?#]*):(\d+)/.exec(hostPart)?.[1];
    if (port !== undefined) checkPort(at, port);
    let options: ClientOptions;
    try {
      options = parseRedisUrl(s);
    } catch (err) {
      const message = (err as Error).message;
      const prefix = `${urlErrorPrefix(s)}: `;
      throw new ConfigError(`${at}: ${message.startsWith(prefix) ? message.slice(prefix.length) : message}`);
    }
    if (options.host === undefined && options.path === undefined) throw new ConfigError(`${at}: the URL names no host`);
    return options;
  }
  if (s.startsWith('/')) return { path: s };
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:\s/[\]]+):(\d+)$/.exec(s);
  if (m === null) {
    if (/^[^:\s/@]+$/.test(s)) throw new ConfigError(`${at}: no port; expected 'host:port' such as '${s}:6379'`);
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
