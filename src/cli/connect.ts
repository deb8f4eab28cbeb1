/**
 * The backend the command line asked for: an alias of the CACHES setting, or nodes named on
 * the command line. A reply may take --timeout seconds, so a hung server ends the command
 * with an error instead of hanging it.
 */
import { RedisCopy, RedisRing } from '../backends/index.ts';
import type { CacheBackend } from '../cache/target.ts';
import { ConstRedis } from '../client/const-redis.ts';
import { redactUrl, type ClientOptions } from '../connection/options.ts';
import { createCaches, type CacheConfig, type CachesConfig } from '../config/caches.ts';
import { cachesFromEnv, CACHES_ENV, readCachesFile } from '../config/load.ts';
import { parseLocation } from '../config/location.ts';
import { ConfigError } from '../errors.ts';
import { suggestion } from '../util/did-you-mean.ts';
import type { CliArgs } from './args.ts';

/** A backend and a name for it in messages. */
export interface Connected {
  backend: CacheBackend;
  kind: 'RedisRing' | 'RedisCopy' | 'ConstRedis';
  label: string;
}

const TIMEOUT_NAMES = ['socket_timeout', 'socketTimeout'];
const CONNECT_TIMEOUT_NAMES = ['socket_connect_timeout', 'socketConnectTimeout'];

export function connect(args: CliArgs, env: NodeJS.ProcessEnv = process.env): Connected {
  const t = args.target;
  const timeouts = { socket_timeout: args.timeout, socket_connect_timeout: Math.min(args.timeout, 5) };
  const own: ClientOptions = { ...timeouts, maxReconnectDelay: 100 };
  if (args.password !== null) own.password = args.password;
  if (t.kind === 'RedisRing' || t.kind === 'RedisCopy') {
    const options: Record<string, unknown> = { ...own };
    if (args.hashing !== null) options['hashing'] = args.hashing;
    const params = args.db === null ? { OPTIONS: options } : { DB: args.db, OPTIONS: options };
    const backend = t.kind === 'RedisRing' ? new RedisRing(t.nodes, params) : new RedisCopy(t.nodes, params);
    return { backend, kind: t.kind, label: `${t.kind} ${t.nodes.map(redactUrl).join(',')}` };
  }
  if (t.kind === 'ConstRedis') {
    const where = '--url';
    const address = /^[a-z][a-z0-9+.-]*:\/\//i.test(t.url) ? { url: t.url } : parseLocation(t.url, where);
    if ('url' in address) parseLocation(t.url, where); // the same checks and messages as LOCATION
    const options: ClientOptions = { ...own, ...address };
    if (args.db !== null) options.db = args.db;
    return { backend: new ConstRedis(options), kind: 'ConstRedis', label: redactUrl(t.url) };
  }

  if (t.kind !== 'alias') throw new TypeError(`unknown target kind`);
  const caches: CachesConfig = t.config !== null ? readCachesFile(t.config) : cachesFromEnv(env);
  const aliases = Object.keys(caches);
  let alias = t.alias;
  if (alias === null) {
    if (aliases.includes('default')) alias = 'default';
    else if (aliases.length === 1) alias = aliases[0]!;
    else throw new ConfigError(`several aliases configured (${aliases.join(', ')}); choose one with --alias`);
  }
  const source = t.config ?? CACHES_ENV;
  const config = caches[alias];
  if (config === undefined) throw new ConfigError(`${source} has no alias '${alias}'${suggestion(alias, aliases)}; configured: ${aliases.join(', ')}`);
  const withTimeouts = withDefaultTimeouts(config, timeouts);
  const backend = createCaches({ [alias]: withTimeouts })[alias]!;
  const kind = String(config.BACKEND).replace(/^redisdb\.backends\./, '') as Connected['kind'];
  return { backend, kind, label: `'${alias}' (${kind})` };
}

/** The alias's own timeouts win; where it has none, the command line's apply. */
function withDefaultTimeouts(config: CacheConfig, timeouts: { socket_timeout: number; socket_connect_timeout: number }): CacheConfig {
  if (typeof config !== 'object' || config === null) return config;
  const options = { ...(config.OPTIONS ?? {}) } as Record<string, unknown>;
  if (typeof options !== 'object') return config;
  if (!TIMEOUT_NAMES.some((n) => options[n] !== undefined)) options['socket_timeout'] = timeouts.socket_timeout;
  if (!CONNECT_TIMEOUT_NAMES.some((n) => options[n] !== undefined)) options['socket_connect_timeout'] = timeouts.socket_connect_timeout;
  return { ...config, OPTIONS: options };
}
