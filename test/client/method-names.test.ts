import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { ConnectionError } from '../../src/errors.ts';
import { useServers } from '../helpers/servers.ts';

describe('multi-word method names resolved against the server', () => {
  const servers = useServers(1);

  it('does not remember a name resolved while the server was down', async () => {
    const server = servers[0]!;
    const r = new ConstRedis({ port: server.port, socketConnectTimeout: 2000 });
    try {
      await server.kill();
      await assert.rejects(r.objectEncoding('k'), ConnectionError);
      await assert.rejects(r.hGetAll('none'), ConnectionError); // a guess now would be H GET-ALL
      await server.start();
      await r.set('k', 'v');
      // Resolved now, against the live server: OBJECT ENCODING, not a guess cached earlier.
      assert.equal(await r.objectEncoding('k'), 'embstr');
      assert.equal(await r.configGet('maxmemory').then((o) => Object.keys(o)[0]), 'maxmemory');
      assert.deepEqual(await r.hGetAll('none'), {});
    } finally {
      await r.close();
    }
  });
});
