/**
 * Django's cache API checked against real servers; run for every backend kind by the test
 * files that import it.
 */
import { Buffer } from 'node:buffer';
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { deserialize, serialize } from 'node:v8';
import { Cache, KeyNotFoundError } from '../../src/cache/cache.ts';
import type { CacheBackend } from '../../src/cache/target.ts';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { ReplyError } from '../../src/errors.ts';
import { useClients } from '../helpers/clients.ts';
import { useServers, type RedisServer } from '../helpers/servers.ts';

export interface FacadeFixture {
  backend: CacheBackend;
  /** One raw client per server, to look at what each really holds. */
  raw: ConstRedis[];
}

export function facadeSuite(title: string, serverCount: number, make: (servers: RedisServer[]) => CacheBackend): void {
  describe(title, () => {
    const servers = useServers(serverCount);
    const fx = {} as FacadeFixture;
    let cache: Cache;

    useClients(() => {
      fx.backend = make(servers);
      fx.raw = servers.map((s) => new ConstRedis(s.url));
      cache = new Cache(fx.backend);
      return [fx.backend, ...fx.raw];
    });
    beforeEach(async () => {
      await Promise.all(fx.raw.map((r) => r.flushdb()));
    });

    /** Where a made key is held: how many servers have it. */
    const holders = async (key: string): Promise<number> => (await Promise.all(fx.raw.map((r) => r.exists(key)))).filter(Boolean).length;

    it('makes keys as prefix:version:key', async () => {
      await cache.set('k', 'v');
      assert.equal(await holders(':1:k'), serverCount === 2 && title.includes('Copy') ? 2 : 1);
      assert.equal(new Cache(fx.backend, { keyPrefix: 'app', version: 3 }).makeKey('k'), 'app:3:k');
    });

    it('get returns the default (null unless given) for a missing key', async () => {
      assert.equal(await cache.get('nope'), null);
      assert.equal(await cache.get('nope', 'fallback'), 'fallback');
      await cache.set('present', 0);
      assert.equal(await cache.get('present', 'fallback'), 0);
    });

    it('set/get round-trips values, set returns nothing', async () => {
      const value = { when: new Date(1_700_000_000_000), tags: new Set(['a']), n: 10n, buf: Buffer.from('hi') };
      assert.equal(await cache.set('obj', value), undefined);
      assert.deepEqual(await cache.get('obj'), value);
    });

    it('timeout: default 300 s, null never expires, 0 and negative expire at once', async () => {
      await cache.set('default', 1);
      const ttl = await cache.ttl('default');
      assert.ok(ttl !== null && ttl > 295 && ttl <= 300, `ttl ${ttl}`);
      await cache.set('forever', 1, null);
      assert.equal(await cache.ttl('forever'), null);
      assert.equal(await cache.get('forever'), 1);
      await cache.set('short', 1, 2.5);
      const pttl = await fx.raw.map((r) => r.pttl(':1:short')).reduce(async (a, b) => Math.max(await a, await b));
      assert.ok(pttl > 2000 && pttl <= 2500, `pttl ${pttl}`);
      await cache.set('zero', 1, null);
      await cache.set('zero', 2, 0);
      assert.equal(await cache.get('zero'), null);
      await cache.set('negative', 1, null);
      await cache.set('negative', 2, -5);
      assert.equal(await cache.hasKey('negative'), false);
      assert.equal(await holders(':1:negative'), 0);
    });

    it('a default timeout of null from the options keeps values forever', async () => {
      const forever = new Cache(fx.backend, { timeout: null });
      await forever.set('k', 1);
      assert.equal(await forever.ttl('k'), null);
    });

    it('add stores only absent keys and says whether it did', async () => {
      assert.equal(await cache.add('a', 'first'), true);
      assert.equal(await cache.add('a', 'second'), false);
      assert.equal(await cache.get('a'), 'first');
      // timeout 0: answers as if stored, keeps nothing
      assert.equal(await cache.add('gone', 'x', 0), true);
      assert.equal(await cache.hasKey('gone'), false);
      assert.equal(await cache.add('forever', 'x', null), true);
      assert.equal(await cache.ttl('forever'), null);
    });

    it('getOrSet returns the stored value, or stores the default (value or function)', async () => {
      assert.equal(await cache.getOrSet('g', 'dflt'), 'dflt');
      assert.equal(await cache.get('g'), 'dflt');
      let calls = 0;
      assert.equal(await cache.getOrSet('g', () => { calls++; return 'other'; }), 'dflt');
      assert.equal(calls, 0);
      assert.deepEqual(await cache.getOrSet('h', async () => { calls++; return [1, 2]; }, null), [1, 2]);
      assert.equal(calls, 1);
      assert.deepEqual(await cache.get('h'), [1, 2]);
      assert.equal(await cache.getOrSet('z', 'not kept', 0), 'not kept');
      assert.equal(await cache.hasKey('z'), false);
    });

    it('getMany returns found keys only; setMany returns the failed keys (none)', async () => {
      const data: Record<string, unknown> = {};
      for (let i = 0; i < 40; i++) data[`key${i}`] = i % 2 === 0 ? i : { i };
      assert.deepEqual(await cache.setMany(data), []);
      const got = await cache.getMany([...Object.keys(data), 'missing1', 'missing2']);
      assert.deepEqual(got, data);
      assert.deepEqual(await cache.getMany([]), {});
      assert.deepEqual(await cache.setMany(new Map([['m', 1]]), null), []);
      assert.equal(await cache.ttl('m'), null);
      assert.deepEqual(await cache.setMany({ m: 2 }, 0), []);
      assert.equal(await cache.hasKey('m'), false);
    });

    it('delete says whether the key was there; deleteMany removes them all', async () => {
      await cache.set('d', 1);
      assert.equal(await cache.delete('d'), true);
      assert.equal(await cache.delete('d'), false);
      await cache.setMany({ a: 1, b: 2, c: 3, d: 4, e: 5 });
      assert.equal(await cache.deleteMany(['a', 'b', 'c', 'd', 'nope']), undefined);
      assert.deepEqual(await cache.getMany(['a', 'b', 'c', 'd', 'e']), { e: 5 });
    });

    it('hasKey', async () => {
      assert.equal(await cache.hasKey('x'), false);
      await cache.set('x', null);
      assert.equal(await cache.hasKey('x'), true);
      assert.equal(await cache.get('x', 'dflt'), null);
    });

    it('incr/decr work on stored integers, keep the expiry, refuse missing keys', async () => {
      await cache.set('n', 10, 100);
      assert.equal(await cache.incr('n'), 11);
      assert.equal(await cache.incr('n', 10), 21);
      assert.equal(await cache.decr('n', 5), 16);
      assert.equal(await cache.decr('n'), 15);
      assert.equal(await cache.get('n'), 15);
      const ttl = await cache.ttl('n');
      assert.ok(ttl !== null && ttl > 90, `ttl ${ttl}`);
      await assert.rejects(cache.incr('missing'), (e: unknown) => e instanceof KeyNotFoundError && e.key === 'missing');
      await assert.rejects(cache.decr('missing'), KeyNotFoundError);
      assert.equal(await cache.hasKey('missing'), false);
      await cache.set('text', 'abc');
      await assert.rejects(cache.incr('text'), ReplyError);
      await assert.rejects(cache.incr('n', 1.5), TypeError);
    });

    it('touch sets a new timeout and says whether the key exists', async () => {
      assert.equal(await cache.touch('nope', 10), false);
      await cache.set('t', 1, 10);
      assert.equal(await cache.touch('t', 100), true);
      const ttl = await cache.ttl('t');
      assert.ok(ttl !== null && ttl > 90, `ttl ${ttl}`);
      assert.equal(await cache.touch('t', null), true);
      assert.equal(await cache.ttl('t'), null);
      assert.equal(await cache.touch('t', null), true);
      assert.equal(await cache.touch('t', 0), true);
      assert.equal(await cache.hasKey('t'), false);
    });

    it('ttl: seconds left, null without expiry, 0 when absent', async () => {
      assert.equal(await cache.ttl('absent'), 0);
      await cache.set('k', 1, 60);
      const t = await cache.ttl('k');
      assert.ok(t !== null && t > 55 && t <= 60);
    });

    it('versions isolate values; incrVersion/decrVersion move them', async () => {
      await cache.set('v', 'one', 100);
      await cache.set('v', 'two', null, 2);
      assert.equal(await cache.get('v'), 'one');
      assert.equal(await cache.get('v', null, 2), 'two');
      const v2 = new Cache(fx.backend, { version: 2 });
      assert.equal(await v2.get('v'), 'two');

      assert.equal(await cache.incrVersion('v', 2), 3);
      assert.equal(await cache.get('v'), null);
      assert.equal(await cache.get('v', null, 3), 'one');
      const ttl = await cache.ttl('v', 3);
      assert.ok(ttl !== null && ttl > 90, 'the expiry moves with the value');
      assert.equal(await cache.decrVersion('v', 1, 3), 2);
      assert.equal(await cache.get('v', null, 2), 'one');
      await assert.rejects(cache.incrVersion('none'), KeyNotFoundError);
    });

    it('clear with a prefix deletes only that prefix; without, the whole database', async () => {
      const mine = new Cache(fx.backend, { keyPrefix: 'mine' });
      const theirs = new Cache(fx.backend, { keyPrefix: 'mine2' });
      const data: Record<string, number> = {};
      for (let i = 0; i < 2500; i++) data[`k${i}`] = i;
      await mine.setMany(data);
      await theirs.set('k1', 'kept');
      await cache.set('k1', 'kept too');
      await fx.raw[0]!.set('plain', 'kept as well');
      await mine.clear();
      assert.deepEqual(await mine.getMany(['k1', 'k2', 'k2499']), {});
      assert.equal(await theirs.get('k1'), 'kept');
      assert.equal(await cache.get('k1'), 'kept too');
      assert.equal(await fx.raw[0]!.get('plain'), 'kept as well');
      for (const r of fx.raw) assert.equal((await r.scan(0, { match: 'mine:*', count: 10000 }))[1].length, 0);

      await cache.clear();
      for (const r of fx.raw) assert.equal(await r.dbsize(), 0);
    });

    it('takes a pluggable serializer, binary ones included', async () => {
      const v8cache = new Cache(fx.backend, { keyPrefix: 'v8', serializer: { dumps: (v) => serialize(v), loads: (b) => deserialize(b as Buffer), binary: true } });
      const value = { when: new Date(5), big: 2n ** 70n, map: new Map([[1, 'one']]), bytes: new Uint8Array([0, 255]) };
      await v8cache.set('k', value);
      assert.deepEqual(await v8cache.get('k'), value);
      assert.deepEqual(await v8cache.getMany(['k', 'missing']), { k: value });
      assert.equal(await v8cache.incrVersion('k'), 2);
      assert.deepEqual(await v8cache.get('k', null, 2), value);
      assert.throws(() => new Cache(fx.backend, { serializer: { dumps: JSON.stringify } as never }), /dumps\(value\) and loads\(data\)/);
    });

    it('bad arguments are TypeErrors, before anything is sent', async () => {
      await assert.rejects(cache.get(5 as unknown as string), TypeError);
      await assert.rejects(cache.set('k', 1, 'soon' as unknown as number), TypeError);
      await assert.rejects(cache.set('k', undefined), TypeError);
      await assert.rejects(cache.set('k', 1, Infinity), TypeError);
      await assert.rejects(cache.get('k', null, 1.5), TypeError);
      await assert.rejects(cache.setMany({ a: 1, b: () => 1 }), TypeError);
      assert.equal(await cache.hasKey('a'), false, 'no part of a bad setMany is sent');
      assert.throws(() => new Cache(fx.backend, { timout: 5 } as never), /did you mean 'timeout'/);
    });

    /** Connections every server has accepted so far (INFO stats). */
    const connectionsReceived = async (): Promise<number> => {
      const counts = await Promise.all(fx.raw.map(async (r) => Number(/total_connections_received:(\d+)/.exec(await r.call('INFO', 'stats') as string)![1])));
      return counts.reduce((a, b) => a + b, 0);
    };

    it('close() leaves the cache usable, as Django closes it after every request: the next call connects again', async () => {
      await cache.set('c', 1);
      const before = await connectionsReceived();
      for (let request = 1; request <= 3; request++) {
        await cache.close();
        assert.equal(await cache.get('c'), request);
        await cache.set('c', request + 1);
      }
      assert.ok((await connectionsReceived()) - before >= 3, 'each close() ended the sockets, and the next call opened new ones');
      assert.equal(await cache.incr('c'), 5);
      // Calls made while close() waits for the answers in flight are answered, on one socket or the next.
      const reads = Array.from({ length: 50 }, () => cache.get('c'));
      const closing = cache.close();
      const more = Array.from({ length: 50 }, () => cache.get('c'));
      await closing;
      assert.deepEqual(await Promise.all([...reads, ...more]), new Array(100).fill(5));
      // The backend itself is still open; its own close() is what ends it.
      const own = make(servers);
      const ownCache = new Cache(own);
      await ownCache.set('own', 1);
      await ownCache.close();
      assert.equal(await ownCache.get('own'), 1);
      await own.close();
      await assert.rejects(ownCache.get('own'), /closed/);
    });

    it("warns (CacheKeyWarning) about keys memcached cannot take, on every operation, as Django's validate_key; refuses none", async () => {
      const warnings: string[] = [];
      const onWarning = (w: Error): void => {
        if (w.name === 'CacheKeyWarning') warnings.push(w.message);
      };
      // Node's own listener prints every warning; this test makes dozens on purpose.
      const printers = process.listeners('warning');
      process.removeAllListeners('warning');
      process.on('warning', onWarning);
      const warned = async (op: () => Promise<unknown>): Promise<string[]> => {
        warnings.length = 0;
        await op().catch((err: unknown) => {
          if (!(err instanceof KeyNotFoundError)) throw err;
        });
        await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
        return warnings.slice();
      };
      try {
        const spaced = 'with space';
        const long = 'x'.repeat(248); // ':1:' makes it 251 characters
        const ops: Array<[string, (key: string) => Promise<unknown>]> = [
          ['set', (k) => cache.set(k, 1)],
          ['get', (k) => cache.get(k)],
          ['add', (k) => cache.add(k, 2)],
          ['getOrSet', (k) => cache.getOrSet(k, 3)],
          ['getMany', (k) => cache.getMany(['fine', k])],
          ['setMany', (k) => cache.setMany({ fine: 1, [k]: 1 })],
          ['hasKey', (k) => cache.hasKey(k)],
          ['incr', (k) => cache.incr(k)],
          ['decr', (k) => cache.decr(k)],
          ['touch', (k) => cache.touch(k, 100)],
          ['ttl', (k) => cache.ttl(k)],
          ['incrVersion', (k) => cache.incrVersion(k)],
          ['decrVersion', (k) => cache.decrVersion(k, 1, 2)],
          ['delete', (k) => cache.delete(k)],
          ['deleteMany', (k) => cache.deleteMany(['fine', k])],
        ];
        for (const [name, op] of ops) {
          const forSpace = await warned(() => op(spaced));
          assert.ok(forSpace.length >= 1 && forSpace.every((m) => /^Cache key contains characters that will cause errors if used with memcached: ":\d:with space"$/.test(m)), `${name}: ${JSON.stringify(forSpace)}`);
          const forLong = await warned(() => op(long));
          assert.ok(forLong.length >= 1 && forLong.every((m) => m.startsWith('Cache key will cause errors if used with memcached: ":') && m.endsWith(`:${long}" (longer than 250)`)), `${name}: ${JSON.stringify(forLong)}`);
        }
        // Nothing is refused: the keys work.
        assert.deepEqual(await warned(() => cache.set('tab\there', 'v')), ['Cache key contains characters that will cause errors if used with memcached: ":1:tab\\there"']);
        assert.equal(await cache.get('tab\there'), 'v');
        assert.equal((await warned(() => cache.set('del\x7f', 1))).length, 1);
        await cache.set(long, 'long');
        assert.equal(await cache.get(long), 'long');
        // 250 characters is allowed, counted as characters (code points), not UTF-16 units.
        assert.deepEqual(await warned(() => cache.set('y'.repeat(247), 1)), []);
        assert.deepEqual(await warned(() => cache.set('😀'.repeat(247), 1)), []);
        assert.equal(await cache.get('😀'.repeat(247)), 1);
        assert.equal((await warned(() => cache.get('😀'.repeat(248)))).length, 1);
        assert.deepEqual(await warned(() => cache.get('fine')), []);
      } finally {
        process.off('warning', onWarning);
        for (const printer of printers) process.on('warning', printer);
      }
    });
  });
}
