/**
 * RedisCluster through real faults on a cluster of 3 primaries and 3 replicas
 * (cluster-node-timeout 2000 ms): a coordinated failover (CLUSTER FAILOVER) under 16 callers,
 * a primary killed (SIGKILL), a primary hung (SIGSTOP). Each test leaves the cluster healthy.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RedisCluster, TooManyRedirectionsError } from '../../src/backends/index.ts';
import { ConnectionError, ReplyError } from '../../src/errors.ts';
import { useClients } from '../helpers/clients.ts';
import { cli, useCluster } from '../helpers/cluster.ts';
import { eventually } from '../helpers/wait.ts';

describe('RedisCluster through failovers, a killed primary and a hung one', () => {
  const c = useCluster({ nodeTimeout: 2000 });
  let cluster: RedisCluster;
  useClients(() => {
    cluster = new RedisCluster(c.cluster.seeds, { OPTIONS: { socket_timeout: 2 } });
    return [cluster];
  });

  /** A hash tag whose slot the primary on `port` serves. */
  async function tagOn(port: number): Promise<string> {
    for (let i = 0; ; i++) {
      const tag = `{f${i}}`;
      if ((await c.cluster.ownerOf(cluster.slotOf(tag))) === port) return tag;
    }
  }

  async function role(port: number): Promise<string> {
    return (await cli(port, 'ROLE')).split('\n')[0]!;
  }

  it('CLUSTER FAILOVER under 16 callers: no acknowledged write lost, commands succeed again within 6 s', async (t) => {
    const port = (await c.cluster.primaries())[0]!;
    const replica = await c.cluster.replicaOf(port);
    const tag = await tagOn(port);
    const acked = new Map<string, string>();
    const successes: number[] = [];
    let failures = 0;
    let stop = false;
    const callers = Array.from({ length: 16 }, async (_, caller) => {
      for (let n = 0; !stop; n++) {
        const key = `${tag}:${caller}:${n}`;
        try {
          await cluster.set(key, String(n));
          acked.set(key, String(n));
          successes.push(performance.now());
        } catch {
          failures++;
        }
      }
    });
    await eventually(() => successes.length > 200, 5000, 'writes flowing');
    const start = performance.now();
    await c.cluster.failover(replica);
    const promoted = performance.now();
    await eventually(() => successes.some((s) => s > promoted + 1000), 10_000, 'writes after the failover');
    stop = true;
    await Promise.all(callers);
    // The longest time without an acknowledged write, from the failover on.
    const during = successes.filter((s) => s >= start).sort((a, b) => a - b);
    let gap = during.length > 0 ? during[0]! - start : Infinity;
    for (let i = 1; i < during.length; i++) gap = Math.max(gap, during[i]! - during[i - 1]!);
    const check = new RedisCluster(c.cluster.seeds);
    try {
      const keys = [...acked.keys()];
      const lost: string[] = [];
      for (let i = 0; i < keys.length; i += 500) {
        const part = keys.slice(i, i + 500);
        const values = (await check.mget(part)) as Array<string | null>;
        part.forEach((k, j) => {
          if (values[j] !== acked.get(k)) lost.push(k);
        });
      }
      t.diagnostic(`CLUSTER FAILOVER: ${acked.size} writes acknowledged, ${lost.length} lost, ${failures} failed; longest pause ${Math.round(gap)} ms; promoted after ${Math.round(promoted - start)} ms`);
      assert.deepEqual(lost, []);
      assert.ok(gap < 6000, `commands succeeded again after ${Math.round(gap)} ms`);
    } finally {
      await check.close();
    }
    await c.cluster.waitHealthy();
  });

  it('SIGKILL of a primary: its slots are served again within node-timeout + 2 s, within 1 s of the promotion', async (t) => {
    const port = (await c.cluster.primaries())[0]!;
    const tag = await tagOn(port);
    await cluster.set(`${tag}:k`, 'before');
    const server = c.cluster.byPort(port);
    const replica = await c.cluster.replicaOf(port);
    const killed = performance.now();
    await server.kill();
    try {
      let promoted = 0;
      const promotion = eventually(async () => (await role(replica)) === 'master', 15_000, 'the replica promoted').then(() => {
        promoted = performance.now();
      });
      let served = 0;
      let attempts = 0;
      for (;;) {
        attempts++;
        try {
          await cluster.set(`${tag}:k`, 'after');
          served = performance.now();
          break;
        } catch (err) {
          // While the primary is gone: its connection fails, the cluster says it is down, or the
          // call's retry window ends while nodes still send it to the dead primary.
          assert.ok(
            err instanceof ConnectionError || err instanceof TooManyRedirectionsError || (err instanceof ReplyError && err.code === 'CLUSTERDOWN'),
            `got ${String(err)}`,
          );
          if (performance.now() - killed > 15_000) throw err;
        }
      }
      await promotion;
      assert.equal(await cluster.get(`${tag}:k`), 'after');
      const took = served - killed;
      t.diagnostic(`SIGKILL: replica promoted ${Math.round(promoted - killed)} ms after the kill, served again ${Math.round(took)} ms after it (${attempts} calls)`);
      // Redis promotes the replica after node-timeout plus its election delay (0.5–1 s, more on
      // a loaded machine); the client's share is what follows the promotion.
      assert.ok(served - promoted < 1000, `served again ${Math.round(served - promoted)} ms after the promotion`);
      assert.ok(took < c.cluster.nodeTimeout + 2000 || promoted - killed > c.cluster.nodeTimeout + 1000, `served again after ${Math.round(took)} ms`);
    } finally {
      await server.start(); // back on its port, as a replica of the promoted node
    }
    await c.cluster.waitHealthy();
  });

  it('SIGSTOP of a primary: the command timeout fails the command, resets the socket and reads the map', async (t) => {
    const port = (await c.cluster.primaries())[0]!;
    const tag = await tagOn(port);
    await cluster.set(`${tag}:k`, 'v');
    const quick = new RedisCluster(c.cluster.seeds, { OPTIONS: { socket_timeout: 0.5 } });
    try {
      assert.equal(await quick.get(`${tag}:k`), 'v');
      const refreshes = quick.slotRefreshes;
      c.cluster.pause(port);
      const sent = performance.now();
      await assert.rejects(quick.get(`${tag}:k`), ConnectionError);
      const failedAfter = performance.now() - sent;
      assert.ok(failedAfter < 1000, `rejected after ${Math.round(failedAfter)} ms`);
      await eventually(() => quick.slotRefreshes > refreshes, 3000, 'a map read after the timeout');
      // Once the replica is promoted, the slot is served again through the new map.
      let back = 0;
      await eventually(async () => {
        try {
          await quick.get(`${tag}:k`);
          back = performance.now();
          return true;
        } catch {
          return false;
        }
      }, 15_000, 'the slot served again');
      t.diagnostic(`SIGSTOP: the read failed after ${Math.round(failedAfter)} ms; served again ${Math.round(back - sent)} ms after the stop`);
    } finally {
      c.cluster.resume(port);
      quick.disconnect();
    }
    await c.cluster.waitHealthy();
  });

  it('a sharded subscription follows its slot through CLUSTER FAILOVER', async () => {
    const channel = '{shard}updates';
    const port = await c.cluster.ownerOf(cluster.slotOf(channel));
    const replica = await c.cluster.replicaOf(port);
    const ps = cluster.pubsub();
    try {
      const got: string[] = [];
      await ps.ssubscribe({ [channel]: (m) => got.push(String(m.data)) });
      await cluster.spublish(channel, 'before');
      await eventually(() => got.includes('before'), 3000, 'the message before the failover');
      await c.cluster.failover(replica);
      // Published (through MOVED) to the new owner until the subscription has followed it there.
      let n = 0;
      await eventually(async () => {
        await cluster.spublish(channel, `after${n++}`);
        return cluster.nodeFor(channel).address === `127.0.0.1:${replica}` && got.some((g) => g.startsWith('after'));
      }, 10_000, 'a message through the new primary');
      // The subscription itself moved to the new primary (a replica of the shard also delivers).
      const subscribers = async (p: number): Promise<number> => Number((await cli(p, 'PUBSUB', 'SHARDNUMSUB', channel)).trim().split('\n')[1]);
      await eventually(async () => (await subscribers(replica)) === 1, 5000, 'the subscription on the new primary');
      assert.equal(await subscribers(port), 0);
    } finally {
      await ps.close();
    }
    await c.cluster.waitHealthy();
  });
});
