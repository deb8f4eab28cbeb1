/**
 * A Redis Cluster of `primaries` primaries (no replicas) for the benchmark: cluster-enabled
 * servers on free loopback ports, joined with redis-cli --cluster create, ready once every node
 * reports cluster_state:ok.
 */
import { execFileSync } from 'node:child_process';
import { startRedis } from './servers.mjs';

export async function startCluster(primaries = 3) {
  const servers = await Promise.all(Array.from({ length: primaries }, () => startRedis(['--cluster-enabled', 'yes', '--cluster-node-timeout', '5000'])));
  const stop = () => Promise.all(servers.map((s) => s.stop()));
  try {
    execFileSync('redis-cli', ['--cluster', 'create', ...servers.map((s) => `127.0.0.1:${s.port}`), '--cluster-replicas', '0', '--cluster-yes'], { stdio: 'ignore', timeout: 60_000 });
    const end = Date.now() + 30_000;
    for (;;) {
      const ok = servers.every((s) => execFileSync('redis-cli', ['-p', String(s.port), 'CLUSTER', 'INFO'], { encoding: 'utf8' }).includes('cluster_state:ok'));
      if (ok) break;
      if (Date.now() > end) throw new Error('the benchmark cluster did not reach cluster_state:ok');
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { ports: servers.map((s) => s.port), stop };
}
