/**
 * The near cache on every backend (one per node): a write from another client is seen by a
 * RedisRing, a RedisCopy and a RedisCluster reading through it, their own writes at once, and
 * the figures are summed over the nodes. On a cluster, the randomized check runs through a
 * CLUSTER FAILOVER of the keys' primary (REDISDB_SEED replays its choices).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RedisCluster, RedisCopy, RedisRing } from '../../src/backends/index.ts';
import type { Backend } from '../../src/backends/backend.ts';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { useClients } from '../helpers/clients.ts';
import { useCluster } from '../helpers/cluster.ts';
import { runNearCheck, seedFromEnv } from '../helpers/near-check.ts';
import { useServers } from '../helpers/servers.ts';
import { eventually } from '../helpers/wait.ts';

const NEAR = { nearCache: { pingInterval: 200 } };

type Reading = Backend & { get(key: string): Promise<unknown>; set(key: string, value: string): Promise<unknown> };

/** Reads `key` through `backend` twice (the second from memory), then sees another client's write to `node`. */
async function seesOtherWrites(backend: Reading, key: string, other: ConstRedis): Promise<void> {
  await other.set(key, 'one');
  // Cached earlier, it may take the invalidation's time to read the new value.
  await eventually(async () => (await backend.get(key)) === 'one', 2000, 'the first value');
  const node = backend.clients[backend.nodeIndexFor(key)]!;
  await eventually(() => node.nearCache?.isTracking === true, 3000, 'the key\'s node tracking');
  assert.equal(await backend.get(key), 'one');
  const hits = backend.nearCacheStats()!.hits;
  assert.equal(await backend.get(key), 'one');
  assert.equal(backend.nearCacheStats()!.hits, hits + 1);
  await other.set(key, 'two');
  await eventually(async () => (await backend.get(key)) === 'two', 2000, 'the other client\'s write');
  await backend.set(key, 'three');
  assert.equal(await backend.get(key), 'three'); // its own write, at once
  const stats = backend.nearCacheStats()!;
  assert.ok(stats.invalidations >= 1);
  assert.equal(Object.keys(stats.nodes).length, backend.clients.length);
  assert.equal(stats.entries, Object.values(stats.nodes).reduce((n, s) => n + s.entries, 0));
}

describe('near cache on RedisRing and RedisCopy', () => {
  const servers = useServers(2);
  let ring: RedisRing;
  let copy: RedisCopy;
  let others: ConstRedis[];
  useClients(async () => {
    ring = new RedisRing(servers.map((s) => s.address), { OPTIONS: NEAR });
    copy = new RedisCopy(servers.map((s) => s.address), { OPTIONS: { near_cache: { ping_interval: 0.2 } } });
    others = servers.map((s) => new ConstRedis({ port: s.port }));
    await Promise.all([ring.connect(), copy.connect()]);
    return [ring, copy, ...others];
  });

  it('RedisRing: each node\'s cache sees another client\'s write', async () => {
    for (const key of ['near:ring:a', 'near:ring:b', 'near:ring:c']) {
      await seesOtherWrites(ring as unknown as Reading, key, others[ring.nodeIndexFor(key)]!);
    }
  });

  it('RedisCopy: the read node\'s cache sees a write made to it by another client; its own writes reach every node\'s cache', async () => {
    const key = 'near:copy:a';
    await seesOtherWrites(copy as unknown as Reading, key, others[copy.nodeIndexFor(key)]!);
    assert.equal(await others[1 - copy.nodeIndexFor(key)]!.get(key), 'three');
  });
});

describe('near cache on RedisCluster', () => {
  const c = useCluster({ nodeTimeout: 2000 });
  let cluster: RedisCluster;
  let writer: RedisCluster;
  useClients(async () => {
    cluster = new RedisCluster(c.cluster.seeds, { OPTIONS: { ...NEAR, socket_timeout: 2 } });
    writer = new RedisCluster(c.cluster.seeds, { OPTIONS: { socket_timeout: 2 } });
    await Promise.all([cluster.connect(), writer.connect()]);
    return [cluster, writer];
  });

  it('each primary\'s cache sees another client\'s write', async () => {
    const key = 'near:cluster:a';
    const port = await c.cluster.ownerOf(cluster.slotOf(key));
    const other = new ConstRedis({ port });
    try {
      await seesOtherWrites(cluster as unknown as Reading, key, other);
    } finally {
      await other.close();
    }
  });

  it('randomized check through CLUSTER FAILOVER of the keys\' primary', async (t) => {
    const seed = seedFromEnv();
    const keys = Array.from({ length: 6 }, (_, i) => `{nearfo}:${i}`);
    const port = await c.cluster.ownerOf(cluster.slotOf(keys[0]!));
    const replica = await c.cluster.replicaOf(port);
    const flushesBefore = cluster.nearCacheStats()!.flushes;
    const r = await runNearCheck({
      seed, keys, reader: cluster as unknown as Reading, writer: writer as unknown as Reading & { flushall(): Promise<unknown> },
      caches: () => cluster.clients.map((n) => n.nearCache!),
      // A node's flush says nothing of the keys another node serves.
      flushesCount: false,
      durationMs: 1500,
      disrupt: async (round) => {
        if (round === 1) await c.cluster.failover(replica);
      },
    });
    const s = cluster.nearCacheStats()!;
    t.diagnostic(`CLUSTER FAILOVER (REDISDB_SEED=${seed}): ${r.reads} reads (${s.hits} from memory), ${r.writes} writes, ${r.lateReads} within the invalidation window, ${r.errors} failed; ${s.flushes - flushesBefore} flushes`);
    assert.deepEqual(r.violations.slice(0, 5), [], `seed ${seed}`);
    assert.ok(s.flushes > flushesBefore, 'the nodes whose slots moved were flushed');
    assert.equal(await c.cluster.ownerOf(cluster.slotOf(keys[0]!)), replica);
  });
});
