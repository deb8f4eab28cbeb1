/**
 * RedisRing under faults: a killed node's keys fail fast with NodeDownError (or, with
 * auto_eject_hosts, move to the next node within server_retry_timeout), a stopped node never
 * keeps a caller longer than socket_timeout plus one retry, and a node that comes back is
 * used again after its PING.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { RedisRing } from '../../src/backends/index.ts';
import { ConfigError, ConnectionError, NodeDownError } from '../../src/errors.ts';
import { perTest } from '../helpers/clients.ts';
import { useServers } from '../helpers/servers.ts';
import { eventually } from '../helpers/wait.ts';

function keysOn(ring: RedisRing, node: number, count: number, prefix: string): string[] {
  const keys: string[] = [];
  for (let i = 0; keys.length < count; i++) if (ring.nodeIndexFor(`${prefix}${i}`) === node) keys.push(`${prefix}${i}`);
  return keys;
}

describe('RedisRing node health', () => {
  const servers = useServers(3);
  const ring = perTest(
    (options: Record<string, unknown>): RedisRing =>
      new RedisRing({ nodes: servers.map((s) => s.address), socket_connect_timeout: 1, ...options }),
  );
  afterEach(async () => {
    await Promise.all(servers.map((s) => (s.running ? undefined : s.start())));
  });

  it('checks the health options', () => {
    assert.throws(() => ring({ server_failure_limit: 0 }), ConfigError);
    assert.throws(() => ring({ server_retry_timeout: -5 }), /server_retry_timeout must be milliseconds/);
    assert.throws(() => ring({ auto_eject_hosts: 'yes' }), /auto_eject_hosts must be true or false/);
    assert.throws(() => ring({ server_failure_limit: 2, serverFailureLimit: 3 }), /not both/);
    assert.throws(() => ring({ write_quorum: 2 }), /RedisCopy options/);
    const r = ring({ serverFailureLimit: 3, serverRetryTimeout: 1500, autoEjectHosts: true });
    assert.deepEqual(r.health.options, { failureLimit: 3, retryTimeout: 1500, autoEject: true });
    assert.deepEqual(ring({}).health.options, { failureLimit: 2, retryTimeout: 2_000, autoEject: false });
    assert.throws(() => r.health.markDown(3), /node must be an index from 0 to 2, got 3/);
    assert.throws(() => r.health.markUp(-1), RangeError);
    assert.throws(() => r.health.markDown(0, -1), RangeError);
  });

  it('without auto_eject_hosts: a dead node\'s keys fail at once with NodeDownError, the others work, and it comes back', async () => {
    const r = ring({ server_failure_limit: 2, server_retry_timeout: 300 });
    const dead = keysOn(r, 1, 5, 'ne:');
    const alive = [...keysOn(r, 0, 5, 'ne0:'), ...keysOn(r, 2, 5, 'ne2:')];
    for (const k of [...dead, ...alive]) await r.set(k, k);
    const down = new Promise((resolve) => r.health.once('down', resolve));
    await servers[1]!.kill();
    // The first failures are the connection's own (refused); then the node is out.
    for (let i = 0; i < 2; i++) await assert.rejects(r.get(dead[0]!), ConnectionError);
    await down;
    const started = performance.now();
    for (const k of dead) {
      await assert.rejects(r.get(k), (err: unknown) => err instanceof NodeDownError && err.node === servers[1]!.address);
    }
    assert.ok(performance.now() - started < 100, 'NodeDownError must not wait for a timeout');
    for (const k of alive) assert.equal(await r.get(k), k);
    // A command for every node reports the dead one in its place.
    const pings = (await r.ping()) as unknown[];
    assert.equal(pings[0], true);
    assert.ok(pings[1] instanceof NodeDownError);
    assert.equal(pings[2], true);

    await servers[1]!.start();
    await eventually(() => r.health.state(1) === 'up');
    await r.set(dead[0]!, 'again');
    assert.equal(await r.get(dead[0]!), 'again');
  });

  it('with auto_eject_hosts: a dead node\'s keys move to the next node within server_retry_timeout, and go back', async () => {
    const retry = 400;
    const r = ring({ server_failure_limit: 2, server_retry_timeout: retry, auto_eject_hosts: true });
    const moved = keysOn(r, 2, 10, 'ae:');
    const stay = keysOn(r, 0, 10, 'ae0:');
    for (const k of stay) await r.set(k, k);
    const killedAt = performance.now();
    await servers[2]!.kill();
    // Callers keep writing; the first writes fail (the node is only known dead by failing).
    await eventually(async () => {
      try {
        await r.set(moved[0]!, 'moved');
        return true;
      } catch (err) {
        assert.ok(err instanceof ConnectionError, String(err));
        return false;
      }
    }, retry);
    const movedAfter = performance.now() - killedAt;
    assert.ok(movedAfter < retry, `traffic moved after ${movedAfter.toFixed(0)} ms`);
    for (const k of moved) await r.set(k, `${k}-moved`);
    for (const k of moved) assert.equal(await r.get(k), `${k}-moved`);
    for (const k of stay) assert.equal(await r.get(k), k); // keys of live nodes never moved

    await servers[2]!.start();
    await eventually(() => r.health.state(2) === 'up');
    // Back on their own node, which restarted empty (as with twemproxy, nothing is copied back).
    assert.equal(await r.get(moved[0]!), null);
    await r.set(moved[0]!, 'home');
    assert.equal(await r.get(moved[0]!), 'home');
  });

  for (const autoEject of [false, true]) {
    it(`SIGKILL under 64 callers, auto_eject_hosts ${autoEject}: ${autoEject ? 'failures stop within server_retry_timeout' : 'only the dead node\'s keys fail, fast'}`, async () => {
      const retry = 500;
      const r = ring({ server_failure_limit: 2, server_retry_timeout: retry, auto_eject_hosts: autoEject });
      const keys = Array.from({ length: 300 }, (_, i) => `load${autoEject ? 'e' : ''}:${i}`);
      const failures: Array<{ key: string; at: number; ms: number; name: string }> = [];
      let answered = 0;
      let stop = false;
      const caller = async (c: number): Promise<void> => {
        for (let n = 0; !stop; n++) {
          const key = keys[(c * 31 + n) % keys.length]!;
          const started = performance.now();
          try {
            await r.set(key, 'v');
            answered++;
          } catch (err) {
            failures.push({ key, at: started, ms: performance.now() - started, name: (err as Error).name });
          }
        }
      };
      const callers = Array.from({ length: 64 }, (_, c) => caller(c));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const killedAt = performance.now();
      await servers[1]!.kill();
      await new Promise((resolve) => setTimeout(resolve, retry + 300));
      stop = true;
      await Promise.all(callers);
      assert.ok(answered > 1000, `${answered} commands answered`);
      assert.ok(failures.length > 0, 'the dead node was noticed');
      const elsewhere = failures.filter((f) => r.nodeIndexFor(f.key) !== 1);
      assert.deepEqual(elsewhere.slice(0, 3), [], 'only keys of the dead node fail');
      if (autoEject) {
        const last = Math.max(...failures.map((f) => f.at)) - killedAt;
        assert.ok(last < retry, `failures went on for ${last.toFixed(0)} ms after the kill`);
      } else {
        const fast = failures.filter((f) => f.name === 'NodeDownError');
        assert.ok(fast.length > failures.length / 2, `${fast.length} of ${failures.length} failures were NodeDownError`);
        // No network wait at all; the margin is for a machine busy with other tests.
        const slowest = Math.max(...fast.map((f) => f.ms));
        assert.ok(slowest < 300, `a NodeDownError took ${slowest.toFixed(0)} ms`);
      }
    });
  }

  it('SIGSTOP under 64 callers: nobody waits longer than socket_timeout plus one retry', async () => {
    const timeout = 300;
    const r = ring({ socket_timeout: timeout / 1000, retry_on_timeout: true, server_failure_limit: 2, server_retry_timeout: 200 });
    const keys = Array.from({ length: 64 }, (_, i) => `stop:${i}`);
    for (const k of keys) await r.set(k, k);
    let longest = 0;
    let ok = 0;
    const failures = new Map<string, number>();
    let stop = false;
    const caller = async (i: number): Promise<void> => {
      for (let n = 0; !stop; n++) {
        const key = keys[(i + n) % keys.length]!;
        const started = performance.now();
        try {
          assert.equal(await r.get(key), key);
          ok++;
        } catch (err) {
          const name = (err as Error).name;
          failures.set(name, (failures.get(name) ?? 0) + 1);
        }
        longest = Math.max(longest, performance.now() - started);
      }
    };
    const callers = Array.from({ length: 64 }, (_, i) => caller(i));
    await new Promise((resolve) => setTimeout(resolve, 100));
    servers[0]!.pause();
    try {
      await new Promise((resolve) => setTimeout(resolve, 1200));
    } finally {
      servers[0]!.resume();
    }
    await eventually(() => r.health.state(0) === 'up', 3000);
    stop = true;
    await Promise.all(callers);
    const seen = JSON.stringify(Object.fromEntries(failures));
    // Two timeouts (the command and its one retry), plus room for a machine busy with other tests.
    assert.ok(longest < 2 * timeout + 600, `a caller waited ${longest.toFixed(0)} ms; failures ${seen}`);
    assert.ok((failures.get('TimeoutError') ?? 0) > 0, `the stopped node timed out; failures ${seen}`);
    assert.ok((failures.get('NodeDownError') ?? 0) > 0, `then it was taken out; failures ${seen}`);
    assert.deepEqual([...failures.keys()].sort(), ['NodeDownError', 'TimeoutError'], seen);
    assert.ok(ok > 100, `${ok} reads answered`);
  });
});
