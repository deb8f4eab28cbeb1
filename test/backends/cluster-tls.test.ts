/**
 * RedisCluster over TLS on a real two-primary cluster (`tls-port`, `tls-cluster yes`) whose
 * certificate names `localhost` only, reached through a nat_map that maps every announced
 * address to a TCP forwarder on an IP address (a NAT in front of the cluster). The mapped IP is
 * where a node is dialled, not which server it is: its certificate is checked against the name
 * the user reached the cluster by (ioredis #754).
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { RedisCluster } from '../../src/backends/index.ts';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { ConnectionError } from '../../src/errors.ts';
import { freePort, RedisServer } from '../../scripts/lib/redis-server.ts';
import { cli } from '../helpers/cluster.ts';
import { FaultProxy } from '../helpers/fault-proxy.ts';
import { makePki, type Pki } from '../helpers/tls.ts';
import { eventually } from '../helpers/wait.ts';

describe('RedisCluster over TLS through a nat_map', () => {
  let pki: Pki;
  const servers: RedisServer[] = [];
  const tlsPorts: number[] = [];
  /** One forwarder per node: the address the nat_map sends the client to. */
  const nat: FaultProxy[] = [];

  before(async () => {
    pki = makePki();
    for (let i = 0; i < 2; i++) tlsPorts.push(await freePort());
    servers.push(...tlsPorts.map((tlsPort) => new RedisServer([
      '--cluster-enabled', 'yes', '--cluster-node-timeout', '2000', '--tls-port', String(tlsPort), '--tls-cluster', 'yes',
      '--tls-replication', 'yes', '--tls-auth-clients', 'no', '--tls-cert-file', pki.nameOnlyCert, '--tls-key-file', pki.nameOnlyKey,
      '--tls-ca-cert-file', pki.caFile,
    ])));
    await Promise.all(servers.map((s) => s.start()));
    const [a, b] = servers as [RedisServer, RedisServer];
    await cli(a.port, 'CLUSTER', 'ADDSLOTSRANGE', '0', '8191');
    await cli(b.port, 'CLUSTER', 'ADDSLOTSRANGE', '8192', '16383');
    // With tls-cluster, a node's bus port is its TLS port + 10000: it is met at its TLS port.
    await cli(a.port, 'CLUSTER', 'MEET', '127.0.0.1', String(tlsPorts[1]));
    await eventually(async () => {
      const infos = await Promise.all(servers.map((s) => cli(s.port, 'CLUSTER', 'INFO')));
      return infos.every((i) => i.includes('cluster_state:ok') && i.includes('cluster_known_nodes:2'));
    }, 20_000, 'the two nodes to form a cluster over TLS');
    nat.push(...(await Promise.all(tlsPorts.map((port) => FaultProxy.start({ host: '127.0.0.1', port })))));
  });
  after(async () => {
    await Promise.all([...nat.map((p) => p.close()), ...servers.map((s) => s.stop())]);
    if (pki !== undefined) rmSync(pki.dir, { recursive: true, force: true });
  });

  it('checks each mapped node against the name the cluster was reached by, not the mapped IP', async () => {
    const natMap = Object.fromEntries(tlsPorts.map((port, i) => [`127.0.0.1:${port}`, `127.0.0.1:${nat[i]!.port}`]));
    // The certificate does not name the IP: dialled by IP without a name, it is refused.
    const byIp = new ConstRedis({ host: '127.0.0.1', port: nat[0]!.port, tls: { ca: pki.ca }, socketConnectTimeout: 2000 });
    try {
      const err = await byIp.ping().then(() => null, (e: unknown) => e);
      assert.ok(err instanceof ConnectionError && /altnames|IP: 127\.0\.0\.1/i.test(err.message), String(err));
    } finally {
      byIp.disconnect();
    }
    const cluster = new RedisCluster([`localhost:${nat[0]!.port}`], { OPTIONS: { tls: { ca: pki.ca }, nat_map: natMap, socket_timeout: 5 } });
    try {
      const keys = Array.from({ length: 16 }, (_, i) => `tls:${i}`);
      for (const k of keys) await cluster.set(k, k);
      assert.deepEqual(await cluster.mget(keys), keys);
      // Keys on both primaries, each reached at its mapped IP address and checked against 'localhost'.
      const owners = new Set(keys.map((k) => cluster.nodeFor(k).connection.address));
      assert.deepEqual([...owners].sort(), Object.values(natMap).sort());
      for (const i of cluster.primaries) {
        assert.match(cluster.addresses[i]!, /^127\.0\.0\.1:/);
        assert.equal(cluster.clients[i]!.options.tls?.servername, 'localhost');
      }
      assert.ok(nat.every((p) => p.accepted > 0), 'every node was reached through the nat_map');
      assert.equal(await cli(servers[1]!.port, 'GET', keys.find((k) => cluster.slotOf(k) >= 8192)!), `${keys.find((k) => cluster.slotOf(k) >= 8192)!}\n`);
    } finally {
      await cluster.close();
    }
    // A servername given in the options is kept as given: a wrong one is refused on every node.
    const wrong = new RedisCluster([`localhost:${nat[0]!.port}`], {
      OPTIONS: { tls: { ca: pki.ca, servername: 'redis.elsewhere.example' }, nat_map: natMap, socket_timeout: 2, socket_connect_timeout: 1 },
    });
    try {
      const err = await wrong.get('tls:0').then(() => null, (e: unknown) => e);
      assert.ok(err instanceof Error && /redis\.elsewhere\.example|altnames/i.test(err.message), String(err));
    } finally {
      await wrong.close();
    }
  });
});
