import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Connection } from '../../src/connection/connection.js';
import { resolveOptions } from '../../src/connection/options.js';
import { TimeoutError } from '../../src/errors.js';
import { useServers } from '../helpers/servers.js';

describe('command deadlines on one connection', () => {
  const servers = useServers(1);
  let conn: Connection;
  before(async () => {
    conn = new Connection(resolveOptions({ port: servers[0]!.port }));
    await conn.connect();
  });
  after(async () => {
    if (servers[0]!.running) servers[0]!.resume();
    conn.destroy();
  });

  it('times out a command queued behind one that has no deadline, and one with a shorter deadline than the armed one', { timeout: 10_000 }, async () => {
    servers[0]!.pause();
    try {
      const started = Date.now();
      const forever = conn.send(['PING'], { timeout: null });
      const long = conn.send(['PING'], { timeout: 60_000 });
      const short = conn.send(['PING'], { timeout: 300 });
      await assert.rejects(short, (err: unknown) => err instanceof TimeoutError && /timed out after 300 ms/.test(err.message));
      const waited = Date.now() - started;
      assert.ok(waited >= 290 && waited < 5000, `took ${waited} ms`);
      // The connection was reset: the others can no longer be answered in order.
      await assert.rejects(forever, TimeoutError);
      await assert.rejects(long, TimeoutError);
    } finally {
      servers[0]!.resume();
    }
    assert.equal(await conn.send(['PING']), 'PONG');
  });
});
