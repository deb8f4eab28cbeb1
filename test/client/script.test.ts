import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { ReplyError } from '../../src/errors.ts';
import { scriptSha } from '../../src/client/script.ts';
import { useClients } from '../helpers/clients.ts';
import { useServers } from '../helpers/servers.ts';

const INCR_BY = `return redis.call('incrby', KEYS[1], ARGV[1])`;

describe('scripts on one node', () => {
  const servers = useServers(1);
  let client: ConstRedis;

  useClients(() => {
    client = new ConstRedis({ port: servers[0]!.port, socketTimeout: 2000 });
    return [client];
  });

  it('runs by EVALSHA with keys and args, and knows its sha', async () => {
    const script = client.register_script(INCR_BY);
    assert.equal(script.sha, await client.script_load(INCR_BY));
    assert.equal(script.sha, scriptSha(INCR_BY));
    await client.del('sc:n');
    assert.equal(await script(['sc:n'], [5]), 5);
    assert.equal(await script(['sc:n'], [2]), 7);
  });

  it('loads itself again after SCRIPT FLUSH (NOSCRIPT)', async () => {
    const script = client.registerScript(`return 'hello ' .. ARGV[1]`);
    assert.equal(await script([], ['a']), 'hello a');
    assert.equal(await client.script_flush(), true);
    assert.deepEqual(await client.script_exists(script.sha), [false]);
    assert.equal(await script([], ['b']), 'hello b');
    assert.deepEqual(await client.script_exists(script.sha), [true]);
  });

  it('runs inside pipelines, loading missing scripts first', async () => {
    const script = client.register_script(INCR_BY);
    await client.del('sc:p');
    await client.script_flush();
    const pipe = client.pipeline();
    pipe.set('sc:p', 10);
    const same = script(['sc:p'], [1], pipe);
    assert.equal(same, pipe);
    script(['sc:p'], [1], pipe);
    pipe.get('sc:p');
    assert.deepEqual(await pipe.exec(), [true, 11, 12, '12']);
    // And without a transaction, after another flush.
    await client.script_flush();
    const batch = client.pipeline({ transaction: false });
    script(['sc:p'], [100], batch);
    assert.deepEqual(await batch.exec(), [112]);
  });

  it('runs on another client when given one', async () => {
    const other = new ConstRedis({ port: servers[0]!.port, db: 1 });
    try {
      const script = client.register_script(`return redis.call('get', KEYS[1])`);
      await other.set('sc:where', 'db 1');
      await client.set('sc:where', 'db 0');
      assert.equal(await script(['sc:where'], [], other), 'db 1');
      assert.equal(await script(['sc:where']), 'db 0');
    } finally {
      await other.close();
    }
  });

  it('passes script errors through as ReplyError', async () => {
    const script = client.register_script(`return redis.call('incr', KEYS[1])`);
    await client.set('sc:text', 'not a number');
    await assert.rejects(script(['sc:text']), (err: unknown) => err instanceof ReplyError && /not an integer/.test(err.message));
  });

  it('refuses bad input before sending', () => {
    assert.throws(() => client.register_script(''), TypeError);
    assert.throws(() => client.register_script(42 as never), TypeError);
    const script = client.register_script('return 1');
    assert.throws(() => script('k' as never), TypeError);
    assert.throws(() => script([], [{}] as never), TypeError);
    assert.throws(() => script([], [], {} as never), TypeError);
  });
});
