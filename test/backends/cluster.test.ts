/**
 * RedisCluster on a real cluster of 3 primaries and 3 replicas: slots as the server computes
 * them, the reply rules, keys split per slot, keys that must share a slot, pipelines, SCAN,
 * createCaches and `.cache`; and the redirects forced for real: MOVED by moving a slot
 * (CLUSTER SETSLOT … NODE), ASK and TRYAGAIN by a live migration (SETSLOT IMPORTING /
 * MIGRATING + MIGRATE).
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import { RedisCluster, RedisClusterBase } from '../../src/backends/index.ts';
import { createCaches } from '../../src/config/index.ts';
import { ConfigError, CrossSlotError } from '../../src/errors.ts';
import { ClusterRefreshError } from '../../src/backends/errors.ts';
import { freePort } from '../../scripts/lib/redis-server.ts';
import '../../src/cache/index.ts';
import { useClients } from '../helpers/clients.ts';
import { cli, useCluster } from '../helpers/cluster.ts';
import { eventually } from '../helpers/wait.ts';
import { useServers } from '../helpers/servers.ts';
import { migrate, verifyMigration, type MigrateProgress } from '../../src/backends/migrate.ts';
import { RedisRing } from '../../src/backends/index.ts';
import { main } from '../../src/cli/main.ts';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A key whose slot no other test uses: a fresh hash tag per call. */
let fresh = 0;
const tagged = (name: string): string => `{t${process.pid}x${fresh++}}${name}`;

async function nodeId(port: number): Promise<string> {
  return (await cli(port, 'CLUSTER', 'MYID')).trim();
}

async function stat(port: number, section: string, field: string): Promise<number> {
  const text = await cli(port, 'INFO', section);
  const line = text.split('\n').find((l) => l.startsWith(`${field}:`));
  const m = line === undefined ? null : /calls=(\d+)|count=(\d+)/.exec(line);
  return m === null ? 0 : Number(m[1] ?? m[2]);
}

describe('RedisCluster on 3 primaries with a replica each', () => {
  const c = useCluster();
  /** A ring to migrate from. */
  const ringServers = useServers(2);
  let cluster: RedisCluster;
  useClients(() => {
    cluster = new RedisCluster([c.cluster.seeds[0]!], { OPTIONS: { socket_timeout: 5 } });
    return [cluster];
  });

  it('places keys by the slot the server computes, hash tags and bytes included', async () => {
    const port = c.cluster.servers[0]!.port;
    for (const key of ['foo', '{user1000}.following', 'a{}b', '{}x', 'x{y', 'clé', '{a}{b}']) {
      assert.equal(cluster.slotOf(key), Number(await cli(port, 'CLUSTER', 'KEYSLOT', key)), key);
    }
    assert.equal(cluster.slotOf(Buffer.from('{user1000}.x')), cluster.slotOf('user1000'));
    await cluster.set('foo', 'bar');
    const owner = await c.cluster.ownerOf(cluster.slotOf('foo'));
    assert.equal(cluster.nodeFor('foo').address, `127.0.0.1:${owner}`);
    assert.equal(await cli(owner, 'GET', 'foo'), 'bar\n');
  });

  it('reply rules: a read the reply, a write [reply], a keyless command one result per primary', async () => {
    assert.deepEqual(await cluster.set('rule', 'v'), [true]);
    assert.equal(await cluster.get('rule'), 'v');
    const pings = await cluster.ping();
    assert.equal((pings as unknown[]).length, 3);
    assert.equal(cluster.primaries.length, 3);
  });

  it('splits MGET, MSET, DEL, EXISTS across slots and merges in the caller order', async () => {
    const keys = Array.from({ length: 20 }, (_, i) => `split:${i}`);
    assert.ok(new Set(keys.map((k) => cluster.slotOf(k))).size > 3);
    await cluster.mset(Object.fromEntries(keys.map((k, i) => [k, String(i)])));
    assert.deepEqual(await cluster.mget([...keys, 'split:none']), [...keys.map((_, i) => String(i)), null]);
    assert.equal(await cluster.exists(...keys), 20);
    const deleted = (await cluster.delete(...keys)) as number[];
    assert.equal(deleted.reduce((a, b) => a + b, 0), 20);
    assert.equal(await cluster.exists(...keys), 0);
  });

  it('refuses other cross-slot commands with CrossSlotError before sending anything', async () => {
    await cluster.set('cs:a', '1');
    await assert.rejects(cluster.rename('cs:a', 'cs:b'), CrossSlotError);
    await assert.rejects(cluster.call('SUNIONSTORE', 'cs:d', 'cs:a', 'cs:b'), CrossSlotError);
    assert.equal(await cluster.get('cs:a'), '1');
    const p = cluster.pipeline();
    p.set('cs:x', 1);
    p.set('cs:y', 2);
    await assert.rejects(p.execute(), CrossSlotError);
    assert.equal(await cluster.exists('cs:x', 'cs:y'), 0);
    assert.throws(() => new RedisCluster(['127.0.0.1:1'], { OPTIONS: { hash_tag: '{}' } as never }), ConfigError);
    assert.throws(() => new RedisCluster(['127.0.0.1:1'], { DB: 2 }), ConfigError);
  });

  it('runs pipelines per node and transactions within one slot', async () => {
    const p = cluster.pipeline({ transaction: false });
    for (let i = 0; i < 10; i++) p.set(`pl:${i}`, i);
    p.mget('pl:0', 'pl:5', 'pl:9');
    const out = await p.execute();
    assert.deepEqual(out.slice(0, 10), Array.from({ length: 10 }, () => [true]));
    assert.deepEqual(out[10], ['0', '5', '9']);
    const tx = cluster.pipeline();
    tx.incr('{acct}:a').incrby('{acct}:b', 5).mget('{acct}:a', '{acct}:b');
    assert.deepEqual(await tx.execute(), [[1], [5], ['1', '5']]);
    const result = await cluster.transaction(async (pipe) => {
      const v = Number(await pipe.get('{acct}:a'));
      pipe.multi();
      pipe.set('{acct}:a', v + 1);
    }, '{acct}:a');
    assert.ok(Array.isArray(result));
    assert.equal(await cluster.get('{acct}:a'), '2');
  });

  it('scan_iter walks every primary once', async () => {
    await Promise.all(Array.from({ length: 30 }, (_, i) => cluster.set(`scan:${i}`, i)));
    const seen: string[] = [];
    for await (const k of cluster.scan_iter({ match: 'scan:*', count: 100 })) seen.push(String(k));
    assert.equal(seen.length, 30);
    assert.equal(new Set(seen).size, 30);
  });

  it("is a CACHES backend ('redisdb.backends.RedisCluster') with the .cache facade", async () => {
    const caches = createCaches({
      default: { BACKEND: 'redisdb.backends.RedisCluster', LOCATION: c.cluster.seeds.slice(0, 2), KEY_PREFIX: 'app' },
    });
    try {
      const backend = caches['default'] as unknown as RedisCluster;
      assert.ok(backend instanceof RedisClusterBase);
      const cache = backend.cache;
      await cache.set('user:1', { name: 'ada' }, 60);
      assert.deepEqual(await cache.get('user:1'), { name: 'ada' });
      await cache.setMany({ m1: 1, m2: 2, m3: 3 });
      assert.deepEqual(await cache.getMany(['m1', 'm2', 'm3']), { m1: 1, m2: 2, m3: 3 });
      await cache.deleteMany(['m1', 'm2', 'm3']);
      assert.deepEqual(await cache.getMany(['m1', 'm2', 'm3']), {});
    } finally {
      await caches.closeAll();
    }
    await cluster.cache.set('facade', 42);
    assert.equal(await cluster.cache.get('facade'), 42);
  });

  it('follows MOVED when a slot is moved (CLUSTER SETSLOT … NODE), and reads the map once for a burst', async () => {
    const key = tagged('moved');
    const slot = cluster.slotOf(key);
    assert.equal(await cluster.get(key), null); // the map is current, the slot is empty
    const from = await c.cluster.ownerOf(slot);
    const to = (await c.cluster.primaries()).find((p) => p !== from)!;
    const target = await nodeId(to);
    for (const s of c.cluster.servers) await cli(s.port, 'CLUSTER', 'SETSLOT', String(slot), 'NODE', target);
    await cli(to, 'CLUSTER', 'BUMPEPOCH');
    assert.equal(cluster.nodeFor(key).address, `127.0.0.1:${from}`); // the client still thinks the old owner
    const before = cluster.slotRefreshes;
    const movedBefore = await stat(from, 'errorstats', 'errorstat_MOVED');
    const writes = await Promise.all(Array.from({ length: 50 }, (_, i) => cluster.set(`${key}:${i}`, i)));
    assert.deepEqual(writes, Array.from({ length: 50 }, () => [true]));
    assert.ok(await stat(from, 'errorstats', 'errorstat_MOVED') > movedBefore, 'the old owner answered MOVED');
    assert.equal(await cli(to, 'GET', `${key}:7`), '7\n');
    // A MULTI block for a slot that moved meets MOVED while queuing, ran nothing, and is sent again.
    const block = tagged('block');
    const blockSlot = cluster.slotOf(block);
    const blockFrom = await c.cluster.ownerOf(blockSlot);
    const blockTo = (await c.cluster.primaries()).find((p) => p !== blockFrom)!;
    const blockTarget = await nodeId(blockTo);
    for (const s of c.cluster.servers) await cli(s.port, 'CLUSTER', 'SETSLOT', String(blockSlot), 'NODE', blockTarget);
    const tx = cluster.pipeline();
    tx.set(block, 1).incr(block);
    assert.deepEqual(await tx.execute(), [[true], [2]]);
    assert.equal(await cli(blockTo, 'GET', block), '2\n');
    await eventually(() => cluster.slotRefreshes > before, 3000, 'a map read');
    assert.ok(cluster.slotRefreshes - before <= 2, `one map read for the burst, got ${cluster.slotRefreshes - before}`);
    assert.equal(cluster.nodeFor(key).address, `127.0.0.1:${to}`);
  });

  it('follows ASK with ASKING, and waits out TRYAGAIN, during a live migration', async () => {
    const k1 = tagged('a');
    const k2 = k1.replace(/a$/, 'b');
    const slot = cluster.slotOf(k1);
    assert.equal(cluster.slotOf(k2), slot);
    await cluster.mset({ [k1]: 'one', [k2]: 'two' });
    const from = await c.cluster.ownerOf(slot);
    const to = (await c.cluster.primaries()).find((p) => p !== from)!;
    const [fromId, toId] = [await nodeId(from), await nodeId(to)];
    await cli(to, 'CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', fromId);
    await cli(from, 'CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', toId);
    await cli(from, 'MIGRATE', '127.0.0.1', String(to), '', '0', '5000', 'KEYS', k1);

    // k1 has moved: the old owner answers ASK, the client asks the new one with ASKING first.
    const askings = await stat(to, 'commandstats', 'cmdstat_asking');
    assert.equal(await cluster.get(k1), 'one');
    assert.ok(await stat(to, 'commandstats', 'cmdstat_asking') > askings, 'ASKING was sent');
    assert.equal(await cluster.get(k2), 'two'); // still on the old owner, no redirect

    // Both keys in one command while they are split between the nodes: TRYAGAIN until it completes.
    const tryagains = await stat(from, 'errorstats', 'errorstat_TRYAGAIN');
    const both = cluster.mget(k1, k2).then((v) => v, (e: unknown) => e);
    await eventually(async () => (await stat(from, 'errorstats', 'errorstat_TRYAGAIN')) > tryagains, 5000, 'TRYAGAIN');
    await cli(from, 'MIGRATE', '127.0.0.1', String(to), '', '0', '5000', 'KEYS', k2);
    for (const s of c.cluster.servers) await cli(s.port, 'CLUSTER', 'SETSLOT', String(slot), 'NODE', toId);
    assert.deepEqual(await both, ['one', 'two']);
    assert.equal(await cluster.get(k1), 'one'); // the old owner now answers MOVED, and the map follows
    assert.equal(cluster.nodeFor(k1).address, `127.0.0.1:${to}`);
  });

  it('sends a MULTI block that meets ASK to the importing node as ASKING, MULTI, …, EXEC, while the migration stays open', async () => {
    const k1 = tagged('m');
    const k2 = k1.replace(/m$/, 'w');
    const slot = cluster.slotOf(k1);
    await cluster.mset({ [k1]: '10', [k2]: '20' });
    const from = await c.cluster.ownerOf(slot);
    const to = (await c.cluster.primaries()).find((p) => p !== from)!;
    const [fromId, toId] = [await nodeId(from), await nodeId(to)];
    await cli(to, 'CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', fromId);
    await cli(from, 'CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', toId);
    await cli(from, 'MIGRATE', '127.0.0.1', String(to), '', '0', '5000', 'KEYS', k1, k2);
    try {
      // Without ASKING the importing node refuses the slot: it is the flag that lets the block in.
      assert.match(await cli(to, 'GET', k1), /MOVED/);
      const [asks, execs] = [await stat(from, 'errorstats', 'errorstat_ASK'), await stat(to, 'commandstats', 'cmdstat_exec')];
      const started = performance.now();
      // The pipeline door: MULTI, INCR, INCRBY, GET, EXEC.
      const tx = cluster.pipeline();
      tx.incr(k1).incrby(k2, 5).get(k1);
      assert.deepEqual(await tx.execute(), [[11], [25], '11']);
      // The transaction door: WATCH, a read, MULTI, SET, EXEC, each behind ASKING on the new node.
      const result = await cluster.transaction(async (pipe) => {
        const v = Number(await pipe.get(k1));
        pipe.multi();
        pipe.set(k1, v * 2);
        pipe.get(k2);
      }, k1);
      assert.deepEqual(result, [true, '25']);
      const took = performance.now() - started;
      assert.ok(await stat(from, 'errorstats', 'errorstat_ASK') > asks, 'the old owner answered ASK');
      assert.equal(await stat(to, 'commandstats', 'cmdstat_exec') - execs, 2, 'both blocks ran on the importing node, once each');
      // Still mid-migration: both nodes keep the slot open.
      assert.match(await cli(to, 'CLUSTER', 'NODES'), new RegExp(`\\[${slot}-<-${fromId}\\]`));
      assert.match(await cli(from, 'CLUSTER', 'NODES'), new RegExp(`\\[${slot}->-${toId}\\]`));
      assert.ok(took < 1500, `the blocks took ${Math.round(took)} ms`);
    } finally {
      for (const s of c.cluster.servers) await cli(s.port, 'CLUSTER', 'SETSLOT', String(slot), 'NODE', toId);
    }
    assert.equal(await cli(to, 'GET', k1), '22\n');
    assert.equal(await cli(to, 'GET', k2), '25\n');
  });

  /** A ring holding `count` keys named prefix*: strings, hashes, lists, some with a TTL, one binary key. */
  async function filledRing(prefix: string, count: number): Promise<RedisRing> {
    const ring = new RedisRing(ringServers.map((s) => s.address));
    for (let i = 0; i < count; i += 3) {
      await ring.set(`${prefix}s${i}`, `v${i}`, ...(i % 2 === 0 ? [{ ex: 600 }] : []));
      await ring.hset(`${prefix}h${i}`, { a: i, b: 'x' });
      await ring.rpush(`${prefix}l${i}`, 1, 2, 3);
    }
    await ring.set(Buffer.from([...Buffer.from(prefix), 0xff, 0x00]), Buffer.from([1, 2, 3]));
    return ring;
  }

  it('migrate copies a ring onto the cluster with TTLs, reports progress, resumes, and verifies', async () => {
    const ring = await filledRing('mig:', 300);
    try {
      const seen: MigrateProgress[] = [];
      let stopAt = 2;
      await assert.rejects(migrate(ring, cluster, {
        batch: 20, match: 'mig:*', onProgress: (p) => {
          seen.push(p);
          if (--stopAt === 0) throw new Error('stopped on purpose');
        },
      }), /stopped on purpose/);
      const last = seen[seen.length - 1]!;
      assert.ok(!last.done && last.copied > 0);
      const final = await migrate(ring, cluster, { batch: 20, match: 'mig:*', resume: last, onProgress: (p) => seen.push(p) });
      assert.ok(final.done);
      assert.equal(final.scanned, 301); // 100 of each kind and the binary key
      assert.equal(await cluster.get('mig:s3'), 'v3');
      assert.deepEqual(await cluster.hgetall('mig:h6'), { a: '6', b: 'x' });
      assert.deepEqual(await cluster.lrange('mig:l9', 0, -1), ['1', '2', '3']);
      const ttl = Number(await cluster.ttl('mig:s0'));
      assert.ok(ttl > 500 && ttl <= 600, `TTL kept: ${ttl}`);
      assert.equal(Number(await cluster.ttl('mig:s3')), -1);
      const v = await verifyMigration(ring, cluster, { match: 'mig:*' });
      assert.deepEqual(v, { checked: 301, mismatched: 0, examples: [] });
      await cluster.set('mig:s3', 'changed');
      const changed = await verifyMigration(ring, cluster, { match: 'mig:*' });
      assert.equal(changed.mismatched, 1);
      assert.deepEqual(changed.examples, ['mig:s3']);
    } finally {
      await ring.close();
    }
  });

  it('redisdb migrate --from <ring LOCATION> --to <seeds> --verify --json --state FILE', async () => {
    const ring = await filledRing('cli:', 60);
    const dir = mkdtempSync(join(tmpdir(), 'redisdb-migrate-'));
    try {
      const out: string[] = [];
      const err: string[] = [];
      const state = join(dir, 'state.json');
      const code = await main(
        ['--json', 'migrate', '--from', ringServers.map((s) => s.address).join(','), '--to', c.cluster.seeds[0]!, '--match', 'cli:*', '--batch', '10', '--verify', '--state', state],
        { out: (t) => out.push(t), err: (t) => err.push(t) },
      );
      assert.equal(code, 0, err.join('\n'));
      const lines = out.map((l) => JSON.parse(l) as { progress?: MigrateProgress; verify?: { mismatched: number; checked: number } });
      assert.ok(lines.filter((l) => l.progress !== undefined).length > 1);
      assert.equal(lines.at(-2)?.progress?.done, true);
      assert.deepEqual(lines.at(-1)?.verify, { checked: 61, mismatched: 0, examples: [] });
      assert.equal((JSON.parse(readFileSync(state, 'utf8')) as MigrateProgress).done, true);
      assert.equal(await cluster.get('cli:s0'), 'v0');
      assert.equal(await main(['migrate', '--from', 'x:1'], { out: () => {}, err: () => {} }), 2);
      // which-node and stats on a cluster alias: the slot and its primary, keys per primary.
      const env = { REDISDB_CACHES: JSON.stringify({ default: { BACKEND: 'RedisCluster', LOCATION: [c.cluster.seeds[0]] } }) };
      const shown: string[] = [];
      assert.equal(await main(['--json', 'which-node', '{user1000}.x'], { out: (t) => shown.push(t), err: (t) => shown.push(t) }, env), 0);
      const w = JSON.parse(shown[0]!) as { hash: number; node: string; why: string };
      assert.equal(w.hash, 3443);
      assert.equal(w.node, `127.0.0.1:${await c.cluster.ownerOf(3443)}`);
      assert.match(w.why, /hash tag 'user1000' mod 16384 is slot 3443/);
      shown.length = 0;
      assert.equal(await main(['--json', 'stats'], { out: (t) => shown.push(t), err: (t) => shown.push(t) }, env), 0);
      assert.equal((JSON.parse(shown[0]!) as { nodes: unknown[] }).nodes.length, 3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await ring.close();
    }
  });

  it('names every node and its cause when no node gives a slot map', async () => {
    const closed = [await freePort(), await freePort()].map((p) => `127.0.0.1:${p}`);
    const lost = new RedisCluster(closed, { OPTIONS: { socket_connect_timeout: 1 } });
    try {
      const e = await lost.get('k').then(() => null, (x: unknown) => x);
      assert.ok(e instanceof ClusterRefreshError, String(e));
      for (const a of closed) assert.match(e.message, new RegExp(`${a}: .*ECONNREFUSED`));
    } finally {
      lost.disconnect();
    }
  });

  it('reads from replicas with read_from, and applies nat_map to every address', async () => {
    const replicas = new RedisCluster([c.cluster.seeds[0]!], { OPTIONS: { read_from: 'replica' } });
    try {
      await cluster.set('rf:k', 'v');
      await eventually(async () => (await replicas.get('rf:k')) === 'v', 3000, 'the replica to answer');
      const owner = await c.cluster.ownerOf(cluster.slotOf('rf:k'));
      const readonlyCalls = await stat(await c.cluster.replicaOf(owner), 'commandstats', 'cmdstat_readonly');
      assert.ok(readonlyCalls > 0, 'READONLY sent to the replica');
    } finally {
      await replicas.close();
    }
    // Each node announced as 127.0.0.1:<port> is reached as localhost:<port>.
    const nat = Object.fromEntries(c.cluster.seeds.map((a) => [a, a.replace('127.0.0.1', 'localhost')]));
    const mapped = new RedisCluster([c.cluster.seeds[0]!], { OPTIONS: { nat_map: nat } });
    try {
      await mapped.set('nat:k', 'v');
      assert.equal(await mapped.get('nat:k'), 'v');
      assert.ok(mapped.primaries.every((i) => mapped.addresses[i]!.startsWith('localhost:')), mapped.addresses.join(','));
    } finally {
      await mapped.close();
    }
  });

  it('pub/sub: classic and pattern messages arrive once, sharded channels on their slot owner', async () => {
    const ps = cluster.pubsub();
    try {
      const got: string[] = [];
      await ps.subscribe({ news: (m) => got.push(`c:${String(m.data)}`) });
      await ps.psubscribe({ 'ne*': (m) => got.push(`p:${String(m.data)}`) });
      await ps.ssubscribe({ '{s}chan': (m) => got.push(`s:${String(m.data)}`) });
      assert.deepEqual(ps.shardChannels, ['{s}chan']);
      await cluster.publish('news', 'one');
      assert.equal(await cluster.spublish('{s}chan', 'two'), 1);
      await cluster.publish('news', 'end');
      await eventually(() => got.filter((g) => g.endsWith(':end')).length === 2, 3000, 'the last message');
      assert.deepEqual(got.sort(), ['c:end', 'c:one', 'p:end', 'p:one', 's:two']);
    } finally {
      await ps.close();
    }
  });
});
