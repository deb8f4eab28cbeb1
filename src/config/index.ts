/** Django-style configuration: createCaches(CACHES), CACHES from the environment or a file, LOCATION lists. */
export { createCaches, closeAll, attachCache, type Caches, type CacheConfig, type CachesConfig, type ConfiguredBackend } from './caches.js';
export { cachesFromEnv, readCachesFile, CACHES_ENV } from './load.js';
export { parseLocation, locationList } from './location.js';
export { registerBackendKind, backendKind, type BackendKind, type BackendParams } from './backend-kinds.js';
