/**
 * The set-up RedisCopy fault tests share: servers, each behind a fault proxy, a direct
 * connection to each (to OOM it, or read it raw), every node reset before each test, and a
 * maker of Copies over the proxies, disconnected after each test.
 */
import { afterEach, beforeEach } from 'node:test';
import { RedisCopy } from '../../src/backends/index.ts';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { FaultProxy } from './fault-proxy.ts';
import { useServers, type RedisServer } from './servers.ts';

export interface CopyFixture {
  readonly servers: RedisServer[];
  /** One per proxied server, in order (filled before each test). */
  proxies: FaultProxy[];
  direct: ConstRedis[];
  /** A RedisCopy over the proxies, with short timeouts and retries. */
  copyOf(options?: Record<string, unknown>): RedisCopy;
}

/** Call inside `describe()`: `count` servers, the first `proxied` of them behind proxies. */
export function useCopyFixture(count: number, proxied = count, extraArgs: string[] = []): CopyFixture {
  const made: RedisCopy[] = [];
  const fx: CopyFixture = {
    servers: useServers(count, extraArgs),
    proxies: [],
    direct: [],
    copyOf(options = {}) {
      const copy = new RedisCopy({
        nodes: fx.proxies.map((p) => `127.0.0.1:${p.port}`), socket_timeout: 0.5, socket_connect_timeout: 0.5,
        server_retry_timeout: 50, ...options,
      });
      made.push(copy);
      return copy;
    },
  };
  beforeEach(async () => {
    await Promise.all(fx.servers.map((s) => (s.running ? undefined : s.start())));
    fx.proxies = await Promise.all(fx.servers.slice(0, proxied).map((s) => FaultProxy.start({ host: s.host, port: s.port })));
    fx.direct = fx.servers.map((s) => new ConstRedis({ port: s.port, socket_timeout: 5 }));
    await Promise.all(fx.direct.map(async (d) => {
      await d.call('REPLICAOF', 'NO', 'ONE');
      await d.call('CONFIG', 'SET', 'maxmemory', '0');
      await d.flushall();
    }));
  });
  afterEach(async () => {
    for (const c of made.splice(0)) c.disconnect();
    for (const d of fx.direct) d.disconnect();
    await Promise.all(fx.proxies.map((p) => p.close()));
  });
  return fx;
}
