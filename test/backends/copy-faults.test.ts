/**
 * RedisCopy's promise, door by door and fault by fault: every way a write can come in
 * (method, call, execute_command, pipeline, MULTI, transaction, script, eval) under a
 * partition, an OOM node, a READONLY node, a quick restart without data, every node away, and
 * a connection cut during the repair. Each ends with every node identical, every acknowledged
 * write present once, and no rejected write applied.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { RedisCopy } from '../../src/backends/index.js';
import { ConstRedis } from '../../src/client/const-redis.js';
import { assertConverged } from '../helpers/converge.js';
import { DOORS, Tally, outcomeOf } from '../helpers/copy-doors.js';
import { FaultProxy } from '../helpers/fault-proxy.js';
import { useServers } from '../helpers/servers.js';
import { eventually } from '../helpers/wait.js';

describe('RedisCopy: every door under every fault', () => {
  // Two Copy nodes behind fault proxies, and a spare primary for the READONLY fault.
  const servers = useServers(3);
  let proxies: FaultProxy[] = [];
  let direct: ConstRedis[] = [];
  const copies: RedisCopy[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown): void => {
    unhandled.push(err);
  };

  before(async () => {
    process.on('unhandledRejection', onUnhandled);
  });
  after(() => {
    process.off('unhandledRejection', onUnhandled);
  });
  beforeEach(async () => {
    await Promise.all(servers.map((s) => (s.running ? undefined : s.start())));
    proxies = await Promise.all(servers.slice(0, 2).map((s) => FaultProxy.start({ host: s.host, port: s.port })));
    direct = servers.map((s) => new ConstRedis({ port: s.port, socket_timeout: 5 }));
    await Promise.all(direct.map(async (d) => {
      await d.call('REPLICAOF', 'NO', 'ONE');
      await d.call('CONFIG', 'SET', 'maxmemory', '0');
      await d.flushall();
    }));
  });
  afterEach(async () => {
    for (const c of copies.splice(0)) c.disconnect();
    for (const d of direct) d.disconnect();
    await Promise.all(proxies.map((p) => p.close()));
    assert.deepEqual(unhandled, [], 'no unhandled rejection');
  });

  const copyOf = (options: Record<string, unknown> = {}): RedisCopy => {
    const copy = new RedisCopy({
      nodes: proxies.map((p) => `127.0.0.1:${p.port}`), socket_timeout: 0.5, socket_connect_timeout: 0.5,
      server_retry_timeout: 50, ...options,
    });
    copies.push(copy);
    return copy;
  };

  /** Runs every door `times` times, one key per door; returns each door's tally. */
  async function knock(copy: RedisCopy, times: number, tallies: Map<string, Tally>): Promise<void> {
    await Promise.all(Object.entries(DOORS).map(async ([name, door]) => {
      let tally = tallies.get(name);
      if (tally === undefined) tallies.set(name, (tally = new Tally()));
      for (let i = 0; i < times; i++) {
        const [settled] = await Promise.allSettled([door(copy, `door:${name}`)]);
        tally.add(outcomeOf(settled!));
      }
    }));
  }

  /** Waits until every node serves again, then checks convergence and every counter. */
  async function settles(copy: RedisCopy, tallies: Map<string, Tally>, ms = 10_000): Promise<void> {
    await eventually(() => copy.health.allUp && copy.hints.count(0) === 0 && copy.hints.count(1) === 0, ms, 'every node repaired');
    await assertConverged(servers.slice(0, 2).map((s) => s.address));
    for (const [name, tally] of tallies) {
      const value = Number((await direct[0]!.get(`door:${name}`)) ?? 0);
      assert.ok(tally.allows(value), `door ${name}: counter ${value} after ${String(tally)}`);
      // Through the Copy, the same.
      assert.equal(Number((await copy.get(`door:${name}`)) ?? 0), value);
    }
  }

  it('a partition of one node: its writes are kept and repaired, whichever door', { timeout: 60_000 }, async () => {
    const copy = copyOf();
    const tallies = new Map<string, Tally>();
    await knock(copy, 2, tallies);
    proxies[1]!.set({ refuse: true });
    proxies[1]!.dropAll();
    await knock(copy, 5, tallies);
    proxies[1]!.set({});
    await settles(copy, tallies);
    for (const [name, tally] of tallies) assert.equal(tally.acknowledged, 7, `door ${name}: ${String(tally)}`);
  });

  it('an OOM node: the write it refused while the other applied it reaches it once memory is back', { timeout: 60_000 }, async () => {
    const copy = copyOf();
    const tallies = new Map<string, Tally>();
    await knock(copy, 2, tallies);
    await direct[1]!.call('CONFIG', 'SET', 'maxmemory', '1');
    await knock(copy, 3, tallies);
    // The refused node serves no reads meanwhile: the values come from the node that applied them.
    for (const [name, tally] of tallies) assert.equal(Number(await copy.get(`door:${name}`)), tally.acknowledged);
    await direct[1]!.call('CONFIG', 'SET', 'maxmemory', '0');
    await settles(copy, tallies);
  });

  it('a READONLY node (it became a replica of another server): repaired whole once it is a primary again', { timeout: 60_000 }, async () => {
    const copy = copyOf();
    const tallies = new Map<string, Tally>();
    await knock(copy, 2, tallies);
    await direct[2]!.set('foreign', 'data of another primary');
    await direct[2]!.call('CONFIG', 'SET', 'repl-diskless-sync-delay', '0');
    await direct[1]!.call('REPLICAOF', servers[2]!.host, servers[2]!.port);
    await eventually(async () => String(await direct[1]!.call('ROLE').then((r) => (r as unknown[])[3])) === 'connected', 5000, 'replica in sync');
    await knock(copy, 3, tallies);
    await direct[1]!.call('REPLICAOF', 'NO', 'ONE');
    await settles(copy, tallies);
    assert.equal(await direct[1]!.get('foreign'), null, 'the other primary\'s data was replaced by the Copy\'s');
  });

  it('a quick restart without data: no read is served by the empty node, and it is copied whole', { timeout: 60_000 }, async () => {
    const copy = copyOf();
    const tallies = new Map<string, Tally>();
    await knock(copy, 2, tallies);
    const keys = Array.from({ length: 40 }, (_, i) => `r:${i}`);
    for (const k of keys) await copy.set(k, k);
    await servers[1]!.restart();
    // Straight after the restart, before anything checked the node.
    const reads = await Promise.all(keys.map((k) => copy.get(k)));
    assert.deepEqual(reads, keys);
    await knock(copy, 3, tallies);
    await settles(copy, tallies);
  });

  it('every node away at once (SIGSTOP under load): it recovers by itself and the copies agree', { timeout: 60_000 }, async () => {
    const copy = copyOf({ hint_limit: 3 });
    const tallies = new Map<string, Tally>();
    await knock(copy, 2, tallies);
    servers[0]!.pause();
    servers[1]!.pause();
    const during = knock(copy, 3, tallies);
    await new Promise((r) => setTimeout(r, 1200)); // the fault's duration, not a synchronisation
    servers[0]!.resume();
    servers[1]!.resume();
    await during;
    await knock(copy, 2, tallies);
    await settles(copy, tallies, 15_000);
  });

  it('a connection cut during the repair: no unhandled rejection, and the repair completes later', { timeout: 60_000 }, async () => {
    const copy = copyOf();
    const tallies = new Map<string, Tally>();
    await knock(copy, 2, tallies);
    proxies[1]!.set({ refuse: true });
    proxies[1]!.dropAll();
    await knock(copy, 4, tallies);
    const failed = new Promise((resolve) => copy.health.once('repair-failed', resolve));
    proxies[1]!.set({ cutAfterBytes: 30 });
    await failed;
    proxies[1]!.set({});
    await settles(copy, tallies);
  });
});
