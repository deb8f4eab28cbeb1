import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConstRedis } from '../../src/client/const-redis.ts';

describe('the command Proxy of ConstRedis', () => {
  it('gives the same function for a command each time, and members stay members', () => {
    const client = new ConstRedis({ port: 1 });
    assert.equal(typeof client.zadd, 'function');
    assert.equal(client.zadd, client.zadd);
    assert.equal(typeof client.connect, 'function');
    assert.equal(client.connect, Object.getPrototypeOf(Object.getPrototypeOf(client)).connect);
    assert.equal((client as unknown as { then?: unknown }).then, undefined);
    client.disconnect();
  });

  it('a property set on the client takes over a command name used before', () => {
    const client = new ConstRedis({ port: 1 }) as unknown as Record<string, unknown>;
    assert.equal(typeof client['frobnicate'], 'function');
    client['frobnicate'] = 42;
    assert.equal(client['frobnicate'], 42);
    Object.defineProperty(client, 'zscore', { value: 'mine', configurable: true });
    assert.equal(client['zscore'], 'mine');
    (client as unknown as ConstRedis).disconnect();
  });
});
