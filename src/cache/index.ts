/** The cache facade (Django's low-level cache API) and the Keyv store; importing it gives every client its `.cache`. */
import './accessor.js';
export { Cache, KeyNotFoundError } from './cache.js';
export { defaultKeyFunction, DEFAULT_TIMEOUT_SECONDS, type CacheOptions, type KeyFunction, type ResolvedCacheOptions } from './options.js';
export { jsonSerializer, type Serializer } from './serializer.js';
export { CacheTarget, type CacheBackend } from './target.js';
export { RedisdbKeyvStore, redisdbKeyvStore, type KeyvEntry, type KeyvStoreOptions } from './keyv-store.js';
