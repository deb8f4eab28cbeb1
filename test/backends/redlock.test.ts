import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { Lock } from '../../src/client/lock.ts';
import { RedisCopy, RedisRing } from '../../src/backends/index.ts';
import { Redlock } from '../../src/backends/redlock.ts';
import { LockError } from '../../src/errors.ts';
import { HOUR_MS, stepClockBack } from '../helpers/clock.ts';
import { useClients } from '../helpers/clients.ts';
import { useServers } from '../helpers/servers.ts';

describe('locks on backends', () => {
  const servers = useServers(3);
  let direct: ConstRedis[];

  useClients(() => {
    direct = servers.map((s) => new ConstRedis(s.url));
    return direct;
  });

  it('RedisRing: the lock lives on the node of its name', async () => {
    const ring = new RedisRing(servers.map((s) => s.address), { DB: 0 });
    try {
      const lock = ring.lock('ring-lock', { timeout: 5 });
      assert.ok(lock instanceof Lock);
      assert.equal(await lock.acquire(), true);
      const where = await Promise.all(direct.map((d) => d.get('ring-lock')));
      assert.deepEqual(where.map((v) => v !== null), [0, 1, 2].map((i) => i === ring.nodeIndexFor('ring-lock')));
      assert.equal(where[ring.nodeIndexFor('ring-lock')], lock.token);
      const rival = ring.lock('ring-lock', { timeout: 5 });
      assert.equal(await rival.acquire({ blocking: false }), false);
      await assert.rejects(rival.release(), LockError);
      await lock.release();
    } finally {
      await ring.close();
    }
  });

  describe('RedisCopy: Redlock', () => {
    let copy: RedisCopy;
    useClients(() => {
      copy = new RedisCopy(servers.map((s) => s.address), { DB: 0, OPTIONS: { socket_timeout: 1, socket_connect_timeout: 1 } });
      return [copy];
    });

    it('takes the lock on every node with one token, and releases it everywhere', async () => {
      const lock = copy.lock('rl:a', { timeout: 10 });
      assert.ok(lock instanceof Redlock);
      assert.equal(await lock.acquire(), true);
      assert.deepEqual(await Promise.all(direct.map((d) => d.get('rl:a'))), [lock.token, lock.token, lock.token]);
      const validity = (lock as Redlock).validUntil - Date.now();
      assert.ok(validity > 9000 && validity < 10_000, `validity ${validity}`);
      assert.equal(await lock.owned(), true);
      await lock.release();
      assert.deepEqual(await Promise.all(direct.map((d) => d.get('rl:a'))), [null, null, null]);
    });

    it('validity is measured on the monotonic clock: a step of an hour back during acquire() changes nothing', async () => {
      const lock = copy.lock('rl:clock', { timeout: 2 }) as Redlock;
      // From the second reading on, the wall clock reads an hour earlier: a step in the middle
      // of the attempt, between its start and its end.
      const restore = stepClockBack(HOUR_MS, 1);
      try {
        assert.equal(await lock.acquire(), true);
      } finally {
        restore();
      }
      const validity = lock.validUntil - Date.now();
      const ttls = (await Promise.all(direct.map((d) => d.pttl('rl:clock')))) as number[];
      assert.ok(validity > 1000 && validity < 2000, `validity ${validity} ms`);
      // Read while the wall clock is an hour behind, what remains is the same.
      const back = stepClockBack(HOUR_MS);
      const remaining = lock.validUntil - Date.now();
      back();
      assert.ok(remaining > 1000 && remaining <= validity + 1, `remaining ${remaining} ms after the step`);
      for (const ttl of ttls) assert.ok(validity <= ttl + 50, `the lock believes ${validity} ms, a server's TTL is ${ttl} ms`);
      await lock.release();
    });

    it('two holders racing: only one wins, and the loser leaves nothing behind', async () => {
      for (let round = 0; round < 10; round++) {
        const a = copy.lock('rl:race', { timeout: 5 });
        const b = copy.lock('rl:race', { timeout: 5 });
        const won = await Promise.all([a.acquire({ blocking: false }), b.acquire({ blocking: false })]);
        assert.equal(won.filter(Boolean).length, 1, `round ${round}`);
        const winner = won[0] ? a : b;
        const stored = await Promise.all(direct.map((d) => d.get('rl:race')));
        assert.ok(stored.filter((t) => t === winner.token).length >= 2);
        await assert.rejects((won[0] ? b : a).release(), LockError);
        await winner.release();
      }
    });

    it('is held while a minority of nodes hold someone else\'s token', async () => {
      await direct[0]!.set('rl:minority', 'someone-else', { px: 5000 });
      const lock = copy.lock('rl:minority', { timeout: 5 });
      assert.equal(await lock.acquire({ blocking: false }), true);
      await lock.release();
      // With a majority taken by someone else, it is not, and it undoes its partial hold.
      await direct[1]!.set('rl:minority', 'someone-else', { px: 5000 });
      const again = copy.lock('rl:minority', { timeout: 5 });
      assert.equal(await again.acquire({ blocking: false }), false);
      assert.equal(await direct[2]!.get('rl:minority'), null);
    });

    it('extends on a majority only while owned', async () => {
      const lock = copy.lock('rl:ext', { timeout: 1 });
      await lock.acquire();
      assert.equal(await lock.extend(10), true);
      const ttls = await Promise.all(direct.map((d) => d.pttl('rl:ext')));
      assert.ok(ttls.every((t) => (t as number) > 10_000), `ttls ${ttls}`);
      await Promise.all(direct.slice(0, 2).map((d) => d.set('rl:ext', 'stolen')));
      await assert.rejects(lock.extend(1), LockError);
    });

    it('with one of three nodes killed it still acquires; with two killed it does not', async () => {
      const lock = copy.lock('rl:down', { timeout: 5 });
      await servers[2]!.kill();
      try {
        const started = Date.now();
        assert.equal(await lock.acquire({ blocking: false }), true);
        assert.ok(Date.now() - started < 1500, 'a dead node must not stall the attempt');
        assert.equal(await lock.owned(), true);
        await lock.release();
        await servers[1]!.kill();
        try {
          const lone = copy.lock('rl:down', { timeout: 5 });
          assert.equal(await lone.acquire({ blocking: false }), false);
          assert.equal(await lone.acquire({ blocking_timeout: 0.3 }), false);
          // Its one successful SET was undone.
          assert.equal(await direct[0]!.get('rl:down'), null);
        } finally {
          await servers[1]!.start();
        }
      } finally {
        await servers[2]!.start();
      }
    });
  });
});
