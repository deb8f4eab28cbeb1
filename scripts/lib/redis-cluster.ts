/**
 * A real Redis Cluster on loopback for tests and scripts: `primaries` × (1 + replicas)
 * redis-server processes with `--cluster-enabled yes`, joined by `redis-cli --cluster create`,
 * ready once every node reports `cluster_state:ok` and knows every other node.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { RedisServer } from './redis-server.ts';

const run = promisify(execFile);

export interface ClusterOptions {
  primaries?: number;
  replicasPerPrimary?: number;
  /** cluster-node-timeout in ms (how long before a silent primary is failed over). */
  nodeTimeout?: number;
}

/** One redis-cli command against a node; its output as text. */
export async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 10_000 });
  return stdout;
}

export class RedisClusterServers {
  readonly servers: RedisServer[];
  readonly nodeTimeout: number;

  constructor(servers: RedisServer[], nodeTimeout: number) {
    this.servers = servers;
    this.nodeTimeout = nodeTimeout;
  }

  get seeds(): string[] {
    return this.servers.map((s) => s.address);
  }

  byPort(port: number): RedisServer {
    const s = this.servers.find((x) => x.port === port);
    if (s === undefined) throw new Error(`no cluster node on port ${port}`);
    return s;
  }

  /** Ports of the running primaries, from a running node's CLUSTER NODES. */
  async primaries(): Promise<number[]> {
    return (await this.nodes()).filter((n) => n.primary && n.connected).map((n) => n.port);
  }

  /** Every node as a running node sees it. */
  async nodes(): Promise<Array<{ id: string; port: number; primary: boolean; connected: boolean; primaryId: string; slots: string[] }>> {
    const alive = this.servers.find((s) => s.running && !this.paused.has(s.port));
    if (alive === undefined) throw new Error('no cluster node is running');
    const text = await cli(alive.port, 'CLUSTER', 'NODES');
    return text.trim().split('\n').map((line) => {
      const f = line.split(' ');
      const port = Number(f[1]!.split('@')[0]!.split(':')[1]);
      const flags = f[2]!.split(',');
      return {
        id: f[0]!, port, primary: flags.includes('master') && !flags.includes('fail'),
        connected: f[7] === 'connected' && !flags.includes('fail') && !flags.includes('fail?'), primaryId: f[3]!, slots: f.slice(8),
      };
    });
  }

  /** The port of the primary serving `slot`, as a running node sees it. */
  async ownerOf(slot: number): Promise<number> {
    for (const n of await this.nodes()) {
      if (!n.primary) continue;
      for (const range of n.slots) {
        if (range.startsWith('[')) continue;
        const [a, b] = range.split('-').map(Number);
        if (slot >= a! && slot <= (b ?? a)!) return n.port;
      }
    }
    throw new Error(`no primary serves slot ${slot}`);
  }

  /** A replica of the primary on `port` (waiting a little for the news of a failover to spread). */
  async replicaOf(port: number): Promise<number> {
    const end = Date.now() + 5000;
    for (;;) {
      const all = await this.nodes();
      const primary = all.find((n) => n.port === port);
      const replica = all.find((n) => n.primaryId === primary?.id && n.connected);
      if (replica !== undefined) return replica.port;
      if (Date.now() > end) throw new Error(`no replica of ${port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * CLUSTER FAILOVER on the replica on `port`, until it answers ROLE as master. Asked again if
   * a round does not complete (Redis gives a manual failover 5 s, then drops it).
   */
  async failover(port: number): Promise<void> {
    for (let round = 0; round < 4; round++) {
      await cli(port, 'CLUSTER', 'FAILOVER');
      const end = Date.now() + 6000;
      while (Date.now() < end) {
        if ((await cli(port, 'ROLE')).startsWith('master')) return;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    throw new Error(`the replica on ${port} was not promoted by CLUSTER FAILOVER`);
  }

  private readonly paused = new Set<number>();

  pause(port: number): void {
    this.byPort(port).pause();
    this.paused.add(port);
  }

  resume(port: number): void {
    this.byPort(port).resume();
    this.paused.delete(port);
  }

  /** Until every running node reports cluster_state:ok and sees every slot covered. */
  async waitHealthy(ms = 30_000): Promise<void> {
    const end = Date.now() + ms;
    for (;;) {
      const states = await Promise.all(
        this.servers.filter((s) => s.running && !this.paused.has(s.port)).map((s) => cli(s.port, 'CLUSTER', 'INFO').catch(() => '')),
      );
      if (states.every((t) => t.includes('cluster_state:ok') && t.includes('cluster_slots_ok:16384') && /cluster_slots_pfail:0\b/.test(t))) {
        // Every replica linked to its primary, so that the next failover can start at once.
        const links = await Promise.all(
          this.servers.filter((s) => s.running && !this.paused.has(s.port)).map((s) => cli(s.port, 'INFO', 'replication').catch(() => '')),
        );
        if (links.every((t) => !t.includes('role:slave') || t.includes('master_link_status:up'))) return;
      }
      if (Date.now() > end) throw new Error(`cluster not healthy after ${ms} ms:\n${states.join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop()));
  }
}

/** Starts and joins a cluster; by default 3 primaries with one replica each. */
export async function startCluster(options: ClusterOptions = {}): Promise<RedisClusterServers> {
  const primaries = options.primaries ?? 3;
  const replicas = options.replicasPerPrimary ?? 1;
  const nodeTimeout = options.nodeTimeout ?? 2000;
  const args = [
    '--cluster-enabled', 'yes', '--cluster-node-timeout', String(nodeTimeout), '--enable-debug-command', 'local',
    // A replica of a long-silent primary may still be promoted: tests kill primaries on purpose.
    '--cluster-replica-validity-factor', '0',
  ];
  const servers = Array.from({ length: primaries * (1 + replicas) }, () => new RedisServer(args));
  await Promise.all(servers.map((s) => s.start()));
  const cluster = new RedisClusterServers(servers, nodeTimeout);
  try {
    await run('redis-cli', [
      '--cluster', 'create', ...servers.map((s) => s.address), '--cluster-replicas', String(replicas), '--cluster-yes',
    ], { timeout: 60_000 });
    await cluster.waitHealthy();
    // Every replica attached and synced, so that a failover can start at once.
    const end = Date.now() + 30_000;
    for (;;) {
      const infos = await Promise.all(servers.map((s) => cli(s.port, 'INFO', 'replication')));
      const synced = infos.filter((t) => t.includes('role:slave') && t.includes('master_link_status:up')).length;
      if (synced === primaries * replicas) break;
      if (Date.now() > end) throw new Error('cluster replicas did not sync');
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}
