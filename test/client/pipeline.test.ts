import { Buffer } from 'node:buffer';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { ReplyError, WatchError } from '../../src/errors.ts';
import { useClients } from '../helpers/clients.ts';
import { useServers } from '../helpers/servers.ts';

describe('pipelines and transactions on one node', () => {
  const servers = useServers(1);
  let client: ConstRedis;
  let other: ConstRedis;

  useClients(() => {
    client = new ConstRedis({ port: servers[0]!.port, socketTimeout: 2000 });
    other = new ConstRedis({ port: servers[0]!.port, socketTimeout: 2000 });
    return [client, other];
  });

  describe('pipeline', () => {
    it('is chainable and resolves every reply in order, with the reference shapes', async () => {
      await client.del('p:a', 'p:h', 'p:z');
      const results = await client
        .pipeline({ transaction: false })
        .set('p:a', 1)
        .get('p:a')
        .incr('p:a', 5)
        .hset('p:h', { f: 'v', g: 'w' })
        .hgetall('p:h')
        .zadd('p:z', { one: 1, two: 2 })
        .zrange('p:z', 0, -1, { withscores: true })
        .exists('p:a')
        .exec();
      assert.deepEqual(results, [true, '1', 6, 2, { f: 'v', g: 'w' }, 2, [['one', 1], ['two', 2]], true]);
    });

    it('runs any command, multi-word names included', async () => {
      const [name, echo] = await client.pipeline().client_getname().echo('hi').exec();
      assert.equal(name, null);
      assert.equal(echo, 'hi');
      // Raw commands chain like the others.
      const raw = await client.pipeline({ transaction: false }).call('ECHO', 'x').execute_command('ECHO', 'y').echo('z').exec();
      assert.deepEqual(raw, ['x', 'y', 'z']);
    });

    it('gives a failing command its ReplyError and keeps the others (raiseOnError: false)', async () => {
      await client.set('p:str', 'x');
      const pipe = client.pipeline({ transaction: false }).set('p:k', 'v').lpush('p:str', 'y').get('p:k');
      const results = await pipe.exec({ raiseOnError: false });
      assert.equal(results[0], true);
      assert.ok(results[1] instanceof ReplyError);
      assert.equal((results[1] as ReplyError).code, 'WRONGTYPE');
      assert.equal(results[2], 'v');
      // snake_case alias
      const again = await client.pipeline().lpush('p:str', 'y').echo('ok').exec({ raise_on_error: false });
      assert.ok(again[0] instanceof ReplyError);
      assert.equal(again[1], 'ok');
    });

    it('by default rejects with the first error, after every command ran', async () => {
      await client.set('p:str', 'x');
      await client.del('p:after');
      await assert.rejects(
        client.pipeline({ transaction: false }).lpush('p:str', 'y').set('p:after', 1).exec(),
        (err: unknown) => err instanceof ReplyError && err.code === 'WRONGTYPE',
      );
      assert.equal(await client.get('p:after'), '1');
    });

    it('with transaction (the default) wraps the commands in MULTI/EXEC', async () => {
      await client.del('p:t');
      const multiCalls = async (): Promise<number> => {
      const stats = (await client.info('commandstats'))['cmdstat_multi'] as Record<string, number> | undefined;
      return stats?.['calls'] ?? 0;
    };
    const before = await multiCalls();
      const results = await client.pipeline().incr('p:t').incr('p:t').get('p:t').exec();
      assert.deepEqual(results, [1, 2, '2']);
      const stats = (await client.info('commandstats'))['cmdstat_multi'] as Record<string, number>;
      assert.equal(stats['calls'], before + 1);
    });

    it('runs a transaction atomically: no other command lands between its commands', async () => {
      await client.del('p:list');
      const writes: Array<Promise<unknown>> = [];
      for (let i = 0; i < 50; i++) writes.push(other.rpush('p:list', 'o'));
      const pipe = client.pipeline();
      for (let i = 0; i < 50; i++) pipe.rpush('p:list', 't');
      const [result] = await Promise.all([pipe.exec(), ...writes]);
      assert.equal((result as unknown[]).length, 50);
      const items = (await client.lrange('p:list', 0, -1)) as string[];
      const first = items.indexOf('t');
      assert.deepEqual(items.slice(first, first + 50), Array(50).fill('t'));
    });

    it('refuses a transaction when a command is refused while queuing: nothing runs', async () => {
      await client.del('p:nothing');
      await assert.rejects(
        client.pipeline().set('p:nothing', 1).call('NO-SUCH-COMMAND', 'x').exec(),
        (err: unknown) => err instanceof ReplyError && /command #2/.test(err.message) && /unknown command/i.test(err.message),
      );
      assert.equal(await client.get('p:nothing'), null);
    });

    it('returns runtime errors inside a transaction in their slots', async () => {
      await client.set('p:str', 'x');
      const results = await client.pipeline().lpush('p:str', 1).echo('after').exec({ raiseOnError: false });
      assert.ok(results[0] instanceof ReplyError);
      assert.equal(results[1], 'after');
    });

    it('keeps Buffer replies where asked and strings elsewhere, inside a transaction', async () => {
      await client.set('p:buf', 'abc');
      const [buf, str, dump] = await client.pipeline().getBuffer('p:buf').get('p:buf').dump('p:buf').exec();
      assert.ok(Buffer.isBuffer(buf));
      assert.equal(str, 'abc');
      assert.ok(Buffer.isBuffer(dump));
    });

    it('refuses WATCH and MULTI inside a transactional pipeline, and bad arguments at once', () => {
      const pipe = client.pipeline();
      assert.throws(() => pipe.watch('x'), TypeError);
      assert.throws(() => pipe.multi(), TypeError);
      assert.throws(() => pipe.set('k', 'v', { nope: true } as never), TypeError);
      // Checked when queued: sent, the other commands of MULTI/EXEC would commit without it.
      assert.throws(() => pipe.set('k', undefined as never), /SET: argument 2 is undefined/);
      assert.throws(() => client.pipeline({ transactoin: true } as never), TypeError);
      assert.equal(pipe.length, 0);
    });

    it('is empty after exec and can be reused; an empty pipeline sends nothing', async () => {
      const pipe = client.pipeline({ transaction: false });
      assert.deepEqual(await pipe.exec(), []);
      pipe.echo('a');
      assert.deepEqual(await pipe.exec(), ['a']);
      assert.equal(pipe.length, 0);
      pipe.echo('b');
      assert.deepEqual(await pipe.execute(), ['b']);
    });

    it('sends 10,000 commands in one batch', async () => {
      const pipe = client.pipeline({ transaction: false });
      for (let i = 0; i < 10_000; i++) pipe.set(`p:many:${i}`, i);
      const results = await pipe.exec();
      assert.equal(results.length, 10_000);
      assert.ok(results.every((r) => r === true));
      assert.equal(await client.get('p:many:9999'), '9999');
    });
  });

  describe('transaction', () => {
    it('runs reads at once and writes at EXEC, returning the EXEC replies', async () => {
      await client.set('t:n', 10);
      const results = await client.transaction(async (pipe) => {
        const n = Number(await pipe.get('t:n'));
        pipe.multi().set('t:n', n * 2).get('t:n');
      }, 't:n');
      assert.deepEqual(results, [true, '20']);
    });

    it('returns what fn returned with valueFromCallable', async () => {
      await client.set('t:v', 'a');
      const value = await client.transaction(async (pipe) => {
        const v = await pipe.get('t:v');
        pipe.multi().append('t:v', 'b');
        return `was ${String(v)}`;
      }, 't:v', { value_from_callable: true });
      assert.equal(value, 'was a');
      assert.equal(await client.get('t:v'), 'ab');
    });

    it('retries after a WATCH conflict caused by a second client, and then succeeds', async () => {
      await client.set('t:c', 0);
      let attempts = 0;
      const results = await client.transaction(async (pipe) => {
        attempts++;
        const n = Number(await pipe.get('t:c'));
        // The first time, a second client changes the watched key between the read and EXEC.
        if (attempts === 1) await other.set('t:c', 100);
        pipe.multi().set('t:c', n + 1);
        return n;
      }, 't:c', { valueFromCallable: true });
      assert.equal(attempts, 2);
      assert.equal(results, 100);
      assert.equal(await client.get('t:c'), '101');
    });

    it('gives up with a WatchError after maxRetries', async () => {
      await client.set('t:w', 0);
      let attempts = 0;
      await assert.rejects(
        client.transaction(async (pipe) => {
          attempts++;
          await pipe.get('t:w');
          await other.incr('t:w');
          pipe.multi().set('t:w', -1);
        }, 't:w', { maxRetries: 2 }),
        WatchError,
      );
      assert.equal(attempts, 3);
      assert.equal(await client.get('t:w'), '3');
    });

    it('keeps WATCH state off the shared connection: other callers do not see it', async () => {
      await client.set('t:iso', 'a');
      await client.transaction(async (pipe) => {
        await pipe.get('t:iso');
        // A write on the client's shared connection, from this very process.
        await client.set('t:iso', 'changed-by-another-caller');
        pipe.multi().set('t:iso', 'tx');
      }, 't:iso', { maxRetries: 0 }).then(
        () => assert.fail('the watched key changed: EXEC must abort'),
        (err: unknown) => assert.ok(err instanceof WatchError),
      );
      // And a plain command on the shared connection is never in a WATCH/MULTI state.
      assert.equal(await client.set('t:iso', 'plain'), true);
    });

    it('commits many concurrent increments exactly (optimistic locking works)', async () => {
      await client.set('t:count', 0);
      const runs = Array.from({ length: 20 }, () =>
        client.transaction(async (pipe) => {
          const n = Number(await pipe.get('t:count'));
          pipe.multi().set('t:count', n + 1);
        }, 't:count', { maxRetries: 100 }),
      );
      await Promise.all(runs);
      assert.equal(await client.get('t:count'), '20');
    });

    it('rejects fn errors, watch() after multi(), and bad options', async () => {
      await assert.rejects(client.transaction(() => { throw new Error('boom'); }, 't:x'), /boom/);
      await assert.rejects(
        client.transaction(async (pipe) => {
          pipe.multi();
          await pipe.watch('t:x');
        }, 't:x'),
        TypeError,
      );
      await assert.rejects(client.transaction(async () => {}, 't:x', { maxRetries: -1 }), RangeError);
      await assert.rejects(client.transaction(async () => {}, 't:x', { retries: 1 } as never), TypeError);
      await assert.rejects(client.transaction('nope' as never), TypeError);
    });

    it('returns [] when fn queues nothing', async () => {
      assert.deepEqual(await client.transaction(async (pipe) => { await pipe.get('t:x'); }, 't:x'), []);
    });
  });
});
