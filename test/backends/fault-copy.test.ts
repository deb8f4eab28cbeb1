/**
 * RedisCopy under faults: a node killed under load loses no acknowledged write and fails no
 * read; a node that comes back is repaired (hints replayed in order, or every key copied
 * with its TTL) before it serves reads; write_quorum is enforced with every node's outcome.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { RedisCopy } from '../../src/backends/index.ts';
import { WriteQuorumError } from '../../src/backends/replicate.ts';
import type { ResyncProgress } from '../../src/backends/resync.ts';
import { ConfigError, NodeDownError } from '../../src/errors.ts';
import { FaultProxy } from '../helpers/fault-proxy.ts';
import { useServers } from '../helpers/servers.ts';
import { eventually } from '../helpers/wait.ts';

describe('RedisCopy repair and quorum', () => {
  const servers = useServers(3);
  const copies: RedisCopy[] = [];
  let direct: ConstRedis[] = [];
  const copyOf = (options: Record<string, unknown> = {}): RedisCopy => {
    const c = new RedisCopy({ nodes: servers.map((s) => s.address), socket_timeout: 1, socket_connect_timeout: 1, ...options });
    copies.push(c);
    return c;
  };
  beforeEach(async () => {
    await Promise.all(servers.map((s) => (s.running ? undefined : s.start())));
    direct = servers.map((s) => new ConstRedis({ port: s.port }));
    await Promise.all(direct.map((d) => d.flushdb()));
  });
  afterEach(() => {
    for (const c of copies.splice(0)) c.disconnect();
    for (const d of direct) d.disconnect();
  });

  it('checks write_quorum and the hint limits', () => {
    assert.throws(() => copyOf({ write_quorum: 4 }), /write_quorum must be 'all', 'majority' or an integer from 1 to 3/);
    assert.throws(() => copyOf({ write_quorum: 'most' }), ConfigError);
    assert.throws(() => copyOf({ hint_limit: -1 }), /hint_limit must be a non-negative integer/);
    assert.equal(copyOf({ write_quorum: 'majority' }).writeQuorum, 2);
    assert.equal(copyOf({ writeQuorum: 'all' }).writeQuorum, 3);
    assert.equal(copyOf().writeQuorum, 1);
  });

  it('SIGKILL of one of three under 64 callers: every acknowledged write is readable, no read fails, the node is resynced', async () => {
    const copy = copyOf({ server_failure_limit: 2, server_retry_timeout: 150 });
    const victim = 1;
    const acknowledged = new Map<string, string>();
    const readErrors: string[] = [];
    const wrongReads: string[] = [];
    let writeErrors = 0;
    let stop = false;
    const caller = async (c: number): Promise<void> => {
      for (let n = 0; !stop; n++) {
        const key = `load:${c}:${n % 40}`;
        const value = `${c}:${n}`;
        try {
          await copy.set(key, value, { ex: 600 });
          acknowledged.set(key, value);
        } catch {
          writeErrors++;
        }
        // Read back one of this caller's own keys: only this caller writes them.
        const back = `load:${c}:${(n * 7) % 40}`;
        const expected = acknowledged.get(back);
        if (expected === undefined) continue;
        try {
          const got = await copy.get(back);
          if (got !== expected) wrongReads.push(`${back}: ${String(got)} instead of ${expected}`);
        } catch (err) {
          readErrors.push(`${(err as Error).name}: ${(err as Error).message}`);
        }
      }
    };
    const callers = Array.from({ length: 64 }, (_, c) => caller(c));
    const phase = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
    await phase(200);
    await servers[victim]!.kill();
    await eventually(() => copy.health.state(victim) === 'down');
    await phase(300); // writes go on with the node away
    const back = new Promise((resolve) => copy.health.once('up', resolve));
    await servers[victim]!.start(); // empty: nothing was persisted
    await back;
    await phase(200); // and with it back
    stop = true;
    await Promise.all(callers);

    assert.deepEqual(readErrors.slice(0, 5), [], `${readErrors.length} reads failed`);
    assert.deepEqual(wrongReads.slice(0, 5), []);
    assert.equal(writeErrors, 0);
    assert.ok(acknowledged.size > 500, `only ${acknowledged.size} keys written`);
    // Every node, the restarted one included, holds every acknowledged value, with its TTL.
    const keys = [...acknowledged.keys()];
    for (const [i, node] of direct.entries()) {
      const values = (await node.mget(keys)) as Array<string | null>;
      const missing = keys.filter((k, j) => values[j] !== acknowledged.get(k));
      assert.deepEqual(missing.slice(0, 5), [], `node ${i}: ${missing.length} of ${keys.length} keys wrong`);
    }
    const ttl = await direct[victim]!.ttl(keys[0]!);
    assert.ok(ttl > 500 && ttl <= 600, `ttl ${ttl}`);
  });

  it('hinted handoff: writes missed while a node is out are replayed in order before it serves reads', async () => {
    // Long enough for the 151 writes and the checks below to finish, on a loaded machine,
    // before the node is let back in.
    const copy = copyOf({ server_retry_timeout: 1000 });
    await copy.set('hint:before', 'x');
    const out = 2;
    copy.health.markDown(out);
    const writes: Array<Promise<unknown>> = [];
    for (let i = 0; i < 50; i++) writes.push(copy.rpush('hint:list', `item-${i}`));
    for (let i = 0; i < 100; i++) writes.push(copy.incr('hint:counter'));
    writes.push(copy.del('hint:before'));
    const results = (await Promise.all(writes)) as unknown[][];
    for (const r of results) assert.ok(r[out] instanceof NodeDownError, String(r[out]));
    assert.equal(copy.hints.count(out), 151);
    // Meanwhile reads are served by the other nodes, with the new values.
    assert.equal(await copy.get('hint:counter'), '100');
    assert.equal(await direct[out]!.get('hint:counter'), null); // the node itself has not seen them yet

    await eventually(() => copy.health.state(out) === 'up');
    assert.equal(copy.hints.count(out), 0);
    assert.deepEqual(await direct[out]!.lrange('hint:list', 0, -1), Array.from({ length: 50 }, (_, i) => `item-${i}`));
    assert.equal(await direct[out]!.get('hint:counter'), '100'); // each INCR applied once
    assert.equal(await direct[out]!.exists('hint:before'), false);
  });

  it('a node unreachable for a while (connections refused) gets the writes it missed, in order, when it is back', async () => {
    const proxy = await FaultProxy.start({ host: '127.0.0.1', port: servers[2]!.port });
    try {
      const copy = new RedisCopy({
        nodes: [servers[0]!.address, servers[1]!.address, `127.0.0.1:${proxy.port}`],
        socket_timeout: 1, socket_connect_timeout: 1, server_retry_timeout: 150,
      });
      copies.push(copy);
      assert.deepEqual(await copy.set('away:k', 'before'), [true, true, true]);
      // Nothing in flight, then the node cannot be reached: its writes were surely never sent.
      proxy.set({ refuse: true });
      proxy.dropAll();
      await eventually(() => !copy.nodes[2]!.connection.isReady);
      for (let i = 0; i < 20; i++) {
        const results = (await copy.rpush('away:list', `item-${i}`)) as unknown[];
        assert.equal(results[0], i + 1);
        assert.ok(results[2] instanceof Error);
      }
      assert.equal(copy.health.state(2), 'down');
      assert.equal(copy.hints.needsResync(2), false);
      assert.ok(copy.hints.count(2) >= 19, `${copy.hints.count(2)} hints`);
      proxy.set({});
      await eventually(() => copy.health.state(2) === 'up');
      assert.deepEqual(await direct[2]!.lrange('away:list', 0, -1), Array.from({ length: 20 }, (_, i) => `item-${i}`));
      assert.equal(await direct[2]!.get('away:k'), 'before'); // kept its data: replayed, not copied
    } finally {
      await proxy.close();
    }
  });

  it('SIGSTOP under writes: unanswered writes are repaired by copying their keys, each INCR counted once, no full resync', async () => {
    const copy = copyOf({ socket_timeout: 0.3, server_failure_limit: 2, server_retry_timeout: 100, hint_limit: 1_000_000 });
    const stopped = 2;
    await direct[stopped]!.call('CONFIG', 'RESETSTAT'); // forget the FLUSHDB of the test setup
    const repairFailures: string[] = [];
    copy.health.on('repair-failed', (_node: number, _address: string, err: unknown) => repairFailures.push(String(err)));
    await copy.set('stop:untouched', 'kept');
    let incrs = 0;
    let stop = false;
    const caller = async (c: number): Promise<void> => {
      for (let n = 0; !stop; n++) {
        await copy.incr(`stop:counter:${c % 8}`);
        incrs++;
        await copy.set(`stop:last:${c}`, String(n));
      }
    };
    const callers = Array.from({ length: 32 }, (_, c) => caller(c));
    await new Promise((resolve) => setTimeout(resolve, 100));
    servers[stopped]!.pause();
    await eventually(() => copy.health.state(stopped) !== 'up');
    await new Promise((resolve) => setTimeout(resolve, 300));
    servers[stopped]!.resume();
    await eventually(() => copy.health.state(stopped) === 'up');
    stop = true;
    await Promise.all(callers);
    await eventually(() => copy.health.state(stopped) === 'up');
    const counters = Array.from({ length: 8 }, (_, i) => `stop:counter:${i}`);
    const lasts = Array.from({ length: 32 }, (_, c) => `stop:last:${c}`);
    const expected = await direct[0]!.mget([...counters, ...lasts]);
    assert.equal((expected.slice(0, 8) as string[]).reduce((sum, v) => sum + Number(v), 0), incrs);
    for (const node of direct) assert.deepEqual(await node.mget([...counters, ...lasts]), expected);
    assert.equal(await direct[stopped]!.get('stop:untouched'), 'kept');
    const stats = (await direct[stopped]!.call('INFO', 'commandstats')) as string;
    assert.ok(!stats.includes('cmdstat_flushdb'), `the stopped node was not copied whole; repairs that failed: ${repairFailures.join('; ')}`);
    assert.ok(stats.includes('cmdstat_restore'), 'its unanswered writes were repaired by copying their keys');
  });

  it('pipelines and transactions: a node that missed their writes is repaired like after a direct write', async () => {
    const proxy = await FaultProxy.start({ host: '127.0.0.1', port: servers[2]!.port });
    try {
      const copy = new RedisCopy({
        nodes: [servers[0]!.address, servers[1]!.address, `127.0.0.1:${proxy.port}`],
        socket_timeout: 0.3, socket_connect_timeout: 0.3, server_retry_timeout: 100,
      });
      copies.push(copy);
      assert.deepEqual(await copy.set('pipe:kept', 'yes'), [true, true, true]);
      // The node's connections go nowhere: what the pipelines send to it never arrives.
      proxy.set({ blackhole: true });
      proxy.dropAll();
      const results = await copy.pipeline({ transaction: false }).set('pipe:a', 'A').incr('pipe:n').exec({ raiseOnError: false });
      assert.deepEqual((results[0] as unknown[]).slice(0, 2), [true, true]);
      assert.ok((results[0] as unknown[])[2] instanceof Error);
      const tx = await copy.pipeline().set('pipe:b', 'B').exec({ raiseOnError: false });
      assert.deepEqual((tx[0] as unknown[]).slice(0, 2), [true, true]);
      assert.notEqual(copy.health.state(2), 'up'); // no reads from it until it is repaired
      proxy.set({});
      await eventually(() => copy.health.state(2) === 'up');
      assert.deepEqual(await direct[2]!.mget('pipe:a', 'pipe:n', 'pipe:b', 'pipe:kept'), ['A', '1', 'B', 'yes']);
    } finally {
      await proxy.close();
    }
  });

  it('hints beyond hint_limit are dropped and the node is copied whole instead, TTLs included', async () => {
    const copy = copyOf({ server_retry_timeout: 200, hint_limit: 10 });
    const out = 0;
    copy.health.markDown(out);
    for (let i = 0; i < 40; i++) await copy.set(`over:${i}`, `v${i}`, { px: 60_000 });
    await copy.set('over:forever', 'no ttl');
    assert.equal(copy.hints.needsResync(out), true);
    assert.equal(copy.hints.count(out), 0);
    await eventually(() => copy.health.state(out) === 'up');
    for (let i = 0; i < 40; i++) assert.equal(await direct[out]!.get(`over:${i}`), `v${i}`);
    const pttl = await direct[out]!.pttl('over:7');
    assert.ok(pttl > 50_000 && pttl <= 60_000, `pttl ${pttl}`);
    assert.equal(await direct[out]!.ttl('over:forever'), -1);
  });

  it('resync(node) copies every key from a healthy node with progress, and reads avoid the node until it is done', async () => {
    const copy = copyOf({ server_retry_timeout: 60_000 });
    const keys = Array.from({ length: 1200 }, (_, i) => `rs:${i}`);
    for (let i = 0; i < keys.length; i += 100) await copy.mset(Object.fromEntries(keys.slice(i, i + 100).map((k) => [k, k])));
    await copy.hset('rs:hash', { a: 1, b: 2 });
    await copy.expire('rs:hash', 100);
    // The node loses its data behind the client's back.
    await direct[2]!.flushdb();
    const progress: ResyncProgress[] = [];
    const repairing = copy.resync(servers[2]!.address, { batch: 300, onProgress: (p) => progress.push(p) });
    assert.notEqual(copy.health.state(2), 'up');
    // Reads of keys whose own node is the one being repaired come from the others meanwhile.
    const onTwo = keys.filter((k) => copy.nodeIndexFor(k) === 2).slice(0, 20);
    for (const k of onTwo) assert.equal(await copy.get(k), k);
    await repairing;
    assert.equal(copy.health.state(2), 'up');
    assert.equal(await direct[2]!.dbsize(), keys.length + 1);
    assert.deepEqual(await direct[2]!.hgetall('rs:hash'), { a: '1', b: '2' });
    assert.ok((await direct[2]!.ttl('rs:hash')) > 90);
    const last = progress[progress.length - 1]!;
    assert.equal(last.done, true);
    assert.equal(last.copied, keys.length + 1);
    assert.equal(last.node, servers[2]!.address);
    assert.ok(progress.length >= 3, `${progress.length} progress reports`);
    await assert.rejects(copy.resync('127.0.0.1:1'), RangeError);
  });

  it('write_quorum: rejects a write that reached too few nodes, with every node\'s outcome', async () => {
    const all = copyOf({ write_quorum: 'all', server_retry_timeout: 60_000 });
    all.health.markDown(1);
    const err = await all.set('q:k', 'v').then(() => null, (e: unknown) => e);
    assert.ok(err instanceof WriteQuorumError, String(err));
    assert.equal(err.acknowledged, 2);
    assert.equal(err.quorum, 3);
    assert.deepEqual(err.outcomes.map((o) => o.ok), [true, false, true]);
    const failed = err.outcomes[1]!;
    assert.ok(!failed.ok && failed.error instanceof NodeDownError && failed.hinted);
    assert.match(err.message, /reached 2 of the 3 nodes/);

    const majority = copyOf({ write_quorum: 'majority', server_retry_timeout: 60_000 });
    majority.health.markDown(0);
    assert.deepEqual(((await majority.set('q:m', 'v')) as unknown[]).slice(1), [true, true]);
    majority.health.markDown(2);
    await assert.rejects(majority.set('q:m', 'w'), WriteQuorumError);
  });
});
