/**
 * A real Sentinel set on loopback for tests and scripts: a master, its replicas and sentinels
 * (`redis-server s.conf --sentinel`) monitoring it as one service, ready once every sentinel
 * sees every replica and every other sentinel.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './redis-cluster.ts';
import { freePort, RedisServer, spawnRedis } from './redis-server.ts';

export class SentinelProcess {
  port = 0;
  private child: ChildProcess | null = null;
  private readonly dir = mkdtempSync(join(tmpdir(), 'redisdb-sentinel-'));

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** `extra`: more configuration lines for the service, after its `sentinel monitor`. */
  async start(service: string, masterPort: number, quorum: number, extra: readonly string[] = []): Promise<void> {
    this.port = await freePort();
    const conf = join(this.dir, 's.conf');
    writeFileSync(conf, [
      `port ${this.port}`, 'bind 127.0.0.1', 'daemonize no', `dir ${this.dir}`,
      `sentinel monitor ${service} 127.0.0.1 ${masterPort} ${quorum}`,
      `sentinel down-after-milliseconds ${service} 1000`,
      `sentinel failover-timeout ${service} 4000`,
      `sentinel parallel-syncs ${service} 2`, ...extra, '',
    ].join('\n'));
    this.child = await spawnRedis([conf, '--sentinel'], '+monitor master', `sentinel on port ${this.port}`, (child) => {
      if (this.child === child) this.child = null;
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child !== null) {
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await gone;
    }
    this.child = null;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class SentinelSet {
  readonly service: string;
  readonly master: RedisServer;
  readonly replicas: RedisServer[];
  readonly sentinels: SentinelProcess[];

  constructor(service: string, master: RedisServer, replicas: RedisServer[], sentinels: SentinelProcess[]) {
    this.service = service;
    this.master = master;
    this.replicas = replicas;
    this.sentinels = sentinels;
  }

  get sentinelAddresses(): string[] {
    return this.sentinels.map((s) => s.address);
  }

  get servers(): RedisServer[] {
    return [this.master, ...this.replicas];
  }

  /** The port of the master as the first sentinel names it now. */
  async masterPort(): Promise<number> {
    const out = (await cli(this.sentinels[0]!.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.service)).trim().split('\n');
    return Number(out[1]);
  }

  /** Until every sentinel sees every replica and every other sentinel, and names one master. */
  async waitSettled(ms = 30_000): Promise<void> {
    const end = Date.now() + ms;
    for (;;) {
      const views = await Promise.all(this.sentinels.map((s) => cli(s.port, 'SENTINEL', 'MASTER', this.service).catch(() => '')));
      const masters = await Promise.all(this.sentinels.map((s) => cli(s.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.service).catch(() => '')));
      const field = (text: string, name: string): string => {
        const lines = text.trim().split('\n');
        const i = lines.indexOf(name);
        return i >= 0 ? lines[i + 1]! : '';
      };
      const ok = views.every((v) => field(v, 'num-slaves') === String(this.replicas.length)
        && field(v, 'num-other-sentinels') === String(this.sentinels.length - 1) && field(v, 'flags') === 'master')
        && new Set(masters).size === 1;
      // Every replica linked to the master and done with any full resync, so that a failover
      // can pick any of them: a sentinel may promote a replica whose link has been down for up
      // to ten times down-after-milliseconds, and one promoted in the middle of a full resync
      // keeps the data it had before it (the writes the master took meanwhile are lost).
      if (ok && await this.replicasInSync(await this.masterPort())) return;
      if (Date.now() > end) throw new Error(`sentinels not settled after ${ms} ms:\n${views.join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Every other server is a replica of `port`, linked (not resyncing), and `port` counts each online. */
  private async replicasInSync(port: number): Promise<boolean> {
    const info = await cli(port, 'INFO', 'replication').catch(() => '');
    const online = info.split(/\r?\n/).filter((l) => /^slave\d+:.*state=online/.test(l)).length;
    if (!info.includes('role:master') || online !== this.replicas.length) return false;
    const others = this.servers.filter((s) => s.port !== port);
    const views = await Promise.all(others.map((s) => cli(s.port, 'INFO', 'replication').catch(() => '')));
    return views.every((v) => new RegExp(`^master_port:${port}\\s`, 'm').test(v) && v.includes('master_link_status:up') && v.includes('master_sync_in_progress:0'));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.sentinels.map((s) => s.stop()), ...this.servers.map((s) => s.stop())]);
  }
}

/** A master, `replicas` replicas and `sentinels` sentinels (quorum: a majority of them). */
export async function startSentinelSet(options: { service?: string; replicas?: number; sentinels?: number } = {}): Promise<SentinelSet> {
  const service = options.service ?? 'mymaster';
  const master = new RedisServer();
  await master.start();
  const replicas = Array.from({ length: options.replicas ?? 2 }, () => new RedisServer(['--replicaof', '127.0.0.1', String(master.port)]));
  await Promise.all(replicas.map((r) => r.start()));
  const count = options.sentinels ?? 3;
  const sentinels = Array.from({ length: count }, () => new SentinelProcess());
  const set = new SentinelSet(service, master, replicas, sentinels);
  try {
    await Promise.all(sentinels.map((s) => s.start(service, master.port, Math.floor(count / 2) + 1)));
    await set.waitSettled();
  } catch (err) {
    await set.stop();
    throw err;
  }
  return set;
}
