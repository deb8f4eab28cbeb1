/**
 * RedisCopy's promise, door by door and fault by fault: every way a write can come in
 * (method, call, execute_command, pipeline, MULTI, transaction, script, eval) under a
 * partition, an OOM node, a READONLY node, a quick restart without data, every node away, and
 * a connection cut during the repair. Each ends with every node identical, every acknowledged
 * write present once, and no rejected write applied.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { RedisCopy } from '../../src/backends/index.ts';
import { assertConverged } from '../helpers/converge.ts';
import { DOORS, Tally, outcomeOf } from '../helpers/copy-doors.ts';
import { useCopyFixture } from '../helpers/copy-fixture.ts';
import { eventually } from '../helpers/wait.ts';

describe('RedisCopy: every door under every fault', () => {
  // Two Copy nodes behind fault proxies, and a spare primary for the READONLY fault.
  const fx = useCopyFixture(3, 2);
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown): void => {
    unhandled.push(err);
  };
  before(() => {
    process.on('unhandledRejection', onUnhandled);
  });
  after(() => {
    process.off('unhandledRejection', onUnhandled);
  });
  afterEach(() => {
    assert.deepEqual(unhandled, [], 'no unhandled rejection');
  });

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
    await assertConverged(fx.servers.slice(0, 2).map((s) => s.address));
    for (const [name, tally] of tallies) {
      const value = Number((await fx.direct[0]!.get(`door:${name}`)) ?? 0);
      assert.ok(tally.allows(value), `door ${name}: counter ${value} after ${String(tally)}`);
      // Through the Copy, the same.
      assert.equal(Number((await copy.get(`door:${name}`)) ?? 0), value);
    }
  }

  it('a partition of one node: its writes are kept and repaired, whichever door', { timeout: 60_000 }, async () => {
    const copy = fx.copyOf();
    const tallies = new Map<string, Tally>();
    await knock(copy, 2, tallies);
    fx.proxies[1]!.set({ refuse: true });
    fx.proxies[1]!.dropAll();
    await knock(copy, 5, tallies);
    fx.proxies[1]!.set({});
    await settles(copy, tallies);
    for (const [name, tally] of tallies) assert.equal(tally.acknowledged, 7, `door ${name}: ${String(tally)}`);
  });

  it('an OOM node: the write it refused while the other applied it reaches it once memory is back', { timeout: 60_000 }, async () => {
    const copy = fx.copyOf();
    const tallies = new Map<string, Tally>();
    await knock(copy, 2, tallies);
    await fx.direct[1]!.call('CONFIG', 'SET', 'maxmemory', '1');
    await knock(copy, 3, tallies);
    // The refused node serves no reads meanwhile: the values come from the node that applied them.
    for (const [name, tally] of tallies) assert.equal(Number(await copy.get(`door:${name}`)), tally.acknowledged);
    await fx.direct[1]!.call('CONFIG', 'SET', 'maxmemory', '0');
    await settles(copy, tallies);
  });

  it('a READONLY node (it became a replica of another server): repaired whole once it is a primary again', { timeout: 60_000 }, async () => {
    const copy = fx.copyOf();
    const tallies = new Map<string, Tally>();
    await knock(copy, 2, tallies);
    await fx.direct[2]!.set('foreign', 'data of another primary');
    await fx.direct[2]!.call('CONFIG', 'SET', 'repl-diskless-sync-delay', '0');
    await fx.direct[1]!.call('REPLICAOF', fx.servers[2]!.host, fx.servers[2]!.port);
    await eventually(async () => String(await fx.direct[1]!.call('ROLE').then((r) => (r as unknown[])[3])) === 'connected', 5000, 'replica in sync');
    await knock(copy, 3, tallies);
    await fx.direct[1]!.call('REPLICAOF', 'NO', 'ONE');
    await settles(copy, tallies);
    assert.equal(await fx.direct[1]!.get('foreign'), null, 'the other primary\'s data was replaced by the Copy\'s');
  });

  it('a quick restart without data: no read is served by the empty node, and it is copied whole', { timeout: 60_000 }, async () => {
    const copy = fx.copyOf();
    const tallies = new Map<string, Tally>();
    await knock(copy, 2, tallies);
    const keys = Array.from({ length: 40 }, (_, i) => `r:${i}`);
    for (const k of keys) await copy.set(k, k);
    await fx.servers[1]!.restart();
    // Straight after the restart, before anything checked the node.
    const reads = await Promise.all(keys.map((k) => copy.get(k)));
    assert.deepEqual(reads, keys);
    await knock(copy, 3, tallies);
    await settles(copy, tallies);
  });

  it('every node away at once (SIGSTOP under load): it recovers by itself and the copies agree', { timeout: 60_000 }, async () => {
    const copy = fx.copyOf({ hint_limit: 3 });
    const tallies = new Map<string, Tally>();
    await knock(copy, 2, tallies);
    fx.servers[0]!.pause();
    fx.servers[1]!.pause();
    const during = knock(copy, 3, tallies);
    await new Promise((r) => setTimeout(r, 1200)); // the fault's duration, not a synchronisation
    fx.servers[0]!.resume();
    fx.servers[1]!.resume();
    await during;
    await knock(copy, 2, tallies);
    await settles(copy, tallies, 15_000);
  });

  it('a connection cut during the repair: no unhandled rejection, and the repair completes later', { timeout: 60_000 }, async () => {
    const copy = fx.copyOf();
    const tallies = new Map<string, Tally>();
    await knock(copy, 2, tallies);
    fx.proxies[1]!.set({ refuse: true });
    fx.proxies[1]!.dropAll();
    await knock(copy, 4, tallies);
    const failed = new Promise((resolve) => copy.health.once('repair-failed', resolve));
    // Past the handshake's reply (HELLO's is some 130 bytes in RESP3) and the health PING's,
    // into the repair's replies.
    fx.proxies[1]!.set({ cutAfterBytes: 300 });
    await failed;
    fx.proxies[1]!.set({});
    await settles(copy, tallies);
  });
});
