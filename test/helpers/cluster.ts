/**
 * A real Redis Cluster for a test file (see scripts/lib/redis-cluster.ts): started once in a
 * `before` hook (call inside `describe()`), stopped after the suite. Filled when the hook has run.
 */
import { after, before } from 'node:test';
import { startCluster, type ClusterOptions, type RedisClusterServers } from '../../scripts/lib/redis-cluster.ts';

export { cli, RedisClusterServers } from '../../scripts/lib/redis-cluster.ts';

export function useCluster(options: ClusterOptions = {}): { cluster: RedisClusterServers } {
  const holder = {} as { cluster: RedisClusterServers };
  before(async () => {
    holder.cluster = await startCluster(options);
  });
  after(async () => {
    await holder.cluster?.stop();
  });
  return holder;
}
