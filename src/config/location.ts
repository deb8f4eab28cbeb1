/**
 * One LOCATION entry → client options: 'host:port', '[ipv6]:port', '/path/to.sock', or a
 * redis://, rediss:// or unix:// URL. Errors are ConfigErrors that say where the entry is.
 */
import { parseAddress } from '../connection/address.ts';
import { redactUrl, type ClientOptions } from '../connection/options.ts';
import { ConfigError } from '../errors.ts';

export function parseLocation(entry: unknown, where: string): ClientOptions {
  if (typeof entry !== 'string') {
    throw new ConfigError(`${where}: a node address must be a string such as '127.0.0.1:6379', got ${entry === null ? 'null' : typeof entry}`);
  }
  if (entry.trim() === '') throw new ConfigError(`${where}: the address is empty; expected 'host:port'`);
  return parseAddress(entry, `${where} ('${redactUrl(entry.trim())}')`);
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
