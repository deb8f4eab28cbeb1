import assert from 'node:assert/strict';
import net from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { Connection } from '../../src/connection/connection.ts';
import { resolveOptions } from '../../src/connection/options.ts';
import { useServers } from '../helpers/servers.ts';

/**
 * Cloudflare's workerd (nodejs_compat) ignores net.connect's onread and emits 'data' events.
 * Node is made to behave the same here, by dropping the option, so that path runs on every test run.
 */
describe('a runtime that ignores onread', () => {
  const servers = useServers(1);
  const realConnect = net.connect;
  const open: Connection[] = [];
  let dropped = 0;
  afterEach(async () => {
    net.connect = realConnect;
    await Promise.all(open.splice(0).map((c) => c.close()));
  });
  const withoutOnread = (): void => {
    dropped = 0;
    net.connect = ((options: net.NetConnectOpts & { onread?: unknown }) => {
      if (options.onread !== undefined) dropped++;
      const { onread: _ignored, ...rest } = options;
      return realConnect(rest);
    }) as typeof net.connect;
  };

  it('reads every reply from data events, large and pipelined ones included', { timeout: 20_000 }, async () => {
    withoutOnread();
    const c = new Connection(resolveOptions({ port: servers[0]!.port }));
    open.push(c);
    const big = 'x'.repeat(300_000); // several reads
    assert.equal(await c.send(['SET', 'rp:big', big]), 'OK');
    const replies = await Promise.all([
      c.send(['GET', 'rp:big']),
      ...Array.from({ length: 200 }, (_, i) => c.send(['ECHO', `m${i}`])),
    ]);
    assert.equal(dropped, 1);
    assert.equal(replies[0], big);
    assert.deepEqual(replies.slice(1), Array.from({ length: 200 }, (_, i) => `m${i}`));
  });

  it('feeds each chunk once where onread is honoured', async () => {
    const c = new Connection(resolveOptions({ port: servers[0]!.port }));
    open.push(c);
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => c.send(['ECHO', `n${i}`])));
    assert.deepEqual(replies, Array.from({ length: 100 }, (_, i) => `n${i}`));
    assert.equal(await c.send(['PING']), 'PONG');
  });
});
