import { Buffer } from 'node:buffer';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Connection } from '../../src/connection/connection.ts';
import { resolveOptions } from '../../src/connection/options.ts';
import { useServers } from '../helpers/servers.ts';

describe('each reply decoded as its own command asked', () => {
  const servers = useServers(1);

  for (const returnBuffers of [false, true]) {
    it(`mixes Buffers and strings among commands in flight together (returnBuffers ${returnBuffers})`, async () => {
      const c = new Connection(resolveOptions({ port: servers[0]!.port, returnBuffers }));
      try {
        await c.send(['DEL', 'mode:l']);
        await c.send(['RPUSH', 'mode:l', 'a', 'b']);
        await c.send(['SET', 'mode:s', 'v']);
        // Written in one tick: their replies arrive together, often in one chunk.
        const modes = [true, false, undefined, true, undefined, false, true];
        const replies = await Promise.all(
          modes.map((buffers, i) =>
            i % 2 === 0
              ? c.send(['GET', 'mode:s'], buffers === undefined ? {} : { buffers })
              : c.send(['LRANGE', 'mode:l', 0, -1], buffers === undefined ? {} : { buffers }),
          ),
        );
        replies.forEach((reply, i) => {
          const asBuffers = modes[i] ?? returnBuffers;
          const expected = i % 2 === 0 ? 'v' : ['a', 'b'];
          const as = (s: string): unknown => (asBuffers ? Buffer.from(s) : s);
          assert.deepEqual(reply, typeof expected === 'string' ? as(expected) : expected.map(as), `reply ${i}`);
        });
        // After the pipeline drains, the connection's default applies again.
        assert.deepEqual(await c.send(['GET', 'mode:s']), returnBuffers ? Buffer.from('v') : 'v');
      } finally {
        await c.close();
      }
    });
  }
});
