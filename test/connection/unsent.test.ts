import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { ConnectionError } from '../../src/errors.ts';
import { useServers } from '../helpers/servers.ts';

describe('whether a failed command may have run', () => {
  const servers = useServers(1);

  it('marks commands that never reached a socket, and only those', async () => {
    const server = servers[0]!;
    const r = new ConstRedis({ port: server.port });
    try {
      await r.set('u:k', 1);
      // In flight when the server dies: it may have run.
      server.pause();
      const inFlight = assert.rejects(r.incr('u:k'), (err: unknown) => err instanceof ConnectionError && err.neverSent === false);
      await server.kill();
      await inFlight;
      // Waiting for a connection that cannot be made: it surely did not run.
      await assert.rejects(r.incr('u:k'), (err: unknown) => err instanceof ConnectionError && err.neverSent === true);
      await server.start();
      assert.equal(await r.incr('u:k'), 1); // a fresh, empty server: nothing was replayed
    } finally {
      await r.close();
    }
  });
});
