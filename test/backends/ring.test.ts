/**
 * RedisRing on real servers: the reference's usage, placement as the vectors say, reads and
 * writes and their return shapes, keys split across nodes, keys that must be together, and
 * commands this library never names, routed by what the server says about them.
 */
import { Buffer } from 'node:buffer';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { beforeEach, describe, it } from 'node:test';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { NodesFailedError, RedisRing } from '../../src/backends/index.ts';
import { ConnectionError, CrossNodeError, ReplyError } from '../../src/errors.ts';
import { useClients } from '../helpers/clients.ts';
import { apart as keysApart } from '../helpers/keys.ts';
import { useServers, type RedisServer } from '../helpers/servers.ts';

let servers: RedisServer[];
let ring: RedisRing;
/** Each server on its own, to see where keys really are. */
let direct: ConstRedis[];

/** Which servers hold `key`, by asking each one directly. */
async function holders(key: string): Promise<number[]> {
  const found = await Promise.all(direct.map((d) => d.exists(key)));
  return found.flatMap((f, i) => (f === true ? [i] : []));
}

/** Keys named `${prefix}${i}` until there is one on each node, then some more. */
function keysOnEveryNode(prefix: string, count = 12): string[] {
  const keys: string[] = [];
  const seen = new Set<number>();
  for (let i = 0; keys.length < count || seen.size < 3; i++) {
    keys.push(`${prefix}${i}`);
    seen.add(ring.nodeIndexFor(`${prefix}${i}`));
  }
  return keys;
}

/** Two keys on different nodes of the ring. */
const apart = (prefix: string): [string, string] => keysApart(ring, prefix);

describe('RedisRing on three servers', () => {
  // LFU so that OBJECT FREQ answers: it is one of the commands routed purely from COMMAND INFO.
  servers = useServers(3, ['--maxmemory-policy', 'allkeys-lfu']);

  useClients(() => {
    ring = new RedisRing(servers.map((s) => s.address), { DB: 0, OPTIONS: { socket_timeout: 5, socket_connect_timeout: 5 } });
    direct = servers.map((s) => new ConstRedis(s.url));
    return [ring, ...direct];
  });
  beforeEach(async () => {
    await Promise.all(direct.map((d) => d.flushdb()));
  });

  describe('the reference quick usage guide through RedisRing', () => {
    it("set('one_key', 123) → [true], on one node only", async () => {
      assert.deepEqual(await ring.set('one_key', 123), [true]);
      assert.deepEqual(await holders('one_key'), [ring.nodeIndexFor('one_key')]);
      assert.equal(await ring.get('one_key'), '123');
      assert.equal(await ring.nodeFor('one_key').get('one_key'), '123');
      assert.equal(ring.get_node('one_key'), ring.nodes[ring.nodeIndexFor('one_key')]);
    });

    it('sorted sets: writes give one result per node written, reads give the reply', async () => {
      assert.deepEqual(await ring.zadd('myzset', 1, 'one'), [1]);
      assert.deepEqual(await ring.zadd('myzset', 2, 'two'), [1]);
      assert.deepEqual(await ring.zadd('myzset', 3, 'three'), [1]);
      assert.deepEqual(await ring.zadd('myzset', 3, 'three'), [0]);
      assert.deepEqual(await ring.zrange('myzset', 0, -1), ['one', 'two', 'three']);
      assert.deepEqual(await ring.zrange('myzset', 0, -1, { withscores: true }), [['one', 1], ['two', 2], ['three', 3]]);
      assert.deepEqual(await holders('myzset'), [ring.nodeIndexFor('myzset')]);
    });
  });

  describe('placement on real servers', () => {
    it('every key is stored on the node the continuum names, and only there', async () => {
      const keys = keysOnEveryNode('place:', 60);
      for (const key of keys) assert.deepEqual(await ring.set(key, key), [true]);
      const stored = await Promise.all(direct.map((d) => d.keys('*')));
      for (let n = 0; n < 3; n++) {
        const expected = keys.filter((k) => ring.nodeIndexFor(k) === n).sort();
        assert.deepEqual((stored[n] as string[]).sort(), expected);
        assert.ok(expected.length > 0);
      }
    });

    for (const [mode, file, caseId] of [['ketama', 'ketama-libmemcached.json', 'equal-3'], ['hash_ring', 'hash-ring.json', 'equal-3']] as const) {
      it(`${mode}: keys land where the independent vectors (${file}, ${caseId}) say`, async () => {
        const c = (JSON.parse(readFileSync(new URL(`../hash/vectors/${file}`, import.meta.url), 'utf8')) as {
          cases: Array<{ id: string; nodes: Array<{ name: string }>; keys: Array<[string, number, number]> }>;
        }).cases.find((x) => x.id === caseId)!;
        // The real servers take the vector nodes' names, so the continuum is the same.
        const placed = new RedisRing({
          nodes: servers.map((s, i) => ({ host: s.host, port: s.port, name: c.nodes[i]!.name })),
          hashing: mode,
          hash_tag: null,
        });
        try {
          const sample = c.keys.filter(([k]) => k !== '').slice(0, 80);
          await Promise.all(sample.map(([key]) => placed.set(key, 'v')));
          for (const [key, , expected] of sample) assert.deepEqual(await holders(key), [expected], `key ${JSON.stringify(key)}`);
        } finally {
          await placed.close();
        }
      });
    }
  });

  describe('keys on several nodes', () => {
    it('mset is split per node (one result per node touched); mget merges in the caller order', async () => {
      const keys = keysOnEveryNode('m:');
      const mapping = Object.fromEntries(keys.map((k) => [k, `v-${k}`]));
      assert.deepEqual(await ring.mset(mapping), [true, true, true]);
      for (const k of keys) assert.equal(await ring.nodeFor(k).get(k), `v-${k}`);
      const asked = [...keys].reverse();
      asked.splice(3, 0, 'm:missing');
      assert.deepEqual(await ring.mget(asked), asked.map((k) => (k === 'm:missing' ? null : `v-${k}`)));
      assert.deepEqual(await ring.mget(keys[0]!, [keys[1]!, keys[2]!]), [`v-${keys[0]}`, `v-${keys[1]}`, `v-${keys[2]}`]);
    });

    it('exists and touch sum their counts; delete and unlink give one count per node touched', async () => {
      const keys = keysOnEveryNode('d:');
      await ring.mset(Object.fromEntries(keys.map((k) => [k, 1])));
      assert.equal(await ring.exists(keys), keys.length);
      assert.equal(await ring.exists(...keys, 'd:missing', keys[0]!), keys.length + 1);
      assert.equal(await ring.exists(keys[0]!), true);
      assert.equal(await ring.touch(keys), keys.length);
      const half = keys.slice(0, keys.length / 2);
      const perNode = [0, 1, 2].map((n) => half.filter((k) => ring.nodeIndexFor(k) === n).length).filter((c) => c > 0);
      assert.deepEqual(await ring.delete(...half), perNode);
      assert.equal(await ring.exists(keys), keys.length - half.length);
      const rest = keys.slice(half.length);
      const unlinked = (await ring.unlink(rest)) as number[];
      assert.equal(unlinked.reduce((a, b) => a + b, 0), rest.length);
      assert.deepEqual(await Promise.all(direct.map((d) => d.dbsize())), [0, 0, 0]);
    });

    it('commands whose keys must be together reject with CrossNodeError and send nothing', async () => {
      const [a, b] = apart('x');
      await ring.set(a, 'A');
      await ring.sadd(a + ':s', 'm');
      const cases: Array<[string, () => Promise<unknown>]> = [
        ['rename', () => ring.rename(a, b)],
        ['smove', () => ring.smove(...apart('sm'), 'm')],
        ['sinterstore', () => ring.sinterstore(...apart('si'))],
        ['sinter', () => ring.sinter(...apart('si2'))],
        ['rpoplpush', () => ring.rpoplpush(...apart('rp'))],
        ['eval with several keys', () => ring.eval("return redis.call('set', KEYS[1], 1)", 2, ...apart('ev'))],
        ['msetnx', () => ring.msetnx({ [apart('mx')[0]]: 1, [apart('mx')[1]]: 2 })],
        ['lmpop', () => ring.lmpop(2, ...apart('lm'), 'LEFT')],
      ];
      for (const [name, run] of cases) {
        await assert.rejects(run(), (err: unknown) => {
          assert.ok(err instanceof CrossNodeError, `${name}: ${String(err)}`);
          assert.match(err.message, /needs all its keys on one node, but ".*" is on 127\.0\.0\.1:\d+ and ".*" is on 127\.0\.0\.1:\d+; give the keys a common hash tag/);
          return true;
        });
      }
      // Nothing ran: the rename source is still there, and no node holds any other key.
      assert.equal(await ring.get(a), 'A');
      const all = (await Promise.all(direct.map((d) => d.keys('*')))).flat() as string[];
      assert.deepEqual(all.sort(), [a, a + ':s'].sort());
    });

    it('the same commands run when hash tags put the keys on one node', async () => {
      const t = (s: string): string => `{user42}:${s}`;
      const node = ring.nodeIndexFor('user42');
      await ring.set(t('a'), 'A');
      assert.deepEqual(await ring.rename(t('a'), t('b')), [true]);
      assert.equal(await ring.get(t('b')), 'A');
      await ring.sadd(t('s1'), 'm', 'n');
      await ring.sadd(t('s2'), 'n');
      assert.deepEqual(await ring.smove(t('s1'), t('s2'), 'm'), [true]);
      assert.deepEqual(await ring.sinterstore(t('s3'), t('s1'), t('s2')), [1]);
      await ring.rpush(t('l1'), 'x', 'y');
      assert.deepEqual(await ring.rpoplpush(t('l1'), t('l2')), ['y']);
      assert.deepEqual(await ring.lmpop(2, t('l0'), t('l1'), 'LEFT'), [[t('l1'), ['x']]]);
      assert.deepEqual(await ring.eval("return redis.call('incr', KEYS[1]) + redis.call('incr', KEYS[2])", 2, t('c1'), t('c2')), [2]);
      assert.deepEqual(await ring.msetnx({ [t('n1')]: 1, [t('n2')]: 2 }), [true]);
      const onNode = (await direct[node]!.keys('{user42}:*')) as string[];
      // b, s1, s2, s3, l2, c1, c2, n1, n2 (l1 was emptied, so it is gone), all on the tag's node.
      assert.deepEqual(onNode.sort(), ['b', 'c1', 'c2', 'l2', 'n1', 'n2', 's1', 's2', 's3'].map(t));
      assert.equal((await Promise.all(direct.map((d) => d.dbsize()))).reduce((x, y) => (x as number) + (y as number), 0), 9);
    });
  });

  describe('commands this library never names, routed by COMMAND INFO', () => {
    it('getex (a write: one result per node written) changes the TTL on the key node only', async () => {
      await ring.set('gx', 'v');
      assert.deepEqual(await ring.getex('gx', 'EX', 100), ['v']);
      const ttl = (await ring.nodeFor('gx').ttl('gx')) as number;
      assert.ok(ttl > 90 && ttl <= 100, `ttl ${ttl}`);
    });

    it('object_freq / objectFreq (a container subcommand, a read) goes to the key node', async () => {
      // On any other node OBJECT FREQ would fail with "no such key": a number proves the routing.
      for (const key of keysOnEveryNode('of:', 6)) {
        await ring.set(key, 'v');
        assert.equal(typeof (await ring.object_freq(key)), 'number');
        assert.equal(typeof (await ring.objectFreq(key)), 'number');
        assert.equal(await ring.object_encoding(key), 'embstr');
      }
    });

    it('lmpop (keys found through a key count) goes to the node of its keys', async () => {
      const key = 'lm:{k}';
      await ring.rpush(key, 'a', 'b', 'c');
      assert.deepEqual(await ring.lmpop(1, key, 'RIGHT', 'COUNT', 2), [[key, ['c', 'b']]]);
      assert.deepEqual(await ring.nodeFor(key).lrange(key, 0, -1), ['a']);
    });

    it('a raw call is routed the same way, and an unknown command takes its first argument as the key', async () => {
      assert.deepEqual(await ring.call('SET', 'raw', 'v'), ['OK']);
      assert.equal(await ring.nodeFor('raw').get('raw'), 'v');
      assert.equal(await ring.execute_command('GET', 'raw'), 'v');
      await assert.rejects(ring.call('NOSUCHCOMMAND', 'raw'), (err: unknown) => err instanceof ReplyError && /unknown command/i.test(err.message));
    });
  });

  describe('commands without keys run on every node', () => {
    it('ping, dbsize, keys, flushdb and config_get give one result per node', async () => {
      const keys = keysOnEveryNode('kl:');
      await ring.mset(Object.fromEntries(keys.map((k) => [k, 1])));
      assert.deepEqual(await ring.ping(), [true, true, true]);
      const sizes = await Promise.all(direct.map((d) => d.dbsize()));
      assert.deepEqual(await ring.dbsize(), sizes);
      const perNode = (await ring.keys('kl:*')) as string[][];
      assert.equal(perNode.length, 3);
      assert.deepEqual(perNode.flat().sort(), [...keys].sort());
      const configs = (await ring.config_get('maxmemory-policy')) as Array<Record<string, string>>;
      assert.deepEqual(configs, [0, 1, 2].map(() => ({ 'maxmemory-policy': 'allkeys-lfu' })));
      assert.deepEqual(await ring.flushdb(), [true, true, true]);
      assert.deepEqual(await ring.dbsize(), [0, 0, 0]);
    });
  });

  describe('bad input and unusual shapes', () => {
    it('rejects bad arguments with a TypeError before sending', async () => {
      // Both are type errors too; from JavaScript they must still be refused before sending.
      // @ts-expect-error set needs a value
      await assert.rejects(ring.set('only-a-name'), TypeError);
      // @ts-expect-error no such option
      await assert.rejects(ring.set('k', 'v', { ex: 1, bogus: true }), /unknown option 'bogus'/);
      assert.deepEqual(await Promise.all(direct.map((d) => d.dbsize())), [0, 0, 0]);
    });

    it('keys may be Buffers, and land where their string does', async () => {
      const key = 'buf:key';
      assert.deepEqual(await ring.set(Buffer.from(key), 'b'), [true]);
      assert.equal(await ring.nodeFor(key).get(key), 'b');
      assert.deepEqual(await ring.mget([Buffer.from(key), 'buf:none']), ['b', null]);
    });

    it('a ring of one node: writes still give a list of one', async () => {
      const one = new RedisRing([servers[0]!.address]);
      try {
        assert.deepEqual(await one.set('solo', 1), [true]);
        assert.equal(await one.get('solo'), '1');
        assert.deepEqual(await one.mset({ s1: 1, s2: 2, s3: 3 }), [true]);
        assert.deepEqual(await one.mget('s1', 's2', 's3'), ['1', '2', '3']);
        assert.deepEqual(await one.ping(), [true]);
        assert.deepEqual(await one.delete('s1', 's2', 's3', 'solo'), [4]);
      } finally {
        await one.close();
      }
    });
  });

  describe('a node that is down', () => {
    const spare = useServers(2);

    it('fails only the commands that need it, with a connection error, within the timeout', async () => {
      const r = new RedisRing(spare.map((s) => s.address), { OPTIONS: { socket_timeout: 2, socket_connect_timeout: 2 } });
      try {
        const keys = Array.from({ length: 20 }, (_, i) => `down:${i}`);
        await r.mset(Object.fromEntries(keys.map((k) => [k, k])));
        await spare[1]!.kill();
        const alive = keys.filter((k) => r.nodeIndexFor(k) === 0);
        const dead = keys.filter((k) => r.nodeIndexFor(k) === 1);
        assert.ok(alive.length > 0 && dead.length > 0);
        for (const k of alive) assert.equal(await r.get(k), k);
        await assert.rejects(r.get(dead[0]!), ConnectionError);
        await assert.rejects(r.mget(keys), ConnectionError);
        // One result per node: the dead node's slot holds its error.
        const pings = (await r.ping()) as unknown[];
        assert.equal(pings[0], true);
        assert.ok(pings[1] instanceof ConnectionError);
        const deleted = (await r.delete(...keys)) as unknown[];
        assert.equal(deleted[0], alive.length);
        assert.ok(deleted[1] instanceof ConnectionError);
        await spare[0]!.kill();
        await assert.rejects(r.ping(), (err: unknown) => err instanceof NodesFailedError && err.errors.length === 2);
      } finally {
        await r.close();
      }
    });
  });
});
