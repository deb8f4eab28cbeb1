import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { useClients } from '../helpers/clients.ts';
import { useServers } from '../helpers/servers.ts';
import { blockedClients } from '../helpers/wait.ts';

describe('blocking commands on one node', () => {
  const servers = useServers(1);
  let client: ConstRedis;
  let pusher: ConstRedis;

  useClients(() => {
    // socket_timeout (0.5 s) is shorter than the blocking timeouts below on purpose.
    client = new ConstRedis({ port: servers[0]!.port, socket_timeout: 0.5 });
    pusher = new ConstRedis({ port: servers[0]!.port, socket_timeout: 2 });
    return [client, pusher];
  });

  it('a blpop waiting 2 s does not stall 1,000 GETs from other callers, nor get cut by socket_timeout', async () => {
    await client.set('b:k', 'v');
    await client.del('b:empty');
    const started = Date.now();
    const blpop = client.blpop('b:empty', 2).then((r) => ({ r, at: Date.now() - started }));
    const gets = Array.from({ length: 1000 }, () => client.get('b:k'));
    const values = await Promise.all(gets);
    const getsDone = Date.now() - started;
    assert.ok(values.every((v) => v === 'v'));
    assert.ok(getsDone < 1000, `1,000 GETs took ${getsDone} ms while blpop waited`);
    const { r, at } = await blpop;
    assert.equal(r, null);
    assert.ok(at >= 1900 && at < 3500, `blpop returned after ${at} ms`);
  });

  it('blpop returns what another client pushes while it waits', async () => {
    await client.del('b:list');
    const waiting = client.blpop(['b:other', 'b:list'], 5);
    // The pop is waiting on the server when a client is blocked on the list.
    await blockedClients(pusher, 1);
    await pusher.rpush('b:list', 'x');
    assert.deepEqual(await waiting, ['b:list', 'x']);
  });

  it('brpoplpush and blmove move a value once it arrives', async () => {
    await client.del('b:src', 'b:dst');
    const moving = client.brpoplpush('b:src', 'b:dst', 5);
    await blockedClients(pusher, 1);
    await pusher.rpush('b:src', 'm');
    assert.equal(await moving, 'm');
    const moving2 = client.blmove('b:dst', 'b:src', 'LEFT', 'RIGHT', 5);
    assert.equal(await moving2, 'm');
    assert.deepEqual(await client.lrange('b:src', 0, -1), ['m']);
  });

  it('bzpopmin waits past socket_timeout and shapes its reply', async () => {
    await client.del('b:z');
    const started = Date.now();
    assert.equal(await client.bzpopmin('b:z', 1), null);
    assert.ok(Date.now() - started >= 900);
    const popping = client.bzpopmin(['b:z'], 5);
    await blockedClients(pusher, 1);
    await pusher.zadd('b:z', { low: 1.5, high: 9 });
    assert.deepEqual(await popping, ['b:z', 'low', 1.5]);
  });

  it('xread BLOCK waits past socket_timeout, then returns the new entry', async () => {
    await client.del('b:stream');
    const started = Date.now();
    assert.equal(await client.xread('BLOCK', 1000, 'STREAMS', 'b:stream', '$'), null);
    assert.ok(Date.now() - started >= 900);
    const reading = client.xread('BLOCK', 5000, 'STREAMS', 'b:stream', '$');
    await blockedClients(pusher, 1);
    const id = await pusher.xadd('b:stream', '*', 'f', 'v');
    assert.deepEqual(await reading, [['b:stream', [[id, ['f', 'v']]]]]);
  });

  it('several blocking commands wait in parallel, each on its own connection', async () => {
    await client.del('b:p1', 'b:p2', 'b:p3');
    const started = Date.now();
    const all = await Promise.all([client.blpop('b:p1', 1), client.brpop('b:p2', 1), client.blpop('b:p3', 1)]);
    const took = Date.now() - started;
    assert.deepEqual(all, [null, null, null]);
    assert.ok(took < 1800, `three 1 s pops took ${took} ms`);
  });

  it('on a hung server, ordinary commands time out at socket_timeout and blocking ones at their timeout plus it', async () => {
    await client.ping();
    const server = servers[0]!;
    server.pause();
    try {
      const started = Date.now();
      const get = client.get('b:k').then(() => 'answered', (e: Error) => ({ e, at: Date.now() - started }));
      const pop = client.blpop('b:empty', 0.3).then(() => 'answered', (e: Error) => ({ e, at: Date.now() - started }));
      const [g, p] = await Promise.all([get, pop]);
      assert.ok(typeof g === 'object' && g.e.name === 'TimeoutError' && g.at >= 450 && g.at < 1500, `GET: ${JSON.stringify(g)}`);
      assert.ok(typeof p === 'object' && p.e.name === 'TimeoutError' && p.at >= 750 && p.at < 2000, `BLPOP: ${JSON.stringify(p)}`);
    } finally {
      server.resume();
    }
    assert.equal(await client.ping(), true);
  });
});
