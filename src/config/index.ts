/** Django-style configuration: createCaches(CACHES), CACHES from the environment or a file, LOCATION lists. */
export { createCaches, closeAll, attachCache, type Caches, type CacheConfig, type CachesConfig, type ConfiguredBackend } from './caches.ts';
export { cachesFromEnv, readCachesFile, CACHES_ENV } from './load.ts';
export { parseLocation, locationList } from './location.ts';
export { registerBackendKind, backendKind, type BackendKind, type BackendParams } from './backend-kinds.ts';
