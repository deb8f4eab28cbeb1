/**
 * Cursor iterators on a backend. SCAN walks the keyspace of every node of a RedisRing (each
 * key lives on one node, so each is yielded once), or of one healthy node of a RedisCopy
 * (every node holds every key). HSCAN, SSCAN and ZSCAN walk one key, on the key's node.
 */
import type { ScanIterOptions } from '../client/scan.js';
import type { Bulk, Key } from '../client/types.js';
import { ConnectionError } from '../errors.js';
import type { Backend } from './backend.js';
import { NodesFailedError } from './errors.js';

export function backendScanIter(backend: Backend, copies: boolean, options: ScanIterOptions = {}): AsyncGenerator<Bulk, void, undefined> {
  // Made (not started) on the first node at once, so bad options throw before anything is sent.
  const first = backend.nodes[0]!.scanIter(options);
  return copies ? scanOneHealthy(backend, first, options) : scanEvery(backend, first, options);
}

async function* scanEvery(backend: Backend, first: AsyncGenerator<Bulk, void, undefined>, options: ScanIterOptions): AsyncGenerator<Bulk, void, undefined> {
  yield* first;
  for (let i = 1; i < backend.nodes.length; i++) yield* backend.nodes[i]!.scanIter(options);
}

/**
 * The first node whose first SCAN step answers; a node lost after that ends the walk with its
 * error, since another node's cursor would start over.
 */
async function* scanOneHealthy(backend: Backend, first: AsyncGenerator<Bulk, void, undefined>, options: ScanIterOptions): AsyncGenerator<Bulk, void, undefined> {
  const errors: Error[] = [];
  for (let i = 0; i < backend.nodes.length; i++) {
    const it = i === 0 ? first : backend.nodes[i]!.scanIter(options);
    let step: IteratorResult<Bulk, void>;
    try {
      step = await it.next();
    } catch (err) {
      if (!(err instanceof ConnectionError)) throw err;
      errors.push(err);
      continue;
    }
    if (step.done === true) return;
    yield step.value;
    yield* it;
    return;
  }
  throw new NodesFailedError(backend.addresses, errors, 'SCAN');
}

export function backendHscanIter(backend: Backend, name: Key, options?: ScanIterOptions): AsyncGenerator<[string, Bulk], void, undefined> {
  return backend.nodeFor(checkKey('hscan_iter', name)).hscanIter(name, options);
}

export function backendSscanIter(backend: Backend, name: Key, options?: ScanIterOptions): AsyncGenerator<Bulk, void, undefined> {
  return backend.nodeFor(checkKey('sscan_iter', name)).sscanIter(name, options);
}

export function backendZscanIter(backend: Backend, name: Key, options?: ScanIterOptions): AsyncGenerator<[Bulk, unknown], void, undefined> {
  return backend.nodeFor(checkKey('zscan_iter', name)).zscanIter(name, options);
}

function checkKey(method: string, key: unknown): Key {
  if (typeof key !== 'string' && !(key instanceof Uint8Array)) throw new TypeError(`${method}: the key must be a string or a Buffer, got ${typeof key}`);
  return key;
}
