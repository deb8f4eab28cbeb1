import { Buffer } from 'node:buffer';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Connection } from '../../src/connection/connection.ts';
import { resolveOptions } from '../../src/connection/options.ts';
import { ReplyError } from '../../src/errors.ts';
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
