/**
 * Cursor iterators on a backend. SCAN walks the keyspace of every node of a RedisRing (each
 * key lives on one node, so each is yielded once), or of one node of a RedisCopy (every node
 * holds every key), the first of the nodes it may read from whose first step answers.
 */
import type { ConstRedis } from '../client/const-redis.ts';
import type { ScanIterOptions } from '../client/scan.ts';
import type { Bulk, Key } from '../client/types.ts';
import { ConnectionError } from '../errors.ts';
import { NodesFailedError } from './errors.ts';

/** Every node's keys, node after node. */
export function scanEvery(nodes: readonly ConstRedis[], options: ScanIterOptions = {}): AsyncGenerator<Bulk, void, undefined> {
  // Made (not started) on the first node at once, so bad options throw before anything is sent.
  const first = nodes[0]!.scanIter(options);
  return (async function* every(): AsyncGenerator<Bulk, void, undefined> {
    yield* first;
    for (let i = 1; i < nodes.length; i++) yield* nodes[i]!.scanIter(options);
  })();
}

/**
 * One node's keys: the first node of `order()` (asked when the walk starts) whose first SCAN
 * step answers; a node lost after that ends the walk with its error, since another node's
 * cursor would start over.
 */
export function scanOneOf(
  nodes: readonly ConstRedis[], addresses: readonly string[], order: () => readonly number[], options: ScanIterOptions = {},
): AsyncGenerator<Bulk, void, undefined> {
  nodes[0]!.scanIter(options); // checks the options now, before anything is sent
  return (async function* one(): AsyncGenerator<Bulk, void, undefined> {
    const errors: Error[] = [];
    const tried: string[] = [];
    for (const i of order()) {
      const it = nodes[i]!.scanIter(options);
      let step: IteratorResult<Bulk, void>;
      try {
        step = await it.next();
      } catch (err) {
        if (!(err instanceof ConnectionError)) throw err;
        errors.push(err);
        tried.push(addresses[i]!);
        continue;
      }
      if (step.done === true) return;
      yield step.value;
      yield* it;
      return;
    }
    throw new NodesFailedError(tried, errors, 'SCAN');
  })();
}

export function checkScanKey(method: string, key: unknown): Key {
  if (typeof key !== 'string' && !(key instanceof Uint8Array)) throw new TypeError(`${method}: the key must be a string or a Buffer, got ${typeof key}`);
  return key;
}
