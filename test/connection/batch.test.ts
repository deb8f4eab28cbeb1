import { Buffer } from 'node:buffer';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Connection } from '../../src/connection/connection.ts';
import { resolveOptions } from '../../src/connection/options.ts';
import { ConnectionError, ReplyError, TimeoutError } from '../../src/errors.ts';
import { FaultProxy } from '../helpers/fault-proxy.ts';
import { useClients } from '../helpers/clients.ts';
import { useServers } from '../helpers/servers.ts';

describe('Connection.sendBatch', () => {
  const servers = useServers(1);
  let conn: Connection;
  useClients(() => {
    conn = new Connection(resolveOptions({ port: servers[0]!.port }));
    return [conn];
  });

  it('one slot per command, in order: replies, shaped replies and errors', async () => {
    const results = await conn.sendBatch([
      { argv: ['SET', 'batch:a', '1'] },
      { argv: ['INCR', 'batch:a'], reply: (r) => Number(r) * 10 },
      { argv: ['LPUSH', 'batch:a', 'x'] },
      { argv: ['SET', 'batch:b', { bad: true }] },
      { argv: ['CLIENT', 'GETNAME'], words: 2 },
      { argv: ['GET', 'batch:a'], reply: () => { throw new RangeError('shape failed'); } },
      { argv: ['GET', 'batch:a'], buffers: true },
    ]);
    assert.equal(results.length, 7);
    assert.equal(results[0], 'OK');
    assert.equal(results[1], 20);
    assert.ok(results[2] instanceof ReplyError && results[2].code === 'WRONGTYPE', String(results[2]));
    assert.equal((results[2] as ReplyError).command, 'LPUSH');
    assert.ok(results[3] instanceof TypeError && /argument 2/.test(results[3].message));
    assert.equal(results[4], null);
    assert.ok(results[5] instanceof RangeError);
    assert.deepEqual(results[6], Buffer.from('2'));
  });

  it('on a connection that is ready, the batch is one entry in flight and every slot still gets its own answer', async () => {
    await conn.connect();
    const results = await conn.sendBatch([
      { argv: ['SET', 'batch:r', '1'] },
      { argv: ['SET', 'batch:bad', { bad: true }] },
      { argv: ['INCR', 'batch:r'], reply: (r) => Number(r) * 10 },
      { argv: ['LPUSH', 'batch:r', 'x'] },
      { argv: ['CLIENT', 'GETNAME'], words: 2 },
      { argv: ['GET', 'batch:r'], reply: () => { throw new RangeError('shape failed'); } },
      { argv: ['GET', 'batch:r'], buffers: true },
      { argv: ['GET', 'batch:r'] },
    ]);
    assert.equal(conn.pendingCount, 0);
    assert.equal(results[0], 'OK');
    assert.ok(results[1] instanceof TypeError && /argument 2/.test(results[1].message), String(results[1]));
    assert.equal(results[2], 20);
    assert.ok(results[3] instanceof ReplyError && results[3].command === 'LPUSH');
    assert.equal(results[4], null);
    assert.ok(results[5] instanceof RangeError);
    assert.deepEqual(results[6], Buffer.from('2'));
    assert.equal(results[7], '2');
    // Only bad arguments: nothing is sent, nothing waits.
    const bad = await conn.sendBatch([{ argv: ['SET', 'k', null] }]);
    assert.ok(bad[0] instanceof TypeError);
    assert.equal(conn.pendingCount, 0);
  });

  it('a batch cut off mid-reply keeps what was answered and fails the rest; one that times out is never sent twice', { timeout: 20_000 }, async () => {
    const proxy = await FaultProxy.start({ host: '127.0.0.1', port: servers[0]!.port });
    const c = new Connection(resolveOptions({ port: proxy.port, socket_timeout: 0.3, retry_on_timeout: true }));
    try {
      await c.connect();
      const big = 'y'.repeat(20_000);
      await c.send(['SET', 'batch:big', big]);
      proxy.set({ cutAfterBytes: 30 });
      const cut = await c.sendBatch([{ argv: ['PING'] }, { argv: ['GET', 'batch:big'] }, { argv: ['PING'] }]);
      assert.equal(cut[0], 'PONG');
      assert.ok(cut[1] instanceof ConnectionError && cut[2] instanceof ConnectionError, String(cut));
      proxy.set({});
      await c.send(['DEL', 'batch:n']);
      proxy.set({ stall: true });
      const started = performance.now();
      const stalled = await c.sendBatch([{ argv: ['INCR', 'batch:n'] }, { argv: ['INCR', 'batch:n'] }]);
      assert.ok(performance.now() - started < 2000);
      for (const r of stalled) assert.ok(r instanceof TimeoutError, String(r));
      proxy.set({});
      // Each INCR ran once: the batch was not written again after its timeout.
      assert.equal(await c.send(['GET', 'batch:n']), '2');
    } finally {
      await c.close();
      await proxy.close();
    }
  });

  it('an empty batch resolves at once; thousands of commands come back whole', async () => {
    assert.deepEqual(await conn.sendBatch([]), []);
    const n = 5000;
    const results = await conn.sendBatch(Array.from({ length: n }, (_, i) => ({ argv: ['ECHO', `m${i}`] })));
    assert.deepEqual(results, Array.from({ length: n }, (_, i) => `m${i}`));
  });

  it('a closed connection fills every slot with the error', async () => {
    const c = new Connection(resolveOptions({ port: servers[0]!.port }));
    await c.close();
    const results = await c.sendBatch([{ argv: ['PING'] }, { argv: ['PING'] }]);
    assert.equal(results.length, 2);
    for (const r of results) assert.ok(r instanceof Error && /closed/.test(r.message));
  });
});
