/**
 * RedisCopy, one test per way its promise was broken before the write path became one:
 * scripts and transaction(fn) under a partition, pipelines around a node that is down, writes
 * every node refused, a read while a node is LOADING, and SPOP.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RedisCopy } from '../../src/backends/index.ts';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { assertConverged } from '../helpers/converge.ts';
import { DOORS } from '../helpers/copy-doors.ts';
import { useCopyFixture } from '../helpers/copy-fixture.ts';
import { eventually } from '../helpers/wait.ts';

describe('RedisCopy findings', () => {
  const fx = useCopyFixture(2, 2, ['--enable-debug-command', 'local']);
  const addresses = (): string[] => fx.servers.map((s) => s.address);
  const repaired = (copy: RedisCopy): Promise<void> =>
    eventually(() => copy.health.allUp && copy.hints.count(0) === 0 && copy.hints.count(1) === 0, 10_000, 'every node repaired');

  for (const door of ['script', 'transaction'] as const) {
    it(`writes through ${door} while a node is cut off are kept for it and repaired`, { timeout: 60_000 }, async () => {
      const copy = fx.copyOf();
      await DOORS[door]!(copy, 'n');
      fx.proxies[1]!.set({ refuse: true });
      fx.proxies[1]!.dropAll();
      for (let i = 0; i < 5; i++) await DOORS[door]!(copy, 'n');
      fx.proxies[1]!.set({});
      await repaired(copy);
      assert.deepEqual(await Promise.all(fx.direct.map((d) => d.get('n'))), ['6', '6']);
      await assertConverged(addresses());
    });
  }

  it('a pipeline while a node is down neither writes to it nor reads from it; its older hint does not win', { timeout: 60_000 }, async () => {
    const copy = fx.copyOf({ server_retry_timeout: 400 });
    const key = Array.from({ length: 100 }, (_, i) => `p:${i}`).find((k) => copy.nodeIndexFor(k) === 1)!;
    await copy.set(key, 'v1');
    copy.health.markDown(1);
    await copy.set(key, 'v2'); // a hint for node 1
    const written = await copy.pipeline({ transaction: false }).set(key, 'v3').exec();
    assert.equal((written[0] as unknown[])[0], true);
    assert.ok((written[0] as unknown[])[1] instanceof Error, 'node 1 did not take it directly');
    assert.equal(await fx.direct[1]!.get(key), 'v1');
    // Node 1 holds a stale value meanwhile: a pipeline's read must not see it.
    const read = await copy.pipeline({ transaction: false }).get(key).exec();
    assert.deepEqual(read, ['v3']);
    await repaired(copy);
    assert.deepEqual(await Promise.all(fx.direct.map((d) => d.get(key))), ['v3', 'v3']);
    assert.equal(await copy.get(key), 'v3');
    await assertConverged(addresses());
  });

  it('a write every node refused is rejected and never applied later, even where it was kept for a node that was away', { timeout: 60_000 }, async () => {
    const copy = fx.copyOf({ server_retry_timeout: 300 });
    await copy.set('warm', '1');
    fx.proxies[1]!.set({ refuse: true });
    fx.proxies[1]!.dropAll();
    await eventually(() => copy.health.state(1) !== 'up', 5000, 'node 1 down');
    await fx.direct[0]!.call('CONFIG', 'SET', 'maxmemory', '1');
    for (let i = 0; i < 5; i++) {
      const err = await copy.incr('counter').then(() => null, (e: unknown) => e as { outcome?: string; name: string });
      assert.equal(err?.name, 'NodesFailedError');
      assert.equal(err?.outcome, 'rejected');
    }
    await fx.direct[0]!.call('CONFIG', 'SET', 'maxmemory', '0');
    fx.proxies[1]!.set({});
    await repaired(copy);
    assert.deepEqual(await Promise.all(fx.direct.map((d) => d.get('counter'))), [null, null]);
    await assertConverged(addresses());
  });

  it('a read that meets LOADING is answered by the other node', { timeout: 60_000 }, async () => {
    const copy = fx.copyOf({ socket_timeout: 10 });
    const keys = Array.from({ length: 200 }, (_, i) => `l:${i}`);
    const onOne = keys.filter((k) => copy.nodeIndexFor(k) === 1);
    await Promise.all(keys.map((k) => copy.set(k, k)));
    await Promise.all(keys.map((k, i) => fx.direct[1]!.set(`pad:${i}`, 'x'.repeat(2048))));
    // Node 1 reloads its data slowly, answering other clients meanwhile: with LOADING.
    await fx.direct[1]!.call('CONFIG', 'SET', 'key-load-delay', '5000');
    await fx.direct[1]!.call('CONFIG', 'SET', 'loading-process-events-interval-bytes', '1024');
    const reload = new ConstRedis({ port: fx.servers[1]!.port, socket_timeout: 30 });
    const reloading = reload.call('DEBUG', 'RELOAD');
    const probe = new ConstRedis({ port: fx.servers[1]!.port, socket_timeout: 5 });
    await eventually(async () => (await probe.call('PING').catch((e: Error) => e.message)) !== 'PONG', 5000, 'node 1 loading');
    const reads = await Promise.all(onOne.map((k) => copy.get(k)));
    assert.deepEqual(reads, onOne);
    await fx.direct[1]!.call('CONFIG', 'SET', 'key-load-delay', '0').catch(() => null);
    await reloading.catch(() => null);
    probe.disconnect();
    reload.disconnect();
  });

  it('SPOP pops on one node and the same members leave every node', { timeout: 60_000 }, async () => {
    const copy = fx.copyOf();
    const members = Array.from({ length: 50 }, (_, i) => `m${i}`);
    await copy.sadd('s', ...members);
    const popped: string[] = [];
    for (let i = 0; i < 10; i++) {
      const r = (await copy.spop('s')) as unknown[];
      assert.equal(r.length, 2);
      assert.equal(r[0], r[1], 'one member, the same for every node');
      popped.push(String(r[0]));
    }
    const left = await Promise.all(fx.direct.map(async (d) => ((await d.smembers('s')) as string[]).sort()));
    assert.deepEqual(left[0], left[1]);
    assert.equal(left[0]!.length, 40);
    for (const m of popped) assert.ok(!left[0]!.includes(m));
    await assertConverged(addresses());
  });
});
