import { Buffer } from 'node:buffer';
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { Connection } from '../../src/connection/connection.ts';
import { resolveOptions } from '../../src/connection/options.ts';
import { useServers } from '../helpers/servers.ts';

/** Bytes that break naive protocol code: CRLF, NUL, a lone UTF-8 continuation byte, 0xff, a RESP header. */
const NASTY = Buffer.from([0x0d, 0x0a, 0x00, 0x80, 0xff, 0xfe, 0x24, 0x33, 0x0d, 0x0a, 0xc3]);

describe('hostile bytes as data, and bad input refused before sending', () => {
  const servers = useServers(1);
  const open: Array<{ close(): Promise<void> }> = [];
  const connect = (returnBuffers = false): Connection => {
    const c = new Connection(resolveOptions({ port: servers[0]!.port, returnBuffers }));
    open.push(c);
    return c;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });

  it('round-trips keys and values with CRLF, NUL and invalid UTF-8 as Buffers', async () => {
    const c = connect();
    const key = Buffer.concat([Buffer.from('bin:'), NASTY]);
    const value = Buffer.concat([NASTY, Buffer.from('*2\r\n$1\r\nx\r\n'), NASTY]);
    assert.equal(await c.send(['SET', key, value]), 'OK');
    assert.deepEqual(await c.send(['GET', key], { buffers: true }), value);
    assert.equal(await c.send(['STRLEN', key]), value.length);
    // The key comes back byte for byte from KEYS and SCAN.
    assert.deepEqual(await c.send(['KEYS', 'bin:*'], { buffers: true }), [key]);
    const [cursor, keys] = (await c.send(['SCAN', 0, 'MATCH', 'bin:*', 'COUNT', 1000], { buffers: true })) as [Buffer, Buffer[]];
    assert.equal(cursor.toString(), '0');
    assert.deepEqual(keys, [key]);
    // Hash fields and list items too.
    await c.send(['HSET', 'bin:h', NASTY, value]);
    assert.deepEqual(await c.send(['HGETALL', 'bin:h'], { buffers: true }), [NASTY, value]);
    await c.send(['RPUSH', 'bin:l', NASTY, '', value]);
    assert.deepEqual(await c.send(['LRANGE', 'bin:l', 0, -1], { buffers: true }), [NASTY, Buffer.alloc(0), value]);
  });

  it('round-trips strings containing CRLF and NUL, and replaces invalid UTF-8 only when asked for text', async () => {
    const c = connect();
    const text = 'a\r\nb\u0000c\r\n$5\r\n';
    assert.equal(await c.send(['SET', text, text]), 'OK');
    assert.equal(await c.send(['GET', text]), text);
    await c.send(['SET', 'bin:raw', NASTY]);
    assert.equal(await c.send(['GET', 'bin:raw']), NASTY.toString('utf8'));
    assert.deepEqual(await c.send(['GET', 'bin:raw'], { buffers: true }), NASTY);
    const raw = connect(true);
    assert.deepEqual(await raw.send(['GET', 'bin:raw']), NASTY);
  });

  it('refuses bad arguments with a TypeError and keeps the pipeline in step', async () => {
    const c = connect();
    await c.send(['DEL', 'bad:k']);
    const bad: unknown[] = [undefined, null, {}, [1], true, Symbol('s'), NaN, Infinity, () => 1];
    const replies = [c.send(['SET', 'bad:k', 'before'])];
    const refusals = bad.map((v) => c.send(['SET', 'bad:k', v]));
    replies.push(c.send(['GET', 'bad:k']), c.send(['ECHO', 'after']));
    for (const [i, r] of (await Promise.allSettled(refusals)).entries()) {
      assert.equal(r.status, 'rejected');
      assert.ok(r.reason instanceof TypeError, `${String(bad[i])}: ${String(r.reason)}`);
      assert.match((r.reason as Error).message, /^SET: argument 2 is .+; expected/);
    }
    assert.deepEqual(await Promise.all(replies), ['OK', 'before', 'after']);
  });

  it('refuses bad arguments at once while not yet connected, without queueing them', async () => {
    const c = connect();
    const refusal = c.send(['SET', 'bad:offline', undefined]);
    assert.equal(c.pendingCount, 0);
    await assert.rejects(refusal, TypeError);
    assert.equal(await c.send(['EXISTS', 'bad:offline']), 0);
  });

  it('refuses bad arguments through the client API before anything is sent', async () => {
    const r = new ConstRedis({ port: servers[0]!.port });
    open.push(r);
    const before = await commandCount(r);
    await assert.rejects(r.set('bad:api', undefined as unknown as string), TypeError);
    await assert.rejects(r.get({} as unknown as string), TypeError);
    await assert.rejects(r.call('SET', 'bad:api', NaN), TypeError);
    // Only the INFO calls themselves reached the server.
    assert.equal(await commandCount(r), before + 1);
  });
});

async function commandCount(r: ConstRedis): Promise<number> {
  const text = (await r.call('INFO', 'stats')) as string;
  return Number(/total_commands_processed:(\d+)/.exec(text)![1]);
}
