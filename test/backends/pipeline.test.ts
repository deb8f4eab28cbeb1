/**
 * Pipelines, transactions, scripts and blocking pops on RedisRing and RedisCopy, on real
 * servers: grouped per node, results in the caller's order, cross-node transactions refused.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { RedisCopy, RedisRing } from '../../src/backends/index.ts';
import { ConnectionError, CrossNodeError, ReplyError } from '../../src/errors.ts';
import { useClients } from '../helpers/clients.ts';
import { apart } from '../helpers/keys.ts';
import { useServers } from '../helpers/servers.ts';
import { eventually } from '../helpers/wait.ts';

async function commandCalls(node: ConstRedis, command: string): Promise<number> {
  const stats = (await node.info('commandstats'))[`cmdstat_${command}`] as Record<string, number> | undefined;
  return stats?.['calls'] ?? 0;
}

describe('pipelines and transactions on backends', () => {
  const servers = useServers(3);
  let ring: RedisRing;
  let copy: RedisCopy;
  let direct: ConstRedis[];

  useClients(() => {
    ring = new RedisRing(servers.map((s) => s.address), { DB: 0, OPTIONS: { socket_timeout: 5, hash_tag: '{}' } });
    copy = new RedisCopy(servers.map((s) => s.address), { DB: 1, OPTIONS: { socket_timeout: 5 } });
    direct = servers.map((s) => new ConstRedis(s.url));
    return [ring, copy, ...direct];
  });
  before(async () => {
    await Promise.all(direct.map((d) => d.flushall()));
  });

  describe('RedisRing pipeline', () => {
    it('groups commands per node and returns results in the caller order, with the ring shapes', async () => {
      const keys = Array.from({ length: 30 }, (_, i) => `rp:${i}`);
      const nodesUsed = new Set(keys.map((k) => ring.nodeIndexFor(k)));
      assert.equal(nodesUsed.size, 3);
      const pipe = ring.pipeline({ transaction: false });
      for (const k of keys) pipe.set(k, `v-${k}`);
      for (const k of keys) pipe.get(k);
      pipe.mget(keys.slice(0, 5));
      const results = await pipe.exec();
      // Writes: one result per node written; reads: the reply.
      assert.deepEqual(results.slice(0, 30), keys.map(() => [true]));
      assert.deepEqual(results.slice(30, 60), keys.map((k) => `v-${k}`));
      assert.deepEqual(results[60], keys.slice(0, 5).map((k) => `v-${k}`));
      // Raw commands are routed like the others; keyless ones answer from every node.
      const raw = await ring.pipeline({ transaction: false }).call('GET', keys[0]!).execute_command('ECHO', 'e').exec();
      assert.deepEqual(raw, [`v-${keys[0]}`, ['e', 'e', 'e']]);
      // Each key really is on its own node only.
      for (const k of keys.slice(0, 6)) {
        const where = await Promise.all(direct.map((d) => d.exists(k)));
        assert.deepEqual(where.map((w, i) => (w === true ? i : -1)).filter((i) => i >= 0), [ring.nodeIndexFor(k)]);
      }
    });

    it('sends one batch per node: a node answers its group only', async () => {
      const [a, b] = apart(ring, 'rp:batch');
      const before = await Promise.all(direct.map((d) => commandCalls(d, 'incrby')));
      await ring.pipeline({ transaction: false }).incr(a).incr(a).incr(b).exec();
      const afterCalls = await Promise.all(direct.map((d) => commandCalls(d, 'incrby')));
      const delta = afterCalls.map((n, i) => n - before[i]!);
      assert.equal(delta[ring.nodeIndexFor(a)], 2);
      assert.equal(delta[ring.nodeIndexFor(b)], 1);
    });

    it('gives a failing command its error and keeps the others', async () => {
      const [a, b] = apart(ring, 'rp:err');
      await ring.set(a, 'text');
      const results = await ring.pipeline({ transaction: false }).lpush(a, 'x').set(b, 1).get(b).exec({ raiseOnError: false });
      assert.ok(results[0] instanceof ReplyError);
      assert.deepEqual(results.slice(1), [[true], '1']);
      await assert.rejects(ring.pipeline({ transaction: false }).lpush(a, 'x').exec(), ReplyError);
    });

    it('runs a transaction on the one node of its keys (hash tags keep them together)', async () => {
      const before = await Promise.all(direct.map((d) => commandCalls(d, 'multi')));
      const results = await ring.pipeline().set('{user1}:a', 1).incr('{user1}:b', 5).mget('{user1}:a', '{user1}:b').exec();
      assert.deepEqual(results, [[true], [5], ['1', '5']]);
      const afterCalls = await Promise.all(direct.map((d) => commandCalls(d, 'multi')));
      const node = ring.nodeIndexFor('{user1}:a');
      assert.deepEqual(afterCalls.map((n, i) => n - before[i]!), [0, 1, 2].map((i) => (i === node ? 1 : 0)));
    });

    it('refuses a transaction whose keys live on several nodes before sending anything', async () => {
      const [a, b] = apart(ring, 'rp:cross');
      const before = await Promise.all(direct.map((d) => commandCalls(d, 'multi')));
      await assert.rejects(ring.pipeline().set(a, 1).set(b, 2).exec(), (err: unknown) => err instanceof CrossNodeError && /hash tag/.test(err.message));
      assert.equal(await ring.get(a), null);
      assert.deepEqual(await Promise.all(direct.map((d) => commandCalls(d, 'multi'))), before);
    });

    it('transaction() retries after a WATCH conflict and refuses cross-node keys', async () => {
      await ring.set('{acct}:balance', 10);
      const node = direct[ring.nodeIndexFor('{acct}:balance')]!;
      let attempts = 0;
      const result = await ring.transaction(async (pipe) => {
        attempts++;
        const balance = Number(await pipe.get('{acct}:balance'));
        if (attempts === 1) await node.set('{acct}:balance', 50);
        pipe.multi().set('{acct}:balance', balance - 1).incr('{acct}:ops');
      }, '{acct}:balance');
      assert.equal(attempts, 2);
      assert.deepEqual(result, [true, 1]);
      assert.equal(await ring.get('{acct}:balance'), '49');
      const [a, b] = apart(ring, 'rp:tx');
      await assert.rejects(ring.transaction(async () => {}, a, b), CrossNodeError);
      await assert.rejects(
        ring.transaction(async (pipe) => {
          pipe.multi().set(b, 1);
        }, a),
        CrossNodeError,
      );
      await assert.rejects(ring.transaction(async (pipe) => { await pipe.get(b); }, a), CrossNodeError);
      assert.equal(await ring.get(b), null);
      await assert.rejects(ring.transaction(async () => {}), TypeError);
    });
  });

  describe('a node down', () => {
    it('a Ring pipeline still returns the other nodes\' results; the down node\'s slots hold its error', async () => {
      // A ring of its own: the failures it sees take the node out of it, not out of the
      // ring the other tests share.
      const own = new RedisRing(servers.map((s) => s.address), { DB: 0, OPTIONS: { socket_timeout: 5, hash_tag: '{}' } });
      const [a, b] = apart(own, 'rp:down');
      const server = servers[own.nodeIndexFor(b)]!;
      await own.set(a, 'alive');
      await server.kill();
      try {
        const started = Date.now();
        const results = await own.pipeline({ transaction: false }).get(a).get(b).exec({ raiseOnError: false });
        assert.ok(Date.now() - started < 3000);
        assert.equal(results[0], 'alive');
        assert.ok(results[1] instanceof ConnectionError, String(results[1]));
        await assert.rejects(own.pipeline({ transaction: false }).get(a).get(b).exec(), ConnectionError);
      } finally {
        await own.close();
        await server.start();
      }
    });
  });

  describe('RedisCopy pipeline', () => {
    it('writes on every node and reads from one, in the caller order', async () => {
      const results = await copy.pipeline({ transaction: false }).set('cp:a', 1).get('cp:a').incr('cp:n').exec();
      assert.deepEqual(results, [[true, true, true], '1', [1, 1, 1]]);
      const direct1 = servers.map((s) => new ConstRedis({ port: s.port, db: 1 }));
      try {
        assert.deepEqual(await Promise.all(direct1.map((d) => d.get('cp:a'))), ['1', '1', '1']);
      } finally {
        await Promise.all(direct1.map((d) => d.close()));
      }
    });

    it('runs a transaction on every node: writes one entry per node, reads once', async () => {
      await copy.set('cp:t', 5);
      const results = await copy.pipeline().incr('cp:t').get('cp:t').exec();
      assert.deepEqual(results, [[6, 6, 6], '6']);
    });

    it('transaction() runs on every node with its own WATCH', async () => {
      await copy.set('cp:w', 1);
      const results = await copy.transaction(async (pipe) => {
        const v = Number(await pipe.get('cp:w'));
        pipe.multi().set('cp:w', v * 10);
      }, 'cp:w');
      assert.deepEqual(results, [[true], [true], [true]]);
      assert.equal(await copy.get('cp:w'), '10');
    });
  });

  describe('scripts and blocking pops on backends', () => {
    it('RedisRing runs a script on the node of its keys, loading it after SCRIPT FLUSH', async () => {
      const script = ring.register_script(`return redis.call('incrby', KEYS[1], ARGV[1])`);
      const key = 'rs:counter';
      await Promise.all(direct.map((d) => d.script_flush()));
      assert.deepEqual(await script([key], [3]), [3]);
      const node = ring.nodeIndexFor(key);
      const exists = await Promise.all(direct.map((d) => d.script_exists(script.sha)));
      assert.deepEqual(exists.map((e) => e[0]), [0, 1, 2].map((i) => i === node));
      // In a pipeline, grouped with the key's other commands.
      await Promise.all(direct.map((d) => d.script_flush()));
      const pipe = ring.pipeline({ transaction: false });
      script([key], [1], pipe);
      pipe.get(key);
      assert.deepEqual(await pipe.exec(), [[4], '4']);
      const [a, b] = apart(ring, 'rs:cross');
      await assert.rejects(script([a, b], [1]), CrossNodeError);
    });

    it('RedisCopy runs a writing script on every node, each loading it as needed', async () => {
      const script = copy.register_script(`return redis.call('rpush', KEYS[1], ARGV[1])`);
      await direct[1]!.script_flush();
      assert.deepEqual(await script(['cs:list'], ['x']), [1, 1, 1]);
      assert.deepEqual(await script(['cs:list'], ['y']), [2, 2, 2]);
      assert.deepEqual(await copy.lrange('cs:list', 0, -1), ['x', 'y']);
    });

    it('RedisRing routes a blocking pop by its key; RedisCopy pops on every node', async () => {
      const key = 'bp:list';
      const waiting = ring.blpop(key, 5);
      const node = direct[ring.nodeIndexFor(key)]!;
      await eventually(async () => Number((await node.info('clients'))['blocked_clients']) === 1);
      await ring.rpush(key, 'job');
      // A pop is a write: the ring's shape is one result per node written.
      assert.deepEqual(await waiting, [['bp:list', 'job']]);
      await copy.rpush('bp:copy', 'a', 'b');
      assert.deepEqual(await copy.blpop('bp:copy', 1), [['bp:copy', 'a'], ['bp:copy', 'a'], ['bp:copy', 'a']]);
    });
  });
});
