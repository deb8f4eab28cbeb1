/**
 * `.cache` on every ConstRedis, RedisRing and RedisCopy: the Django-style facade with default
 * options (timeout 300 s, no prefix, version 1), made on first use. Defined here, above the
 * backends, so the layers below never depend on the cache. createCaches gives its backends a
 * facade configured by TIMEOUT, KEY_PREFIX and VERSION instead.
 */
import { Backend } from '../backends/backend.ts';
import { ConstRedisBase } from '../client/const-redis.ts';
import { Cache } from './cache.ts';

declare module '../client/const-redis.js' {
  interface ConstRedisBase {
    /** Django's cache API on this server, with default options. */
    readonly cache: Cache;
  }
}

declare module '../backends/backend.js' {
  interface Backend {
    /** Django's cache API on this backend, with default options. */
    readonly cache: Cache;
  }
}

for (const proto of [ConstRedisBase.prototype, Backend.prototype]) {
  Object.defineProperty(proto, 'cache', {
    configurable: true,
    enumerable: false,
    get(this: ConstRedisBase | Backend): Cache {
      const cache = new Cache(this);
      // Kept on the instance, so every later access gets the same facade.
      Object.defineProperty(this, 'cache', { value: cache, configurable: true, enumerable: false, writable: false });
      return cache;
    },
  });
}
