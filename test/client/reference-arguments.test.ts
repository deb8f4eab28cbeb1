import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { referenceParameters } from '../../src/client/conventions.ts';
import { useClients } from '../helpers/clients.ts';
import { useServers } from '../helpers/servers.ts';

describe("ConstRedis: the reference's arguments", () => {
  const servers = useServers(1);
  let r: ConstRedis;
  useClients(() => [(r = new ConstRedis({ port: servers[0]!.port }))]);

  it('zinterstore / zunionstore take keys as a { key: weight } mapping, with aggregate as a keyword', async () => {
    await r.zadd('w:a', { x: 1, y: 1 });
    await r.zadd('w:b', { x: 2, y: 2 });
    await r.zadd('w:c', { x: 3 });
    assert.equal(await r.zinterstore('w:d', { 'w:a': 1, 'w:b': 2, 'w:c': 3 }), 1);
    assert.deepEqual(await r.zrange('w:d', 0, -1, { withscores: true }), [['x', 1 + 4 + 9]]);
    assert.equal(await r.zunionstore('w:u', { 'w:a': 1, 'w:b': 2, 'w:c': 3 }), 2);
    assert.deepEqual(await r.zrange('w:u', 0, -1, { withscores: true }), [['y', 5], ['x', 14]]);
    assert.equal(await r.zunionstore('w:m', { 'w:a': 1, 'w:b': 2, 'w:c': 3 }, { aggregate: 'MAX' }), 2);
    assert.deepEqual(await r.zrange('w:m', 0, -1, { withscores: true }), [['y', 4], ['x', 9]]);
    assert.equal(await r.zinterstore('w:n', ['w:a', 'w:b'], { aggregate: 'MIN' }), 2);
    assert.deepEqual(await r.zrange('w:n', 0, -1, { withscores: true }), [['x', 1], ['y', 1]]);
    assert.equal(await r.zinterstore('w:p', { 'w:a': 2, 'w:b': 1 }, 'MAX'), 2);
    assert.deepEqual(await r.zrange('w:p', 0, -1, { withscores: true }), [['x', 2], ['y', 2]]);
    // A key named like the keyword is still a key of the mapping.
    await r.zadd('aggregate', { x: 5 });
    assert.equal(await r.zunionstore('w:q', { aggregate: 2 }), 1);
    assert.deepEqual(await r.zrange('w:q', 0, -1, { withscores: true }), [['x', 10]]);
  });
});

describe("ConstRedis: the reference's parameters as keywords", () => {
  const servers = useServers(1);
  let r: ConstRedis;
  useClients(() => [(r = new ConstRedis({ port: servers[0]!.port }))]);

  it('takes amount, timeout, number and pattern as keywords, as Python callers write them', async () => {
    assert.equal(await r.incr('k:n', { amount: 5 }), 5);
    assert.equal(await r.decr('k:n', { amount: 2 }), 3);
    assert.equal(await r.incrby('k:n', { amount: 10 }), 13);
    assert.equal(await r.incr({ name: 'k:n', amount: 1 } as never), 14);
    assert.equal(await r.hincrby('k:h', 'f', { amount: 7 }), 7);
    assert.equal(await r.hincrbyfloat('k:h', 'g', { amount: 1.5 }), 1.5);
    assert.equal(await r.zincrby('k:z', 'm', { amount: 2.5 }), 2.5);
    assert.equal(await r.zscore('k:z', 'm'), 2.5);
    await r.rpush('k:l1', 'a');
    assert.deepEqual(await r.blpop(['k:l0', 'k:l1'], { timeout: 1 }), ['k:l1', 'a']);
    await r.rpush('k:l1', 'b');
    assert.deepEqual(await r.brpop('k:l0', 'k:l1', { timeout: 1 }), ['k:l1', 'b']);
    // The keyword timeout reaches the server: an empty list is given up on after it, not never.
    const started = Date.now();
    assert.equal(await r.brpoplpush('k:empty', 'k:dst', { timeout: 0.2 }), null);
    assert.ok(Date.now() - started >= 150, `waited ${Date.now() - started} ms`);
    await r.rpush('k:src', 'x');
    assert.equal(await r.brpoplpush('k:src', 'k:dst', { timeout: 1 }), 'x');
    await r.sadd('k:s', 'a', 'b', 'c');
    const two = await r.srandmember('k:s', { number: 2 });
    assert.ok(Array.isArray(two) && two.length === 2 && two.every((m) => ['a', 'b', 'c'].includes(String(m))), String(two));
    assert.deepEqual((await r.keys({ pattern: 'k:[sz]' })).sort(), ['k:s', 'k:z']);
    assert.ok((await r.keys({})).length > 3);
  });

  it('takes any named parameter as a keyword, beside the options a command already had', async () => {
    // Required parameters as keywords are accepted but typed by position only.
    const py = r as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    assert.equal(await py.set!({ name: 'p:a', value: 'v', ex: 100 }), true);
    assert.ok((await r.ttl('p:a')) > 90);
    assert.equal(await py.getrange!('p:a', { start: 0, end: 0 }), 'v');
    assert.equal(await py.psetex!('p:b', { time_ms: 5000, value: 1 }), true);
    assert.equal(await py.psetex!('p:c', { timeMs: 5000, value: 2 }), true);
    assert.ok((await r.pttl('p:c')) > 4000);
    await r.rpush('p:l', 'a', 'b', 'a', 'c');
    assert.equal(await py.lrem!('p:l', { count: 0, value: 'a' }), 2);
    assert.deepEqual(await py.lrange!({ name: 'p:l', start: 0, end: -1 }), ['b', 'c']);
    await r.zadd('p:z', { one: 1, two: 2, three: 3 });
    assert.deepEqual(await py.zrange!('p:z', { start: 0, end: 1, withscores: true }), [['one', 1], ['two', 2]]);
    assert.deepEqual(await py.zrevrangebyscore!('p:z', { max: 3, min: 2 }), ['three', 'two']);
    assert.equal(await py.expire!('p:z', { time: 100 }), true);
    await r.hset('p:h', { f1: 'a', f2: 'b' });
    const [cursor, fields] = await r.hscan('p:h', { cursor: 0, match: 'f1' });
    assert.equal(cursor, 0);
    assert.deepEqual(fields, { f1: 'a' });
    assert.deepEqual(await py.hmget!('p:h', { keys: ['f1', 'f2'] }), ['a', 'b']);
    assert.equal((await r.info({ section: 'server' }))['tcp_port'], servers[0]!.port);
    assert.deepEqual(await r.config_get({ pattern: 'maxmemory-policy' }), { 'maxmemory-policy': 'noeviction' });
    assert.equal(await py.substr!('p:a', { start: 0 }), 'v');
    assert.equal(await py.eval!({ script: 'return #KEYS', numkeys: 2, keys_and_args: ['x', 'y'] }), 2);
    // Pipelines follow the same conventions.
    assert.deepEqual(await r.pipeline().incr('p:n', { amount: 3 }).zincrby('p:z', 'one', { amount: 1 }).exec(), [3, 2]);
  });

  it('refuses keyword mistakes before anything is sent, as Python would', async () => {
    const py = r as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const before = (await r.info('stats'))['total_commands_processed'] as number;
    await assert.rejects(py.incr!('e:n', 2, { amount: 3 }), (e: unknown) => e instanceof TypeError && /incr: got multiple values for argument 'amount'/.test(e.message));
    await assert.rejects(r.incr({ amount: 3 } as never), (e: unknown) => e instanceof TypeError && /incr: missing argument 'name'/.test(e.message));
    await assert.rejects(r.incr('e:n', { amout: 3 } as never), (e: unknown) => e instanceof TypeError && /incr: unknown keyword 'amout'; expected one of: name, amount/.test(e.message));
    await assert.rejects(py.getrange!('e:n', { start: 0 }), /getrange: missing argument 'end'/);
    await assert.rejects(py.get!({}), /get: missing argument 'name'/);
    await assert.rejects(py.set!('e:n', { ex: 1 }), /set: missing argument 'value'/);
    await assert.rejects(r.set('e:n', 1, { ttl: 1 } as never), /set: unknown option 'ttl'/);
    const afterCount = (await r.info('stats'))['total_commands_processed'] as number;
    assert.equal(afterCount - before, 1); // the INFO itself
  });

  it('places every parameter of every reference method as its position would', () => {
    const sample = (p: string, i: number): unknown => (p.startsWith('*') ? [`r${i}a`, `r${i}b`] : p.startsWith('&') ? { [`m${i}`]: i + 1 } : `v${i}`);
    let checked = 0;
    for (const method of referenceMethods) {
      const params = referenceParameters(method);
      assert.ok(params !== undefined, method);
      if (params.length === 0) continue;
      const positional = params.map(sample);
      const keywords = Object.fromEntries(params.map((p, i) => [p.replace(/^[*&]/, ''), positional[i]]));
      const outcome = (args: unknown[]): unknown => {
        try {
          const spec = r.prepare(method, args);
          assert.ok(!(spec instanceof Promise), method);
          return spec.argv;
        } catch (err) {
          return (err as Error).message;
        }
      };
      assert.deepEqual(outcome([keywords]), outcome(positional), method);
      // The last parameter alone as a keyword, the others positional (an object where a
      // mapping may stand is that mapping, so a mapping parameter is left out here).
      const lastName = params[params.length - 1]!.replace(/^[*&]/, '');
      if (!params[params.length - 1]!.startsWith('&')) assert.deepEqual(outcome([...positional.slice(0, -1), { [lastName]: positional[positional.length - 1] }]), outcome(positional), `${method} ${lastName}`);
      checked++;
    }
    assert.ok(checked > 100, `${checked} methods`);
  });
});

/** Every method of the reference's method list that sends a command (not pipeline, lock, ...). */
const referenceMethods = `append bitcount bitop bitpos blpop brpop brpoplpush client_kill client_setname config_get
  config_set debug_object decr delete dump echo eval evalsha exists expire expireat get getbit getrange getset hdel
  hexists hget hgetall hincrby hincrbyfloat hkeys hlen hmget hmset hscan hset hsetnx hvals incr incrby incrbyfloat
  info keys lindex linsert llen lpop lpush lpushx lrange lrem lset ltrim mget move object persist pexpire pexpireat
  pfadd pfcount pfmerge psetex pttl publish rename renamenx restore rpop rpoplpush rpush rpushx sadd scan scard
  script_exists script_load sdiff sdiffstore sentinel sentinel_get_master_addr_by_name sentinel_master
  sentinel_monitor sentinel_remove sentinel_sentinels sentinel_set sentinel_slaves set setbit setex setnx setrange
  sinter sinterstore sismember slaveof slowlog_get smembers smove sort spop srandmember srem sscan strlen substr
  sunion sunionstore ttl type watch zcard zcount zincrby zinterstore zlexcount zrange zrangebylex zrangebyscore
  zrank zrem zremrangebylex zremrangebyrank zremrangebyscore zrevrange zrevrangebyscore zrevrank zscan zscore
  zunionstore`.split(/\s+/);

describe('ConstRedis: set_response_callback', () => {
  const servers = useServers(1);
  let r: ConstRedis;
  let other: ConstRedis;
  before(() => {
    r = new ConstRedis({ port: servers[0]!.port });
    other = new ConstRedis({ port: servers[0]!.port });
  });
  after(async () => {
    await Promise.all([r.close(), other.close()]);
  });

  it("replaces how this client shapes a command's reply, which it receives as Redis sent it", async () => {
    const seen: unknown[] = [];
    assert.equal(r.set_response_callback('GET', (reply) => {
      seen.push(reply);
      return reply === null ? 0 : Number(reply) * 2;
    }), undefined); // a method of the client, not a command sent as SET RESPONSE-CALLBACK
    assert.equal(await r.set('cb:n', 21), true);
    assert.equal(await r.get('cb:n'), 42);
    assert.equal(await r.get('cb:none'), 0);
    assert.deepEqual(seen, ['21', null]);
    assert.equal(await other.get('cb:n'), '21'); // another client keeps its own shapes
    // It replaces the reference's shaping too: ZSCORE's callback gets the score's text, HGETALL's the flat list.
    r.setResponseCallback('zscore', (reply) => ({ raw: reply }));
    await r.zadd('cb:z', { m: 2.5 });
    assert.deepEqual(await r.zscore('cb:z', 'm'), { raw: '2.5' });
    r.set_response_callback('HGETALL', (reply) => reply);
    await r.hset('cb:h', { f: 'v' });
    assert.deepEqual(await r.hgetall('cb:h'), ['f', 'v']);
    r.set_response_callback('client  getname', (reply) => `name: ${String(reply)}`);
    assert.equal(await r.client_getname(), 'name: null');
    // Pipelines and transactions shape their replies the same way.
    assert.deepEqual(await r.pipeline({ transaction: false }).get('cb:n').zscore('cb:z', 'm').exec(), [42, { raw: '2.5' }]);
    assert.deepEqual(await r.pipeline().get('cb:n').exec(), [42]);
    // Error replies still reject; a bad callback is refused at once.
    await r.set('cb:str', 'x');
    await assert.rejects(r.hgetall('cb:str'), /WRONGTYPE/);
    assert.throws(() => r.set_response_callback('GET', 'nope' as never), TypeError);
    assert.throws(() => r.set_response_callback('', () => 1), TypeError);
  });
});
