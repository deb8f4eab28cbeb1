/**
 * The near cache on one node: what it keeps (decided from the command table), its LRU and
 * byte accounting, its options, and on a real server: hits, another client's write seen
 * through the invalidation connection, this client's own writes read back at once, every
 * door alike, the in-flight race, FLUSHALL, a killed invalidation connection and OPTIN / BCAST.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { fallbackCommandInfo } from '../../src/client/command-specs.ts';
import { nearRole } from '../../src/client/near-cache/cacheable.ts';
import { keyOf, signature, trackingCommand, type NearCache } from '../../src/client/near-cache/near-cache.ts';
import { ENTRY_OVERHEAD, NearStore, replyBytes } from '../../src/client/near-cache/store.ts';
import { NEAR_CACHE_DEFAULTS } from '../../src/connection/near-cache-options.ts';
import { ConfigError } from '../../src/errors.ts';
import { perTest } from '../helpers/clients.ts';
import { FaultProxy } from '../helpers/fault-proxy.ts';
import { useServers } from '../helpers/servers.ts';
import { eventually, nextEvent } from '../helpers/wait.ts';

const role = (name: string): string => {
  const r = nearRole(fallbackCommandInfo(name));
  return r.kind === 'read' ? `read@${r.keyIndex}` : r.kind;
};

describe('near cache: what is kept', () => {
  it('keeps one-key reads that depend on the key alone, from the command table', () => {
    for (const name of ['get', 'hget', 'hgetall', 'hmget', 'smembers', 'sismember', 'zrange', 'zrangebyscore', 'zscore', 'lrange', 'lindex', 'strlen', 'getrange', 'type', 'xrange', 'bitcount', 'georadius_ro']) {
      assert.equal(role(name), 'read@1', name);
    }
  });

  it('never keeps time-dependent, random, blocking, multi-key or movable-key reads', () => {
    for (const name of ['ttl', 'pttl', 'expiretime', 'pexpiretime', 'object|encoding', 'object|freq', 'dump', 'memory|usage', 'randomkey', 'srandmember', 'hrandfield', 'zrandmember', 'sscan', 'hscan', 'scan', 'mget', 'exists', 'touch', 'lcs', 'sort_ro', 'eval_ro', 'pfcount', 'dbsize', 'ping']) {
      assert.ok(!role(name).startsWith('read'), `${name} is ${role(name)}`);
    }
  });

  it('knows which commands change keys, and which change keys they do not name', () => {
    for (const name of ['set', 'del', 'hset', 'incr', 'lpush', 'blpop', 'eval', 'evalsha', 'mset', 'rename', 'getdel', 'getex', 'expire', 'xgroup|create']) {
      assert.equal(role(name), 'write', name);
    }
    for (const name of ['flushall', 'flushdb', 'swapdb']) assert.equal(role(name), 'flush', name);
    assert.equal(nearRole(null).kind, 'flush');
    for (const name of ['ping', 'info', 'client|list', 'config|get', 'publish']) assert.equal(role(name), 'none', name);
  });

  it('names a key by its bytes, and every different command differently', () => {
    assert.equal(keyOf('k'), 'k');
    assert.equal(keyOf(Buffer.from('k')), 'k');
    assert.equal(keyOf(Buffer.from([0xff, 0x00])), keyOf(new Uint8Array([0xff, 0x00])));
    assert.notEqual(keyOf(Buffer.from([0xff])), keyOf('\u00ff'));
    assert.equal(keyOf('\ud800'), null);
    assert.equal(keyOf({}), null);
    assert.notEqual(signature(['GET', 'a:b'], false), signature(['GET', 'a', 'b'], false));
    assert.notEqual(signature(['GET', 'k'], false), signature(['GET', 'k'], true));
    assert.notEqual(signature(['GET', '1'], false), signature(['GET', 1], false));
    assert.equal(signature(['GET', true], false), null);
  });

  it('asks for tracking as the mode says', () => {
    assert.deepEqual(trackingCommand(NEAR_CACHE_DEFAULTS, 7), ['CLIENT', 'TRACKING', 'on', 'REDIRECT', 7]);
    assert.deepEqual(trackingCommand({ ...NEAR_CACHE_DEFAULTS, mode: 'bcast', prefixes: ['a:', 'b:'] }, null), ['CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'a:', 'PREFIX', 'b:']);
    assert.deepEqual(trackingCommand({ ...NEAR_CACHE_DEFAULTS, mode: 'optin' }, 3), ['CLIENT', 'TRACKING', 'on', 'REDIRECT', 3, 'OPTIN']);
  });
});

describe('near cache: the store', () => {
  it('evicts the least recently used beyond maxEntries, and counts it', () => {
    const s = new NearStore({ maxEntries: 3, maxBytes: 1 << 20, ttl: 1000 });
    for (const k of ['a', 'b', 'c']) s.set(`sig:${k}`, k, k, 0);
    assert.equal(s.get('sig:a', 1), 'a'); // a is now the most recently used
    s.set('sig:d', 'd', 'd', 2);
    assert.equal(s.size, 3);
    assert.equal(s.get('sig:b', 3), undefined);
    assert.equal(s.get('sig:a', 3), 'a');
    assert.equal(s.evictions, 1);
  });

  it('accounts bytes, evicts to stay under maxBytes, and gives them back on every removal', () => {
    const one = ENTRY_OVERHEAD + 2 * 'sig:0'.length + replyBytes('x'.repeat(100));
    const s = new NearStore({ maxEntries: 100, maxBytes: one * 2, ttl: 1000 });
    s.set('sig:0', 'k0', 'x'.repeat(100), 0);
    assert.equal(s.bytes, one);
    s.set('sig:1', 'k1', 'y'.repeat(100), 0);
    assert.equal(s.bytes, 2 * one);
    s.set('sig:2', 'k2', 'z'.repeat(100), 0);
    assert.equal(s.size, 2);
    assert.equal(s.bytes, 2 * one);
    assert.equal(s.evictions, 1);
    assert.equal(s.dropKey('k1'), 1);
    assert.equal(s.bytes, one);
    s.set('big', 'k', 'x'.repeat(10 * one), 0); // larger than the whole cache: not kept
    assert.equal(s.size, 1);
    assert.equal(s.clear(), 1);
    assert.equal(s.bytes, 0);
  });

  it('groups entries by key: one invalidation drops them all; ttl is a backstop', () => {
    const s = new NearStore({ maxEntries: 100, maxBytes: 1 << 20, ttl: 50 });
    s.set('HGET h a', 'h', '1', 0);
    s.set('HGET h b', 'h', '2', 0);
    s.set('HGETALL h', 'h', ['a', '1', 'b', '2'], 0);
    s.set('GET g', 'g', 'v', 0);
    assert.equal(s.dropKey('h'), 3);
    assert.equal(s.size, 1);
    assert.equal(s.get('GET g', 49), 'v');
    assert.equal(s.get('GET g', 50), undefined);
    assert.equal(s.expirations, 1);
    assert.equal(s.bytes, 0);
  });
});

describe('near cache: options', () => {
  it('reads both spellings once, with typed errors for bad values', () => {
    assert.equal(new ConstRedis({ port: 1 }).options.nearCache, null);
    assert.deepEqual(new ConstRedis({ port: 1, nearCache: true }).options.nearCache, NEAR_CACHE_DEFAULTS);
    const camel = new ConstRedis({ port: 1, nearCache: { maxEntries: 5, ttl: 2000, pingInterval: 100, mode: 'bcast', prefixes: ['a:'] } }).options.nearCache!;
    assert.deepEqual([camel.maxEntries, camel.ttl, camel.pingInterval, camel.mode, camel.prefixes], [5, 2000, 100, 'bcast', ['a:']]);
    const snake = new ConstRedis({ port: 1, near_cache: { max_entries: 5, ttl: 2, ping_interval: 0.1 } }).options.nearCache!;
    assert.deepEqual([snake.maxEntries, snake.ttl, snake.pingInterval], [5, 2000, 100]);
    for (const bad of [
      { nearCache: { maxEntries: 0 } }, { nearCache: { maxBytes: 1.5 } }, { nearCache: { ttl: -1 } }, { nearCache: { mode: 'push' } },
      { nearCache: { prefixes: 'a' } }, { nearCache: { prefixes: ['a', 'ab'] } }, { nearCache: { prefixes: [''] } }, { nearCache: { size: 1 } },
      { nearCache: 'yes' }, { nearCache: true, near_cache: true }, { nearCache: { max_entries: 1, maxEntries: 1 } },
    ]) {
      assert.throws(() => new ConstRedis({ port: 1, ...(bad as object) }), ConfigError, JSON.stringify(bad));
    }
  });
});

/** A client connected, its tracking on and its command table read: ready to keep replies. */
async function tracking(c: ConstRedis): Promise<NearCache> {
  await c.connect();
  await eventually(() => c.nearCache!.isTracking && c.commandTable.isComplete, 3000, 'tracking on');
  return c.nearCache!;
}

describe('near cache on a real server', () => {
  const servers = useServers(1);
  const client = perTest((o: object = {}) => new ConstRedis({ port: servers[0]!.port, nearCache: { pingInterval: 200 }, ...o }));
  const plain = perTest(() => new ConstRedis({ port: servers[0]!.port }));

  it('answers repeated reads from memory, and sees another client\'s write once it is invalidated', async () => {
    const c = client();
    const w = plain();
    await w.set('nc:a', 'v1');
    const near = await tracking(c);
    assert.equal(await c.get('nc:a'), 'v1');
    assert.equal(await c.get('nc:a'), 'v1');
    assert.equal(await c.call('GET', 'nc:a'), 'v1');
    assert.equal(await c.execute_command('GET', 'nc:a'), 'v1');
    const s = near.stats();
    assert.deepEqual([s.misses, s.hits, s.entries], [1, 3, 1]);
    const invalidated = nextEvent<string[]>(near, 'invalidate');
    await w.set('nc:a', 'v2');
    assert.deepEqual(await invalidated, ['nc:a']);
    assert.equal(await c.get('nc:a'), 'v2');
    assert.equal(near.stats().invalidations, 1);
  });

  it('reads its own writes at once, from every door, pipelines and transactions included', async () => {
    const c = client();
    await tracking(c);
    await c.set('nc:own', 'a');
    assert.equal(await c.get('nc:own'), 'a');
    // Not awaited: the read after the write must not be answered from memory.
    const [, got] = await Promise.all([c.set('nc:own', 'b'), c.get('nc:own')]);
    assert.equal(got, 'b');
    assert.equal(await c.get('nc:own'), 'b');
    await c.call('SET', 'nc:own', 'c');
    assert.equal(await c.get('nc:own'), 'c');
    await c.pipeline({ transaction: false }).set('nc:own', 'd').exec();
    assert.equal(await c.get('nc:own'), 'd');
    await c.pipeline().set('nc:own', 'e').exec();
    assert.equal(await c.get('nc:own'), 'e');
    await c.transaction((pipe) => {
      pipe.multi();
      pipe.set('nc:own', 'f');
    }, 'nc:own');
    assert.equal(await c.get('nc:own'), 'f');
    await c.eval("return redis.call('SET', KEYS[1], ARGV[1])", 1, 'nc:own', 'g');
    assert.equal(await c.get('nc:own'), 'g');
    // The pipeline's read is not answered from memory: it sees what the server holds.
    assert.deepEqual(await c.pipeline({ transaction: false }).get('nc:own').exec(), ['g']);
  });

  it('keeps each command under its key: one write drops them all; replies are copies a caller cannot change', async () => {
    const c = client();
    const near = await tracking(c);
    await c.hset('nc:h', { a: '1', b: '2' });
    assert.deepEqual(await c.hgetall('nc:h'), { a: '1', b: '2' });
    assert.equal(await c.hget('nc:h', 'a'), '1');
    const raw = (await c.call('HGETALL', 'nc:h')) as string[];
    raw.push('mutated');
    assert.deepEqual(await c.call('HGETALL', 'nc:h'), ['a', '1', 'b', '2']);
    const buf = (await c.getBuffer('nc:b')) as Buffer | null;
    assert.equal(buf, null);
    await c.set('nc:b', 'bytes');
    const b1 = (await c.getBuffer('nc:b')) as Buffer;
    b1[0] = 0x58;
    assert.equal(((await c.getBuffer('nc:b')) as Buffer).toString(), 'bytes');
    assert.equal(await c.get('nc:b'), 'bytes'); // a string read is another entry than a Buffer read
    assert.ok(near.stats().entries >= 4);
    await plain().hset('nc:h', 'a', '9');
    await eventually(async () => (await c.hget('nc:h', 'a')) === '9', 2000, 'the invalidation');
    assert.deepEqual(await c.hgetall('nc:h'), { a: '9', b: '2' });
  });

  it('never keeps TTL, OBJECT or a random read', async () => {
    const c = client();
    const near = await tracking(c);
    await c.call('SET', 'nc:t', 'v', 'EX', 100);
    await c.sadd('nc:s', 'a', 'b', 'c');
    for (let i = 0; i < 3; i++) {
      await c.ttl('nc:t');
      await c.pttl('nc:t');
      await c.object('ENCODING', 'nc:t');
      await c.srandmember('nc:s');
      await c.call('RANDOMKEY');
    }
    assert.deepEqual([near.stats().hits, near.stats().entries], [0, 0]);
  });

  it('does not keep a read whose key was invalidated while its reply was on its way (RESP2: the invalidation on its own connection)', async () => {
    const w = plain();
    await w.set('nc:race', 'old');
    const proxy = await FaultProxy.start({ host: '127.0.0.1', port: servers[0]!.port });
    try {
      const c = client({ port: proxy.port, protocol: 2 });
      const near = await tracking(c);
      assert.equal(proxy.accepted, 2); // the data connection first, then the invalidation one
      proxy.set({ stall: true, connection: 1 });
      const read = c.get('nc:race');
      // The server has answered the read (held in the proxy) and tracks the key for this client.
      await eventually(async () => ((await w.call('CLIENT', 'LIST')) as string).includes('cmd=get'), 2000, 'the read run');
      const invalidated = nextEvent<string[]>(near, 'invalidate');
      await w.set('nc:race', 'new');
      assert.deepEqual(await invalidated, ['nc:race']);
      proxy.set({});
      assert.equal(await read, 'old'); // its caller gets what the server said then
      assert.equal(await c.get('nc:race'), 'new'); // but it was not kept
      assert.equal(near.stats().uncached, 1);
    } finally {
      await proxy.close();
    }
  });

  it('shares one request among identical reads in flight', async () => {
    const c = client();
    const near = await tracking(c);
    await c.set('nc:share', 'v');
    const w = plain();
    const gets = async (): Promise<number> => Number(/cmdstat_get:calls=(\d+)/.exec((await w.call('INFO', 'commandstats')) as string)?.[1] ?? 0);
    const before = await gets();
    const got = await Promise.all(Array.from({ length: 10 }, () => c.get('nc:share')));
    assert.deepEqual(got, Array(10).fill('v'));
    assert.equal((await gets()) - before, 1);
    assert.equal(near.stats().misses, 10);
  });

  it('flushes on FLUSHALL, and when its invalidation connection is killed, then tracks again (RESP2)', async () => {
    const c = client({ protocol: 2 });
    const w = plain();
    const near = await tracking(c);
    await w.set('nc:f', '1');
    assert.equal(await c.get('nc:f'), '1');
    const flushed = nextEvent<string>(near, 'flush');
    await w.flushall();
    assert.match(await flushed, /FLUSHALL/);
    assert.equal(await c.get('nc:f'), null);
    assert.equal(await c.get('nc:f'), null);
    assert.equal(near.stats().entries, 1);

    const id = near.source.id!;
    const lost = nextEvent<string>(near, 'flush');
    await w.call('CLIENT', 'KILL', 'ID', id);
    assert.match(await lost, /invalidation connection was lost/);
    await eventually(() => near.isTracking, 3000, 'tracking again');
    assert.notEqual(near.source.id, id);
    const info = (await c.call('CLIENT', 'TRACKINGINFO')) as unknown[];
    assert.equal(info[3], near.source.id); // the data connection redirects to the new one
    assert.equal(await c.get('nc:f'), null);
    await w.set('nc:f', '2');
    await eventually(async () => (await c.get('nc:f')) === '2', 2000, 'the write seen after the new redirect');
  });

  it('flushes when the data connection is killed, and tracks again on the new one', async () => {
    const c = client();
    const w = plain();
    const near = await tracking(c);
    await w.set('nc:d', '1');
    assert.equal(await c.get('nc:d'), '1');
    const id = await c.call('CLIENT', 'ID');
    const lost = nextEvent<string>(near, 'flush');
    await w.call('CLIENT', 'KILL', 'ID', id);
    assert.match(await lost, /data connection was lost/);
    await w.set('nc:d', '2'); // no invalidation can come for the old connection's reads
    await eventually(async () => (await c.get('nc:d').catch(() => null)) === '2', 3000, 'the new value');
    await eventually(() => near.isTracking, 3000, 'tracking again');
    await w.set('nc:d', '3');
    await eventually(async () => (await c.get('nc:d')) === '3', 2000, 'invalidations on the new connection');
  });

  it('OPTIN: only the reads it keeps are tracked; BCAST: keys under its prefixes only (RESP2)', async () => {
    const w = plain();
    const optin = client({ nearCache: { mode: 'optin', pingInterval: 200 }, protocol: 2 });
    const near = await tracking(optin);
    await w.set('nc:o', '1');
    assert.equal(await optin.get('nc:o'), '1');
    assert.equal(await optin.get('nc:o'), '1');
    assert.equal(near.stats().hits, 1);
    await w.set('nc:o', '2');
    await eventually(async () => (await optin.get('nc:o')) === '2', 2000, 'the OPTIN invalidation');
    assert.deepEqual(((await optin.call('CLIENT', 'TRACKINGINFO')) as unknown[])[1], ['on', 'optin']);

    const bcast = client({ nearCache: { mode: 'bcast', prefixes: ['nc:p:'], pingInterval: 200 }, protocol: 2 });
    const b = await tracking(bcast);
    await w.set('nc:p:1', 'a');
    await w.set('nc:q:1', 'a');
    for (let i = 0; i < 2; i++) {
      await bcast.get('nc:p:1');
      await bcast.get('nc:q:1');
    }
    assert.deepEqual([b.stats().hits, b.stats().entries], [1, 1]); // nc:q: is not under a prefix
    await w.set('nc:p:1', 'b');
    await eventually(async () => (await bcast.get('nc:p:1')) === 'b', 2000, 'the BCAST invalidation');
    // Re-pointed after its invalidation connection is killed: off, then on with the same prefix.
    await w.call('CLIENT', 'KILL', 'ID', b.source.id!);
    await eventually(() => b.isTracking && b.refused === null, 3000, 'BCAST tracking again');
    await w.set('nc:p:1', 'c');
    await eventually(async () => (await bcast.get('nc:p:1')) === 'c', 2000, 'BCAST after the new redirect');
  });
});

describe('near cache on RESP3: invalidations pushed on the data connection', () => {
  const servers = useServers(1);
  const client = perTest((o: object = {}) => new ConstRedis({ port: servers[0]!.port, protocol: 3, name: 'nc-resp3', nearCache: { pingInterval: 200 }, ...o }));
  const plain = perTest(() => new ConstRedis({ port: servers[0]!.port }));

  it('tracks without REDIRECT and no second connection; sees another client\'s write and FLUSHALL', async () => {
    const c = client();
    const w = plain();
    const near = await tracking(c);
    assert.equal(c.connection.protocol, 3);
    assert.equal(near.source.id, null);
    const info = (await c.call('CLIENT', 'TRACKINGINFO')) as unknown[];
    assert.deepEqual([info[1], info[3]], [['on'], 0]); // tracking on, sent to itself (0; -1 would be off)
    const mine = ((await w.call('CLIENT', 'LIST')) as string).split('\n').filter((l) => l.includes('name=nc-resp3'));
    assert.equal(mine.length, 1); // the data connection alone
    assert.match(mine[0]!, /resp=3/);

    await w.set('nc:3', '1');
    assert.equal(await c.get('nc:3'), '1');
    assert.equal(await c.get('nc:3'), '1');
    assert.equal(near.stats().hits, 1);
    const invalidated = nextEvent<string[]>(near, 'invalidate');
    await w.set('nc:3', '2');
    assert.deepEqual(await invalidated, ['nc:3']);
    assert.equal(await c.get('nc:3'), '2');

    const flushed = nextEvent<string>(near, 'flush');
    await w.flushall();
    assert.match(await flushed, /FLUSHALL/);
    assert.equal(await c.get('nc:3'), null);
  });

  it('a key that is not UTF-8, pushed as text, drops every entry rather than none', async () => {
    const c = client();
    const w = plain();
    const near = await tracking(c);
    const key = Buffer.from([0x6e, 0x63, 0xff, 0xfe]);
    await w.set(key, 'a');
    await w.set('nc:other', 'x');
    assert.equal(await c.get(key), 'a');
    assert.equal(await c.get(key), 'a');
    assert.equal(await c.get('nc:other'), 'x');
    assert.equal(near.stats().entries, 2);
    const flushed = nextEvent<string>(near, 'flush');
    await w.set(key, 'b');
    await flushed;
    assert.equal(near.stats().entries, 0);
    assert.equal(await c.get(key), 'b');
  });

  it('flushes when the data connection is killed, and tracks again on the new one', async () => {
    const c = client();
    const w = plain();
    const near = await tracking(c);
    await w.set('nc:3d', '1');
    assert.equal(await c.get('nc:3d'), '1');
    const lost = nextEvent<string>(near, 'flush');
    await w.call('CLIENT', 'KILL', 'ID', await c.call('CLIENT', 'ID'));
    assert.match(await lost, /data connection was lost/);
    await w.set('nc:3d', '2');
    await eventually(async () => (await c.get('nc:3d').catch(() => null)) === '2', 3000, 'the new value');
    await eventually(() => near.isTracking, 3000, 'tracking again');
    await c.get('nc:3d');
    await w.set('nc:3d', '3');
    await eventually(async () => (await c.get('nc:3d')) === '3', 2000, 'invalidations on the new connection');
  });

  it('BCAST and OPTIN on RESP3', async () => {
    const w = plain();
    const bcast = client({ nearCache: { mode: 'bcast', prefixes: ['nc:3p:'], pingInterval: 200 } });
    const b = await tracking(bcast);
    // BCAST invalidates every write under the prefix, this one too: taken before the reads, so
    // that its push cannot land while the first read is in flight (which would rightly not keep it).
    const first = nextEvent<string[]>(b, 'invalidate');
    await w.set('nc:3p:1', 'a');
    await first;
    await bcast.get('nc:3p:1');
    await bcast.get('nc:3p:1');
    assert.equal(b.stats().hits, 1);
    await w.set('nc:3p:1', 'b');
    await eventually(async () => (await bcast.get('nc:3p:1')) === 'b', 2000, 'the BCAST invalidation');

    const optin = client({ nearCache: { mode: 'optin', pingInterval: 200 } });
    const o = await tracking(optin);
    await w.set('nc:3o', '1');
    await optin.get('nc:3o');
    assert.equal(await optin.get('nc:3o'), '1');
    assert.equal(o.stats().hits, 1);
    await w.set('nc:3o', '2');
    await eventually(async () => (await optin.get('nc:3o')) === '2', 2000, 'the OPTIN invalidation');
  });
});
