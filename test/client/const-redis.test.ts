import { Buffer } from 'node:buffer';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { ReplyError } from '../../src/errors.ts';
import { useClients } from '../helpers/clients.ts';
import { useServers } from '../helpers/servers.ts';

describe('ConstRedis: the reference on one node', () => {
  const servers = useServers(1);
  let r: ConstRedis;
  useClients(() => {
    r = new ConstRedis({ port: servers[0]!.port });
    return [r];
  });

  it('runs the quick usage guide with its return values', async () => {
    assert.equal(await r.set('one_key', 123), true);
    assert.equal(await r.get('one_key'), '123');
    assert.equal(await r.zadd('myzset', 1, 'one'), 1);
    assert.equal(await r.zadd('myzset', 2, 'two'), 1);
    assert.equal(await r.zadd('myzset', { three: 3 }), 1);
    assert.deepEqual(await r.zrange('myzset', 0, -1), ['one', 'two', 'three']);
    assert.deepEqual(await r.zrange('myzset', 0, -1, { withscores: true }), [['one', 1], ['two', 2], ['three', 3]]);
    assert.deepEqual(await r.zrange('myzset', 0, -1, { desc: true }), ['three', 'two', 'one']);
    assert.deepEqual(await r.zrangebyscore('myzset', 2, '+inf', { withscores: true }), [['two', 2], ['three', 3]]);
    assert.deepEqual(await r.zrangebyscore('myzset', '-inf', '+inf', { start: 1, num: 1 }), ['two']);
  });

  it('returns booleans where the reference says boolean', async () => {
    await r.set('b:1', 'x');
    assert.equal(await r.exists('b:1'), true);
    assert.equal(await r.exists('b:missing'), false);
    assert.equal(await r.exists('b:1', 'b:missing', 'b:1'), 2);
    assert.equal(await r.expire('b:1', 100), true);
    assert.equal(await r.expire('b:missing', 100), false);
    assert.equal(await r.persist('b:1'), true);
    assert.equal(await r.setnx('b:1', 'y'), false);
    assert.equal(await r.setnx('b:2', 'y'), true);
    assert.equal(await r.msetnx({ 'b:3': 1, 'b:4': 2 }), true);
    assert.equal(await r.msetnx({ 'b:4': 1, 'b:5': 2 }), false);
    assert.equal(await r.renamenx('b:3', 'b:4'), false);
    assert.equal(await r.sadd('b:set', 'm'), 1);
    assert.equal(await r.sismember('b:set', 'm'), true);
    assert.equal(await r.sismember('b:set', 'n'), false);
    assert.equal(await r.hset('b:h', 'f', 'v'), 1);
    assert.equal(await r.hexists('b:h', 'f'), true);
    assert.equal(await r.setbit('b:bits', 7, 1), false);
    assert.equal(await r.getbit('b:bits', 7), true);
    assert.equal(await r.set('b:nx', 'v', { nx: true }), true);
    assert.equal(await r.set('b:nx', 'v', { nx: true }), null);
    assert.equal(await r.expireat('b:nx', new Date(Date.now() + 60_000)), true);
    const ttl = await r.ttl('b:nx');
    assert.ok(ttl > 50 && ttl <= 60, `ttl ${ttl}`);
    assert.equal(await r.move('b:2', 3), true);
  });

  it('returns objects, dates, pairs and parsed texts', async () => {
    await r.hmset('o:h', { a: 1, b: 'two' });
    assert.deepEqual(await r.hgetall('o:h'), { a: '1', b: 'two' });
    assert.deepEqual(await r.hgetall('o:none'), {});
    assert.deepEqual(await r.config_get('maxmemory-policy'), { 'maxmemory-policy': 'noeviction' });
    const info = await r.info();
    assert.equal(typeof info['redis_version'], 'string');
    assert.equal(info['tcp_port'], servers[0]!.port);
    const server = await r.info('server');
    assert.equal(server['tcp_port'], servers[0]!.port);
    assert.ok((await r.lastsave()) instanceof Date);
    const [sec, micros] = await r.time();
    assert.ok(Math.abs(sec - Date.now() / 1000) < 60 && micros >= 0 && micros < 1e6);
    assert.equal(await r.ping(), true);
    assert.equal(await r.client_setname('tester'), true);
    assert.equal(await r.client_getname(), 'tester');
    const clients = await r.client_list();
    assert.ok(clients.some((c) => c['name'] === 'tester'));
    assert.equal(await r.incrbyfloat('o:f', 1.5), 1.5);
    assert.equal(await r.zincrby('o:z', 'm', 2.5), 2.5);
    assert.equal(await r.zscore('o:z', 'm'), 2.5);
    assert.equal(await r.zscore('o:z', 'none'), null);
    const [cursor, items] = await r.hscan('o:h');
    assert.equal(cursor, 0);
    assert.deepEqual(items, { a: '1', b: 'two' });
    const sha = await r.script_load('return 1');
    assert.deepEqual(await r.script_exists(sha, '0'.repeat(40)), [true, false]);
    assert.equal(await r.incr('o:n'), 1);
    assert.equal(await r.incr('o:n', 5), 6);
    assert.equal(await r.decr('o:n', 2), 4);
    assert.deepEqual(await r.mget(['o:n', 'o:missing'], 'o:f'), ['4', null, '1.5']);
    await r.rpush('o:l', 3, 1, 2);
    assert.deepEqual(await r.sort('o:l'), ['1', '2', '3']);
    assert.deepEqual(await r.sort('o:l', { desc: true, start: 0, num: 2 }), ['3', '2']);
  });

  it('maps any method name to a command, including ones it never heard of', async () => {
    await r.set('any:k', 'hello');
    assert.equal(await r.objectEncoding('any:k'), 'embstr');
    assert.equal(await r.object_encoding('any:k'), 'embstr');
    assert.equal(await r.getex('any:k', 'EX', 100), 'hello');
    assert.ok((await r.ttl('any:k')) > 0);
    assert.equal(await r.memoryUsage('any:k') !== null, true);
    assert.deepEqual(await r.hGetAll('o:h'), { a: '1', b: 'two' }); // camelCase of a one-word command
    assert.equal(await r.call('GET', 'any:k'), 'hello');
    assert.equal(await r.execute_command('STRLEN', 'any:k'), 5);
    assert.equal(await r['CLIENT GETNAME'](), 'tester');
    await r.rpush('any:list', 'a', 'b');
    assert.deepEqual(await r.lmpop(2, 'any:none', 'any:list', 'LEFT'), ['any:list', ['a']]);
  });

  it('is not a thenable and does not turn probes into commands', async () => {
    assert.equal((r as unknown as { then?: unknown }).then, undefined);
    const same = await Promise.resolve(r);
    assert.equal(same, r);
  });

  it('carries the Redis error code', async () => {
    await r.set('e:str', 'x');
    await assert.rejects(r.lpush('e:str', 'y'), (err: unknown) => err instanceof ReplyError && err.code === 'WRONGTYPE');
    await assert.rejects(r.evalsha('0'.repeat(40), 0), (err: unknown) => err instanceof ReplyError && err.code === 'NOSCRIPT');
  });

  it('rejects bad arguments before anything is sent', async () => {
    const before = (await r.info('stats'))['total_commands_processed'] as number;
    for (const bad of [undefined, null, true, NaN, Infinity, Symbol('s')]) {
      await assert.rejects(r.append('bad', bad as never), (err: unknown) => err instanceof TypeError && /APPEND/.test(err.message) && /argument 2/.test(err.message));
    }
    // A trailing object is keywords, as in Python: a name append() does not have is refused.
    await assert.rejects(r.append('bad', { a: 1 } as never), (err: unknown) => err instanceof TypeError && /append: unknown keyword 'a'; expected one of: key, value/.test(err.message));
    await assert.rejects(r.set('bad', undefined as never), /SET: argument 2 is undefined/);
    await assert.rejects(r.set('bad', 1, { ttl: 1 } as never), /unknown option 'ttl'/);
    // INFO itself is one command: nothing else reached the server.
    const afterCount = (await r.info('stats'))['total_commands_processed'] as number;
    assert.equal(afterCount - before, 1);
  });

  it('sends every byte value and gets it back', async () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const key = Buffer.from([0, 13, 10, 255, 254]);
    await r.set(key, all);
    assert.deepEqual(await r.getBuffer(key), all);
    assert.deepEqual(await r.get_buffer(key), all);
    const dump = await r.dump(key);
    assert.ok(Buffer.isBuffer(dump));
    await r.delete(key);
    assert.equal(await r.restore(key, 0, dump), true);
    assert.deepEqual(await r.getBuffer(key), all);
    const text = 'ключ 键 🗝 \r\n\0';
    await r.set('utf8', text);
    assert.equal(await r.get('utf8'), text);
  });

  it('writes numbers the way Redis parses them', async () => {
    await r.set('num', 1e21);
    assert.equal(await r.get('num'), '1000000000000000000000');
    assert.equal(await r.incrby('num2', 2 ** 53 - 1), 2 ** 53 - 1); // the largest exact number
    assert.equal(await r.incrby('num2', 1), 9007199254740992n); // beyond it: a bigint, exact
    assert.equal(await r.incrby('num2', 10n), 9007199254741002n);
    await r.set('f', 0.1);
    assert.equal(await r.get('f'), '0.1');
    await r.set('neg0', -0);
    assert.equal(await r.get('neg0'), '0');
  });

  it('matches 10,000 concurrent commands from 100 callers to their replies', async () => {
    const callers = Array.from({ length: 100 }, async (_, c) => {
      for (let i = 0; i < 100; i++) {
        const key = `c:${c}:${i}`;
        const [setReply, value, len] = await Promise.all([r.set(key, `${c}/${i}`), r.get(key), r.strlen(key)]);
        assert.equal(setReply, true);
        assert.equal(value, `${c}/${i}`);
        assert.equal(len, `${c}/${i}`.length);
      }
    });
    await Promise.all(callers);
    assert.equal(await r.get('c:99:99'), '99/99');
  });

  it('returns Buffers for every bulk reply with returnBuffers', async () => {
    const b = new ConstRedis({ port: servers[0]!.port, returnBuffers: true });
    try {
      await b.set('rb', 'x');
      assert.deepEqual(await b.get('rb'), Buffer.from('x'));
      assert.deepEqual(await b.mget('rb', 'none'), [Buffer.from('x'), null]);
    } finally {
      await b.close();
    }
  });

  it('refuses connection-state commands on the shared connection, saying what to use', async () => {
    await assert.rejects(r.watch('k'), /WATCH is not run on the shared connection: use transaction/);
    await assert.rejects(r.multi(), /use pipeline\(\) or transaction\(\)/);
    await assert.rejects(r.call('select', 1), /set the 'db' option/);
    await assert.rejects(r.subscribe('ch'), /use pubsub\(\)/);
    assert.equal(await r.get('utf8'), 'ключ 键 🗝 \r\n\0'); // the shared connection is intact
  });

  it('runs raw blocking commands on their own connection, past socket_timeout', async () => {
    const t = new ConstRedis({ port: servers[0]!.port, socketTimeout: 200 });
    try {
      const started = Date.now();
      const [popped, value] = await Promise.all([t.call('BLPOP', 'raw:empty', 0.5), t.get('utf8')]);
      assert.equal(popped, null);
      assert.equal(value, 'ключ 键 🗝 \r\n\0');
      assert.ok(Date.now() - started >= 450, 'BLPOP waited for its own timeout');
    } finally {
      await t.close();
    }
  });

  it('is built from a URL as well', async () => {
    const u = ConstRedis.fromUrl(`redis://127.0.0.1:${servers[0]!.port}/2`);
    const v = ConstRedis.from_url(`redis://127.0.0.1:${servers[0]!.port}?db=3`);
    try {
      await u.set('where', 'db2');
      await v.set('where', 'db3');
      assert.equal(await u.get('where'), 'db2');
      assert.equal(await v.get('where'), 'db3');
      assert.equal(u.options.db, 2);
    } finally {
      await Promise.all([u.close(), v.close()]);
    }
  });
});
