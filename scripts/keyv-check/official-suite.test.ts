/**
 * Keyv's official adapter suite (@keyv/test-suite: API, values, namespaces, iterator) on
 * redisdb's store, for the Keyv major named by KEYV_MAJOR (5, or 6 with the `keyv6` alias), on a
 * RedisRing and a RedisCopy of three nodes. run-official-suite.mjs runs it for each major.
 */
import * as vitest from 'vitest';
import keyvTestSuite, { keyvIteratorTests } from '@keyv/test-suite';
import Keyv5 from 'keyv';
import { RedisCopy, RedisRing } from '../../src/backends/index.ts';
import { redisdbKeyvStore } from '../../src/cache/keyv-store.ts';
import { startServers, type RedisServer } from '../lib/redis-server.ts';

const major = process.env['KEYV_MAJOR'] === '6' ? 6 : 5;
const Keyv = (major === 6 ? (await import('keyv6')).default : Keyv5) as typeof Keyv5;

for (const kind of ['RedisRing', 'RedisCopy'] as const) {
  vitest.describe(`Keyv ${major} official suite on a ${kind} of three nodes`, () => {
    let servers: RedisServer[] = [];
    let backend: RedisRing | RedisCopy | null = null;
    vitest.beforeAll(async () => {
      servers = await startServers(3);
      const location = servers.map((s) => s.address);
      backend = kind === 'RedisRing' ? new RedisRing(location) : new RedisCopy(location);
    });
    vitest.afterAll(async () => {
      await backend?.close();
      await Promise.all(servers.map((s) => s.stop()));
    });
    // A store per Keyv instance, as applications make them.
    const store = () => redisdbKeyvStore(backend!);
    keyvTestSuite(vitest, Keyv, store);
    keyvIteratorTests(vitest, Keyv, store);
  });
}
