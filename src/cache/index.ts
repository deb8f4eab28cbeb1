/** The cache facade (Django's low-level cache API) and the Keyv store; importing it gives every client its `.cache`. */
import './accessor.ts';
export { Cache, KeyNotFoundError } from './cache.ts';
export { defaultKeyFunction, DEFAULT_TIMEOUT_SECONDS, type CacheOptions, type KeyFunction, type ResolvedCacheOptions } from './options.ts';
export { jsonSerializer, type Serializer } from './serializer.ts';
export { CacheTarget, type CacheBackend } from './target.ts';
export { RedisdbKeyvStore, redisdbKeyvStore, type KeyvEntry, type KeyvStoreOptions } from './keyv-store.ts';
