/**
 * Node health with the defaults (no socket_timeout, as in the reference): a hung server does
 * not hang a backend, and a refusal no retry can cure is reported as the server said it.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { RedisCopy, RedisRing } from '../../src/backends/index.ts';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { ConnectionError } from '../../src/errors.ts';
import { assertConverged } from '../helpers/converge.ts';
import { FaultProxy } from '../helpers/fault-proxy.ts';
import { useServers } from '../helpers/servers.ts';
import { eventually } from '../helpers/wait.ts';

describe('backends with default options', () => {
  const servers = useServers(2);
  const closers: Array<() => void> = [];
  beforeEach(async () => {
    for (const s of servers) if (!s.running) await s.start();
    const direct = servers.map((s) => new ConstRedis({ port: s.port }));
    await Promise.all(direct.map((d) => d.flushall()));
    for (const d of direct) d.disconnect();
  });
  afterEach(() => {
    for (const s of servers) {
      try {
        s.resume();
      } catch {
        // not running
      }
    }
    for (const close of closers.splice(0)) close();
  });

  it('RedisRing: a SIGSTOPped node fails its commands within seconds, and the other node serves on', { timeout: 30_000 }, async () => {
    const ring = new RedisRing(servers.map((s) => s.address));
    closers.push(() => ring.disconnect());
    const stuck = Array.from({ length: 100 }, (_, i) => `h:${i}`).find((k) => ring.nodeIndexFor(k) === 1)!;
    const fine = Array.from({ length: 100 }, (_, i) => `h:${i}`).find((k) => ring.nodeIndexFor(k) === 0)!;
    await ring.set(stuck, 'a');
    servers[1]!.pause();
    // server_failure_limit (2) failures, each within seconds, take the node out.
    for (let i = 0; i < 2; i++) {
      const started = performance.now();
      await assert.rejects(ring.get(stuck), ConnectionError);
      assert.ok(performance.now() - started < 5000, `failed after ${Math.round(performance.now() - started)} ms`);
      assert.deepEqual(await ring.set(fine, 'b'), [true]);
    }
    // Once out, its commands fail at once.
    await eventually(() => ring.health.state(1) === 'down', 10_000, 'node 1 down');
    const t = performance.now();
    await assert.rejects(ring.get(stuck), ConnectionError);
    assert.ok(performance.now() - t < 100);
    servers[1]!.resume();
    await eventually(async () => (await ring.get(stuck).catch(() => null)) === 'a', 10_000, 'node 1 back');
  });

  it('a hung server that takes the connection but not the handshake fails its commands within seconds', { timeout: 30_000 }, async () => {
    // RESP3's HELLO is a handshake every connection makes: the watchdog that PINGs busy nodes
    // must see it unanswered too, even without socket_timeout.
    const proxy = await FaultProxy.start({ host: '127.0.0.1', port: servers[0]!.port });
    closers.push(() => void proxy.close());
    proxy.set({ stall: true });
    const ring = new RedisRing({ nodes: [`127.0.0.1:${proxy.port}`], protocol: 3 });
    closers.push(() => ring.disconnect());
    const started = performance.now();
    await assert.rejects(ring.get('k'), (err: Error) => err instanceof ConnectionError && /handshake got no answer/.test(err.message));
    assert.ok(performance.now() - started < 5000, `failed after ${Math.round(performance.now() - started)} ms`);
  });

  it('a node out of service is still watched: what waits on its connection fails within seconds when it hangs', { timeout: 30_000 }, async () => {
    // A node being repaired is out of service, yet its repair (and the writes its gate lets
    // through) are on its connection: a hang there must not hold them for ever.
    const copy = new RedisCopy(servers.map((s) => s.address));
    closers.push(() => copy.disconnect());
    await copy.set('x', '1');
    copy.health.markDown(1, 60_000);
    servers[1]!.pause();
    const started = performance.now();
    await assert.rejects(copy.clients[1]!.connection.send(['GET', 'x']), ConnectionError);
    assert.ok(performance.now() - started < 5000, `failed after ${Math.round(performance.now() - started)} ms`);
  });

  it('RedisCopy: writes resolve within seconds when a node is SIGSTOPped, reads go on, and the node is repaired', { timeout: 30_000 }, async () => {
    const copy = new RedisCopy(servers.map((s) => s.address));
    closers.push(() => copy.disconnect());
    await copy.set('w', '0');
    servers[1]!.pause();
    const started = performance.now();
    const results = (await copy.set('w', '1')) as unknown[];
    assert.ok(performance.now() - started < 5000, `resolved after ${Math.round(performance.now() - started)} ms`);
    assert.equal(results[0], true);
    assert.ok(results[1] instanceof ConnectionError);
    for (let i = 2; i < 10; i++) await copy.set('w', String(i));
    assert.equal(await copy.get('w'), '9');
    servers[1]!.resume();
    await eventually(() => copy.health.allUp && copy.hints.count(1) === 0, 15_000, 'node 1 repaired');
    await assertConverged(servers.map((s) => s.address));
  });

  for (const kind of ['RedisRing', 'RedisCopy'] as const) {
    it(`${kind}: a bad DB index is the server's own error, at once, every time`, { timeout: 30_000 }, async () => {
      const Backend = kind === 'RedisRing' ? RedisRing : RedisCopy;
      const backend = new Backend(servers.map((s) => s.address), { DB: 99 });
      closers.push(() => backend.disconnect());
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        await assert.rejects(backend.get('k'), /DB index is out of range/);
        assert.ok(performance.now() - started < 1000);
      }
    });
  }
});

describe('RedisRing and a node that is loading its data', () => {
  const servers = useServers(1, ['--enable-debug-command', 'local']);

  it('asks it again until it has loaded, within the command\'s deadline', { timeout: 30_000 }, async () => {
    const ring = new RedisRing([servers[0]!.address]);
    const direct = new ConstRedis({ port: servers[0]!.port, socket_timeout: 30 });
    const probe = new ConstRedis({ port: servers[0]!.port, socket_timeout: 5 });
    try {
      await ring.set('loaded', 'yes');
      await Promise.all(Array.from({ length: 200 }, (_, i) => direct.set(`pad:${i}`, 'x'.repeat(2048))));
      await direct.call('CONFIG', 'SET', 'key-load-delay', '5000');
      await direct.call('CONFIG', 'SET', 'loading-process-events-interval-bytes', '1024');
      const reloading = direct.call('DEBUG', 'RELOAD');
      await eventually(async () => /LOADING/.test(String(await probe.call('GET', 'loaded').catch((e: Error) => e.message))), 5000, 'the node loading');
      assert.equal(await ring.get('loaded'), 'yes');
      await reloading;
    } finally {
      await direct.call('CONFIG', 'SET', 'key-load-delay', '0').catch(() => null);
      ring.disconnect();
      direct.disconnect();
      probe.disconnect();
    }
  });
});
