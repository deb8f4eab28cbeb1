/**
 * Every door into a command — a method, `call`, `execute_command`, a pipeline — builds and
 * routes it alike: the blocking rule, channel routing and the refusal of commands that
 * change what a shared connection answers hold whichever door a command comes in by.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisCopy, RedisRing } from '../../src/backends/index.ts';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { useServers } from '../helpers/servers.ts';

describe('one way to build and route a command', () => {
  const servers = useServers(3);
  let ring: RedisRing;
  let copy: RedisCopy;
  let one: ConstRedis;
  before(() => {
    const nodes = servers.map((s) => s.address);
    ring = new RedisRing({ nodes, socket_timeout: 0.5 });
    copy = new RedisCopy({ nodes, socket_timeout: 0.5 });
    one = new ConstRedis({ port: servers[0]!.port, socket_timeout: 0.5 });
  });
  after(() => {
    ring.disconnect();
    copy.disconnect();
    one.disconnect();
  });

  for (const door of ['execute_command', 'call'] as const) {
    it(`ring.${door}('BLPOP', ...) waits on a connection of its own, past socket_timeout, and others go on`, async () => {
      const key = `q:${door}`;
      const started = performance.now();
      const blocked = ring[door]('BLPOP', key, 1);
      // Meanwhile the shared connection answers at once.
      assert.deepEqual(await ring.set(`k:${door}`, 'v'), [true]);
      assert.equal(await ring.get(`k:${door}`), 'v');
      assert.deepEqual(await blocked, [null]); // the server's own timeout (a write: one result per node), not a TimeoutError at 0.5 s
      assert.ok(performance.now() - started >= 900);
      assert.equal(await ring.get(`k:${door}`), 'v');
    });
  }

  it('PUBLISH through execute_command and call goes to the channel\'s node, as publish() does', async () => {
    const channel = 'news:doors';
    const node = ring.nodeIndexFor(channel);
    const ps = ring.nodes[node]!.pubsub();
    await ps.subscribe(channel);
    const got: string[] = [];
    ps.on('message', (m: { data: unknown }) => got.push(String(m.data)));
    assert.equal(await ring.publish(channel, 'a'), 1);
    assert.equal(await ring.execute_command('PUBLISH', channel, 'b'), 1);
    assert.equal(await ring.call('PUBLISH', channel, 'c'), 1);
    assert.equal(await copy.execute_command('PUBLISH', channel, 'd'), 1);
    const pipe = ring.pipeline({ transaction: false });
    pipe.execute_command('PUBLISH', channel, 'e');
    assert.deepEqual(await pipe.exec(), [1]);
    const deadline = performance.now() + 2000;
    while (got.length < 5 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(got, ['a', 'b', 'c', 'd', 'e']);
    await ps.close();
  });

  const changesTheConnection: unknown[][] = [
    ['CLIENT', 'REPLY', 'SKIP'], ['CLIENT', 'REPLY', 'OFF'], ['client', 'reply', 'off'], ['CLIENT REPLY', 'SKIP'],
    ['CLIENT', 'TRACKING', 'ON'], ['MONITOR'], ['RESET'], ['HELLO', '2'], ['WATCH', 'k'], ['SUBSCRIBE', 'c'],
  ];
  for (const argv of changesTheConnection) {
    it(`refuses ${argv.join(' ')} on the shared connection through every door, and replies stay matched`, async () => {
      const what = /not run on the shared connection|cannot be queued in a pipeline/;
      await assert.rejects(one.call(...(argv as [string, ...unknown[]])), what);
      await assert.rejects(one.execute_command(...argv), what);
      await assert.rejects(ring.call(...(argv as [string, ...unknown[]])), what);
      await assert.rejects(copy.execute_command(...argv), what);
      assert.throws(() => one.pipeline({ transaction: false }).execute_command(...argv), what);
      assert.throws(() => ring.pipeline({ transaction: false }).execute_command(...argv), what);
      // Each caller still gets its own reply.
      const sets = await Promise.all(Array.from({ length: 20 }, (_, i) => one.set(`r:${i}`, `v${i}`)));
      assert.deepEqual(sets, Array.from({ length: 20 }, () => true));
      const gets = await Promise.all(Array.from({ length: 20 }, (_, i) => one.get(`r:${i}`)));
      assert.deepEqual(gets, Array.from({ length: 20 }, (_, i) => `v${i}`));
    });
  }

  it('the method doors refuse them too', async () => {
    await assert.rejects(one.client_reply('SKIP'), /CLIENT REPLY is not run on the shared connection/);
    await assert.rejects(ring.client_tracking('on'), /CLIENT TRACKING is not run on the shared connection/);
    await assert.rejects(copy.monitor(), /MONITOR is not run on the shared connection/);
  });

  it('set_response_callback on a backend shapes the reply of that command on every node, in pipelines too', async () => {
    const own = new RedisRing(servers.map((s) => s.address));
    try {
      own.set_response_callback('GET', (r) => (r === null ? 'none' : `got ${String(r)}`));
      await own.set('cb', 'x');
      assert.equal(await own.get('cb'), 'got x');
      assert.equal(await own.get('cb-missing'), 'none');
      assert.deepEqual(await own.pipeline({ transaction: false }).get('cb').exec(), ['got x']);
      assert.equal(await ring.get('cb'), 'x', 'another backend is not affected');
    } finally {
      own.disconnect();
    }
  });
});

describe('SORT on a ring', () => {
  const servers = useServers(3);

  it('refuses STORE, BY and GET keys off the sorted key\'s node before sending; allows them under its hash tag', async () => {
    const ring = new RedisRing(servers.map((s) => s.address));
    try {
      const other = Array.from({ length: 100 }, (_, i) => `sorted${i}`).find((k) => ring.nodeIndexFor(k) !== ring.nodeIndexFor('gods'))!;
      await ring.rpush('gods', 'zeus', 'hera');
      await assert.rejects(ring.sort('gods', { store: other, alpha: true }), (err: Error) => err.name === 'CrossNodeError' && /STORE/.test(err.message));
      assert.equal(await ring.nodeFor(other).get(other), null, 'nothing was written');
      await assert.rejects(ring.sort('gods', { by: 'weight_*' }), /BY pattern "weight_\*" stands for keys that may be on any node/);
      await assert.rejects(ring.sort('gods', { get: ['#', 'name_*'], alpha: true }), /GET pattern/);
      // Under the key's hash tag everything stays on one node.
      await ring.rpush('{gods}:list', 'b', 'a');
      await ring.set('{gods}:w_a', 1);
      await ring.set('{gods}:w_b', 2);
      assert.deepEqual(await ring.sort('{gods}:list', { by: '{gods}:w_*', store: '{gods}:out' }), [2]);
      assert.deepEqual(await ring.lrange('{gods}:out', 0, -1), ['a', 'b']);
      // SORT is a write to the server (it may STORE): one result per node it ran on.
      assert.deepEqual(await ring.sort('gods', { alpha: true }), [['hera', 'zeus']]);
    } finally {
      ring.disconnect();
    }
  });
});
