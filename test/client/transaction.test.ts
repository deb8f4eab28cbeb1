/**
 * transaction(fn, ...keys) with redis-py's idiom: commands on `pipe` run at once, then
 * `pipe.multi()`, then commands on the same `pipe` are queued for EXEC. Misuse rejects the
 * transaction's own promise, and never as an unhandled rejection.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { RedisRing } from '../../src/backends/index.ts';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { useServers } from '../helpers/servers.ts';

describe('transaction(fn, ...keys): the reference idiom', () => {
  const servers = useServers(2);
  let client: ConstRedis;
  let ring: RedisRing;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };

  before(() => {
    client = new ConstRedis({ port: servers[0]!.port, socketTimeout: 2000 });
    ring = new RedisRing(servers.map((s) => s.address), { DB: 0, OPTIONS: { socket_timeout: 2 } });
  });
  after(async () => {
    await Promise.all([client.close(), ring.close()]);
  });
  beforeEach(() => {
    unhandled.length = 0;
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(async () => {
    // Unhandled rejections are reported after the microtasks of the turn that made them.
    await new Promise((r) => setImmediate(r));
    process.off('unhandledRejection', onUnhandled);
    assert.deepEqual(unhandled, []);
  });

  it('queues commands on the same pipe after multi(), as redis-py does', async () => {
    await client.set('tx:n', 10);
    const results = await client.transaction(async (pipe) => {
      const n = Number(await pipe.get('tx:n'));
      pipe.multi();
      pipe.set('tx:n', n * 2);
      pipe.incr('tx:count', { amount: 3 });
      pipe.get('tx:n');
    }, 'tx:n');
    assert.deepEqual(results, [true, 3, '20']);
    assert.equal(await client.get('tx:n'), '20');
    // The pipeline multi() returns keeps working, and so do chained calls on pipe.
    const more = await client.transaction(async (pipe) => {
      await pipe.get('tx:n');
      const block = pipe.multi();
      block.set('tx:a', 1);
      (pipe.set('tx:b', 2) as unknown as typeof block).get('tx:b');
    }, 'tx:n');
    assert.deepEqual(more, [true, true, '2']);
  });

  it('works the same on a RedisRing, on the node of the keys', async () => {
    await ring.set('{acct}:balance', 10);
    const results = await ring.transaction(async (pipe) => {
      const balance = Number(await pipe.get('{acct}:balance'));
      pipe.multi();
      pipe.set('{acct}:balance', balance - 1);
      pipe.incr('{acct}:ops');
    }, '{acct}:balance');
    assert.deepEqual(results, [true, 1]);
    assert.equal(await ring.get('{acct}:balance'), '9');
  });

  it('rejects the transaction itself on misuse, nothing run, nothing unhandled', async () => {
    await client.set('tx:m', 'before');
    // Bad arguments to a queued command that fn never awaits.
    await assert.rejects(
      client.transaction(async (pipe) => {
        await pipe.get('tx:m');
        pipe.multi();
        pipe.set('tx:m', 'queued');
        pipe.set('tx:m', undefined as never);
      }, 'tx:m'),
      (err: unknown) => err instanceof TypeError && /SET: argument 2 is undefined/.test(err.message),
    );
    assert.equal(await client.get('tx:m'), 'before');
    // watch() after multi(), not awaited.
    await assert.rejects(
      client.transaction(async (pipe) => {
        pipe.multi();
        pipe.set('tx:m', 'queued');
        void pipe.watch('tx:other');
      }, 'tx:m'),
      /watch\(\) after multi\(\): keys can only be watched before multi\(\)/,
    );
    // A bad immediate command that fn never awaits.
    await assert.rejects(
      client.transaction(async (pipe) => {
        void pipe.get(undefined as never);
        pipe.multi().set('tx:m', 'queued');
      }, 'tx:m'),
      /GET: argument 1 is undefined/,
    );
    // The same with a name resolved against the server first (OBJECT ENCODING).
    await assert.rejects(
      client.transaction(async (pipe) => {
        void pipe.objectEncoding(undefined as never);
        await pipe.get('tx:m');
        pipe.multi().set('tx:m', 'queued');
      }, 'tx:m'),
      /OBJECT ENCODING: argument/,
    );
    // multi() twice, from a function that is not async.
    await assert.rejects(
      client.transaction((pipe) => {
        pipe.multi();
        pipe.multi();
      }, 'tx:m'),
      /multi\(\) was already called/,
    );
    assert.equal(await client.get('tx:m'), 'before');
    // The pipe after its transaction: a rejection for whoever awaits it, never an unhandled one.
    let kept: { get(k: string): unknown } | null = null;
    await client.transaction(async (pipe) => {
      kept = pipe;
      await pipe.get('tx:m');
    }, 'tx:m');
    void kept!.get('tx:m');
    await assert.rejects(kept!.get('tx:m') as Promise<unknown>, /this transaction is already over/);
    assert.equal(await client.get('tx:m'), 'before');
  });
});
