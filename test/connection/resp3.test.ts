import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { Connection } from '../../src/connection/connection.ts';
import { parseRedisUrl, resolveOptions, type ClientOptions } from '../../src/connection/options.ts';
import { RedisRing } from '../../src/backends/ring.ts';
import { createCaches } from '../../src/config/caches.ts';
import { AuthError, ConfigError, ReplyError } from '../../src/errors.ts';
import type { Reply } from '../../src/resp/decode.ts';
import { perTest, useClients } from '../helpers/clients.ts';
import { useServers } from '../helpers/servers.ts';
import { eventually } from '../helpers/wait.ts';

const PASSWORD = 'resp3-Pa55word';

describe('protocol option', () => {
  it('takes 2 or 3, and 2 by default', () => {
    // `npm run test:resp3` makes 3 the default for the whole suite.
    assert.equal(resolveOptions({}).protocol, process.execArgv.some((a) => a.includes('resp3-default')) ? 3 : 2);
    assert.equal(resolveOptions({ protocol: 3 }).protocol, 3);
    assert.equal(resolveOptions({ url: 'redis://localhost:1/0?protocol=3' }).protocol, 3);
    assert.equal(parseRedisUrl('redis://localhost:1?protocol=2').protocol, 2);
    assert.equal(resolveOptions({ url: 'redis+sentinel://localhost:26379/mymaster?protocol=3' }).protocol, 3);
  });

  it('refuses anything else with a ConfigError before connecting', () => {
    for (const bad of [1, 4, '3.0', 'resp3', true, 3.5]) {
      assert.throws(() => new ConstRedis({ protocol: bad as 3 }), (err: Error) => err instanceof ConfigError && /protocol must be 2 or 3/.test(err.message), String(bad));
    }
    assert.throws(() => new ConstRedis('redis://:secret-pw@localhost:1?protocol=4'), (err: Error) => err instanceof ConfigError && !err.message.includes('secret-pw'));
    assert.throws(() => new RedisRing({ nodes: ['127.0.0.1:1'], protocol: 4 as 3 }), ConfigError);
    assert.throws(() => createCaches({ default: { BACKEND: 'redisdb.RedisRing', LOCATION: '127.0.0.1:1', OPTIONS: { protocol: 9 } } }), ConfigError);
  });
});

describe('RESP3 on a real server', () => {
  const servers = useServers(1, ['--requirepass', PASSWORD]);
  let admin: ConstRedis;
  const client = perTest((options: ClientOptions = {}): ConstRedis => new ConstRedis({ port: servers[0]!.port, password: PASSWORD, ...options }));
  useClients(() => {
    admin = new ConstRedis({ port: servers[0]!.port, password: PASSWORD, protocol: 2 });
    return [admin];
  });
  before(async () => {
    assert.equal(await admin.call('ACL', 'SETUSER', 'alice', 'on', '>alice-s3cret', '~*', '&*', '+@all'), 'OK');
  });

  it('says HELLO 3 with AUTH and SETNAME, then SELECT', async () => {
    const r = client({ protocol: 3, name: 'resp3-client', db: 2 });
    assert.equal(await r.ping(), true);
    assert.equal(r.connection.protocol, 3);
    const info = String(await r.call('CLIENT', 'INFO'));
    assert.match(info, / resp=3\b/);
    assert.match(info, / db=2 /);
    assert.match(info, / name=resp3-client /);
    const two = client({ protocol: 2 });
    assert.equal(await two.ping(), true);
    assert.equal(two.connection.protocol, 2);
    assert.match(String(await two.call('CLIENT', 'INFO')), / resp=2\b/);
  });

  it('authenticates an ACL user through HELLO; a wrong password is the same AuthError, without the password', async () => {
    const alice = client({ protocol: 3, username: 'alice', password: 'alice-s3cret' });
    assert.equal(await alice.call('ACL', 'WHOAMI'), 'alice');
    assert.equal(alice.connection.protocol, 3);
    for (const username of ['alice', undefined]) {
      const wrong = client({ protocol: 3, username, password: 'guess-the-Pa55' });
      const err = await wrong.ping().then(() => null, (e: unknown) => e);
      assert.ok(err instanceof AuthError, String(err));
      assert.match(err.message, username === undefined ? /authentication to 127\.0\.0\.1:\d+ failed: WRONGPASS/ : /failed for user 'alice': WRONGPASS/);
      const text = [String(err), err.stack, inspect(err, { depth: Infinity }), JSON.stringify(err)].join('\n');
      assert.ok(!text.includes('guess-the-Pa55'), text);
    }
  });

  it('gives the same replies as RESP2 where RESP3 changes their structure or types', async () => {
    const three = client({ protocol: 3 });
    const two = client({ protocol: 2 });
    await admin.call('DEL', 'z', 'z1', 'h1', 's', 'st', 'f');
    await admin.call('ZADD', 'z', '1.5', 'a', '2', 'b', 'inf', 'c');
    await admin.call('ZADD', 'z1', '3', 'only');
    await admin.call('HSET', 'h1', 'field', 'value');
    await admin.call('SADD', 's', 'm');
    await admin.call('XADD', 'st', '1-1', 'f', 'v');
    await admin.call('XGROUP', 'CREATE', 'st', 'g', '0');
    await admin.call('SET', 'f', '1.25');
    const commands: unknown[][] = [
      ['ZRANGE', 'z', 0, -1, 'WITHSCORES'], ['ZRANGE', 'z', 0, -1], ['ZRANGEBYSCORE', 'z', '-inf', '+inf', 'WITHSCORES'],
      ['ZREVRANGE', 'z', 0, -1, 'WITHSCORES'], ['ZREVRANGEBYSCORE', 'z', '+inf', '-inf', 'WITHSCORES'],
      ['ZUNION', 1, 'z', 'WITHSCORES'], ['ZINTER', 1, 'z', 'WITHSCORES'], ['ZDIFF', 1, 'z', 'WITHSCORES'],
      ['ZRANDMEMBER', 'z1', 1, 'WITHSCORES'], ['HRANDFIELD', 'h1', 1, 'WITHVALUES'], ['HGETALL', 'h1'],
      ['ZSCORE', 'z', 'a'], ['ZSCORE', 'z', 'c'], ['ZMSCORE', 'z', 'a', 'nope'], ['ZINCRBY', 'z', 0, 'b'], ['INCRBYFLOAT', 'f', 0],
      ['SMEMBERS', 's'], ['XREAD', 'STREAMS', 'st', '0'], ['XREAD', 'COUNT', 1, 'STREAMS', 'st', 'nope', '0', '0'],
      ['XINFO', 'GROUPS', 'st'], ['CONFIG', 'GET', 'maxmemory*'], ['CLIENT', 'TRACKINGINFO'], ['COMMAND', 'DOCS', 'GET'],
      ['COMMAND', 'INFO', 'GET'], ['INFO', 'keyspace'], ['EVAL', 'return {1, false, "x", redis.call("get", "nokey")}', 0],
      ['EVAL', "return redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')", 1, 'z'], ['EXISTS', 'z'], ['GET', 'nokey'],
    ];
    for (const argv of commands) {
      const [a, b] = await Promise.all([two.call(...(argv as [string])), three.call(...(argv as [string]))]);
      assert.deepEqual(b, a, argv.join(' '));
    }
    // Pops, each from its own copy of the set.
    for (const pop of ['ZPOPMIN', 'ZPOPMAX']) {
      const got: unknown[] = [];
      for (const r of [two, three]) {
        await admin.call('ZADD', 'zp', '1', 'x', '2', 'y');
        got.push(await r.call(pop, 'zp', 2), await r.call(pop, 'zp'), await r.call(pop, 'zp', 1));
      }
      assert.deepEqual(got.slice(3), got.slice(0, 3), pop);
    }
    await admin.call('XGROUP', 'SETID', 'st', 'g', '0');
    const groupRead2 = await two.call('XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 'st', '>');
    await admin.call('XGROUP', 'SETID', 'st', 'g', '0');
    assert.deepEqual(await three.call('XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 'st', '>'), groupRead2);
    // The typed methods give what they gave.
    assert.deepEqual(await three.zrange('z', 0, -1, { withscores: true }), await two.zrange('z', 0, -1, { withscores: true }));
    assert.deepEqual(await three.hgetall('h1'), { field: 'value' });
    // A transaction's replies are shaped as their own commands'; a pipeline's too.
    for (const transaction of [true, false]) {
      const replies: unknown[][] = [];
      for (const r of [two, three]) {
        const p = r.pipeline({ transaction });
        p.call('ZRANGE', 'z', 0, -1, 'WITHSCORES');
        p.call('XREAD', 'STREAMS', 'st', '0');
        p.call('HGETALL', 'h1');
        p.zscore('z', 'a');
        replies.push(await p.execute());
      }
      assert.deepEqual(replies[1], replies[0], `transaction: ${transaction}`);
    }
  });

  it('delivers CLIENT TRACKING invalidations to onPush, never to the commands of the pipeline they land in', async () => {
    const conn = new Connection(resolveOptions({ port: servers[0]!.port, password: PASSWORD, protocol: 3 }));
    after(() => conn.destroy());
    const pushes: Reply[][] = [];
    const stop = conn.onPush((frame) => pushes.push(frame));
    await admin.call('DEL', 'tracked', 'q');
    await admin.call('SET', 'other', 'o');
    // BLPOP holds the pipeline on the server until the writer has changed the tracked key: the
    // invalidation is written between GET's reply and BLPOP's.
    const batch = conn.sendBatch([
      { argv: ['CLIENT', 'TRACKING', 'ON'] }, { argv: ['SET', 'tracked', 'v1'] }, { argv: ['GET', 'tracked'] },
      { argv: ['BLPOP', 'q', 5] }, { argv: ['GET', 'other'] }, { argv: ['PING'] },
    ]);
    await eventually(async () => /cmd=blpop/.test(String(await admin.call('CLIENT', 'LIST'))), 8000, 'the pipeline blocked on BLPOP');
    assert.equal(await admin.call('SET', 'tracked', 'v2'), 'OK');
    await eventually(() => pushes.length > 0, 8000, 'the invalidation');
    assert.equal(await admin.call('RPUSH', 'q', 'item'), 1);
    assert.deepEqual(await batch, ['OK', 'OK', 'v1', ['q', 'item'], 'o', 'PONG']);
    assert.deepEqual(pushes, [['invalidate', ['tracked']]]);
    // FLUSHALL invalidates everything: a null.
    assert.equal(await conn.send(['GET', 'other']), 'o');
    await admin.call('FLUSHALL');
    await eventually(() => pushes.length === 2, 8000, 'the FLUSHALL invalidation');
    assert.deepEqual(pushes[1], ['invalidate', null]);
    // With no listener, a push is dropped and the replies stay in step.
    stop();
    await admin.call('SET', 'tracked', 'v3');
    assert.equal(await conn.send(['GET', 'tracked']), 'v3');
    await admin.call('SET', 'tracked', 'v4');
    assert.deepEqual(await conn.sendBatch([{ argv: ['GET', 'tracked'] }, { argv: ['ECHO', 'x'] }]), ['v4', 'x']);
    assert.equal(pushes.length, 2);
  });

  it('keeps pub/sub working: messages and confirmations arrive as push frames', async () => {
    const r = client({ protocol: 3 });
    const ps = r.pubsub();
    const got: string[] = [];
    ps.on('message', (m) => got.push(`${m.channel}:${String(m.data)}`));
    ps.on('pmessage', (m) => got.push(`${m.pattern}:${m.channel}:${String(m.data)}`));
    await ps.subscribe('ch1', 'ch2');
    await ps.psubscribe('p*');
    assert.equal(await ps.ping(), true);
    assert.equal(await admin.publish('ch1', 'one'), 1);
    assert.equal(await admin.publish('p2', 'two'), 1);
    await eventually(() => got.length === 2, 8000, 'two messages');
    await ps.unsubscribe('ch1');
    assert.equal(await admin.publish('ch1', 'lost'), 0);
    assert.equal(await admin.publish('ch2', 'three'), 1);
    await eventually(() => got.length === 3, 8000, 'a third message');
    assert.deepEqual(got, ['ch1:one', 'p*:p2:two', 'ch2:three']);
    await ps.close();
  });
});

describe('RESP3 refused: a server without HELLO', () => {
  const servers = useServers(1, ['--rename-command', 'HELLO', '', '--requirepass', PASSWORD]);
  const client = perTest((options: ClientOptions = {}): ConstRedis => new ConstRedis({ port: servers[0]!.port, password: PASSWORD, protocol: 3, ...options }));

  it('falls back to RESP2 (AUTH, SELECT, SETNAME), and warns once per server', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => {
      if ((w as Error & { code?: string }).code === 'REDISDB_RESP3_REFUSED') warnings.push(w);
    };
    process.on('warning', onWarning);
    try {
      const a = client({ db: 3, name: 'fallback' });
      const b = client();
      assert.equal(await a.ping(), true);
      assert.equal(await b.ping(), true);
      assert.equal(a.connection.protocol, 2);
      const info = String(await a.call('CLIENT', 'INFO'));
      assert.match(info, / resp=2\b/);
      assert.match(info, / db=3 /);
      assert.match(info, / name=fallback /);
      assert.deepEqual(await a.call('ZRANGE', 'nokey', 0, -1, 'WITHSCORES'), []);
      await eventually(() => warnings.length > 0, 8000, 'the warning');
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!.message, /spoken to in RESP2, though protocol 3 was asked for: it does not know HELLO/);
      assert.ok(!warnings[0]!.message.includes(PASSWORD));
      // The fallback's AUTH still refuses a wrong password with AuthError.
      const wrong = client({ password: 'nope-Pa55' });
      const err = await wrong.ping().then(() => null, (e: unknown) => e);
      assert.ok(err instanceof AuthError && !err.message.includes('nope-Pa55'), String(err));
      assert.ok(!(err instanceof ReplyError));
    } finally {
      process.off('warning', onWarning);
    }
  });
});
