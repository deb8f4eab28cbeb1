import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConstRedis } from '../../src/client/const-redis.ts';
import type { PubSub, PubSubMessage } from '../../src/client/pubsub.ts';
import { useClients } from '../helpers/clients.ts';
import { useServers, type RedisServer } from '../helpers/servers.ts';
import { eventually, nextEvent } from '../helpers/wait.ts';

describe('pub/sub on one node', () => {
  const servers = useServers(1);
  let client: ConstRedis;

  useClients(() => {
    client = new ConstRedis({ port: servers[0]!.port, socketTimeout: 2000 });
    return [client];
  });

  it('delivers messages as events, and publish returns the receiver count', async () => {
    const ps = client.pubsub();
    const ps2 = client.pubsub();
    try {
      await ps.subscribe('news', ['sport']);
      await ps2.subscribe('news');
      assert.deepEqual(ps.channels.sort(), ['news', 'sport']);
      const got = nextEvent<PubSubMessage>(ps, 'message');
      assert.equal(await client.publish('news', 'hello'), 2);
      assert.deepEqual(await got, { type: 'message', pattern: null, channel: 'news', data: 'hello' });
      assert.equal(await client.publish('nobody-listens', 'x'), 0);
    } finally {
      await ps.close();
      await ps2.close();
    }
  });

  it('matches patterns (pmessage) and calls per-channel handlers', async () => {
    const ps = client.pubsub();
    try {
      const handled: PubSubMessage[] = [];
      await ps.psubscribe('user.*');
      await ps.subscribe({ direct: (m) => handled.push(m) });
      const got = nextEvent<PubSubMessage>(ps, 'pmessage');
      assert.equal(await client.publish('user.42', 'joined'), 1);
      assert.deepEqual(await got, { type: 'pmessage', pattern: 'user.*', channel: 'user.42', data: 'joined' });
      await client.publish('direct', 'to-handler');
      await eventually(() => handled.length === 1, 2000, 'the handler');
      assert.equal(handled[0]!.data, 'to-handler');
    } finally {
      await ps.close();
    }
  });

  it('yields messages through for await, in order, until close()', async () => {
    const ps = client.pubsub();
    await ps.subscribe('stream');
    const received: string[] = [];
    const loop = (async () => {
      for await (const m of ps) {
        received.push(String(m.data));
        if (received.length === 100) break;
      }
    })();
    for (let i = 0; i < 100; i++) await client.publish('stream', i);
    await loop;
    assert.deepEqual(received, Array.from({ length: 100 }, (_, i) => String(i)));
    // A loop waiting when close() is called ends.
    const waiting = (async () => {
      for await (const _ of ps) return 'got a message';
      return 'ended';
    })();
    await ps.close();
    assert.equal(await waiting, 'ended');
  });

  it('unsubscribes by name and from everything, and stays usable (PING) meanwhile', async () => {
    const ps = client.pubsub();
    try {
      await ps.subscribe('a', 'b', 'c');
      await ps.psubscribe('p.*', 'q.*');
      assert.equal(await ps.ping(), true);
      await ps.unsubscribe('a');
      assert.equal(await client.publish('a', 'x'), 0);
      assert.equal(await client.publish('b', 'x'), 1);
      await ps.unsubscribe();
      await ps.punsubscribe('p.*');
      assert.equal(await client.publish('b', 'x'), 0);
      assert.equal(await client.publish('p.1', 'x'), 0);
      assert.equal(await client.publish('q.1', 'x'), 1);
      assert.deepEqual(ps.channels, []);
      assert.deepEqual(ps.patterns, ['q.*']);
      const numsub = (await client.call('PUBSUB', 'NUMPAT')) as number;
      assert.equal(numsub, 1);
    } finally {
      await ps.close();
    }
  });

  it('refuses bad input before sending', async () => {
    const ps = client.pubsub();
    try {
      await assert.rejects(ps.subscribe(), TypeError);
      await assert.rejects(ps.subscribe(42 as never), TypeError);
      await assert.rejects(ps.subscribe({ ch: 'not a function' } as never), TypeError);
      assert.throws(() => client.pubsub({ maxBuffered: 0 }), RangeError);
      assert.throws(() => client.pubsub({ nope: 1 } as never), TypeError);
    } finally {
      await ps.close();
    }
    await assert.rejects(ps.subscribe('x'), /closed/);
  });

  it('notices a hung server by its health-check PINGs, and subscribes again once it answers', async () => {
    const server = servers[0]!;
    const quick = new ConstRedis({ port: server.port, socketTimeout: 300 });
    const ps = quick.pubsub({ health_check_interval: 0.2 });
    try {
      await ps.subscribe('health');
      await noticesPause(server, ps);
      await eventually(async () => (await client.publish('health', 'back')) === 1, 5000, 're-subscription');
    } finally {
      await ps.close();
      await quick.close();
    }
    assert.throws(() => client.pubsub({ health_check_interval: 0 }), RangeError);
  });

  it('health-checks a connection reused from the pool (after a blocking command), with default options', async () => {
    const server = servers[0]!;
    const quick = new ConstRedis({ port: server.port, name: 'pooled-pubsub' });
    const named = async (): Promise<number> => {
      const list = (await client.client_list()) as Array<Record<string, string>>;
      return list.filter((c) => c['name'] === 'pooled-pubsub').length;
    };
    try {
      // The blocking command's connection goes back to the pool, ready; the pubsub takes it.
      assert.equal(await quick.ping(), true);
      assert.equal(await quick.blpop('pooled:empty', 0.05), null);
      assert.equal(await named(), 2);
      const ps = quick.pubsub({ health_check_interval: 0.2 });
      try {
        await ps.subscribe('pooled-health');
        assert.equal(await named(), 2, 'the pubsub opened a connection instead of reusing the pooled one');
        await noticesPause(server, ps);
        const got: string[] = [];
        ps.on('message', (m: PubSubMessage) => got.push(String(m.data)));
        // A connection given up while the server was stopped may still count as a receiver
        // until the server reads its close: publish until the live one has the message.
        await eventually(async () => {
          await client.publish('pooled-health', 'back');
          return got.includes('back');
        }, 5000, 'a message after the re-subscription');
      } finally {
        await ps.close();
      }
    } finally {
      await quick.close();
    }
  });

  it('a listener that throws on the first of three messages read together: the others still get all three, the error goes to \'error\', the connection stays', async () => {
    const sub = new ConstRedis({ port: servers[0]!.port, name: 'handler-throws' });
    const ids = async (): Promise<string[]> => {
      const list = (await client.client_list()) as Array<Record<string, string>>;
      return list.filter((c) => c['name'] === 'handler-throws').map((c) => String(c['id']));
    };
    const ps = sub.pubsub();
    try {
      await ps.subscribe('throws');
      const before = await ids();
      assert.equal(before.length, 1);
      const boom = new Error('handler bug');
      let calls = 0;
      ps.on('message', () => {
        if (++calls === 1) throw boom;
      });
      const second: string[] = [];
      ps.on('message', (m: PubSubMessage) => second.push(String(m.data)));
      const errors: Array<[unknown, unknown]> = [];
      ps.on('error', (err: unknown, m: PubSubMessage) => errors.push([err, m.data]));
      let disconnects = 0;
      ps.on('disconnect', () => disconnects++);
      const iterated: string[] = [];
      const loop = (async () => {
        for await (const m of ps) {
          iterated.push(String(m.data));
          if (iterated.length === 3) break;
        }
      })();
      // One MULTI: the server writes the three messages to the subscriber together.
      assert.deepEqual(await client.pipeline().publish('throws', 'a').publish('throws', 'b').publish('throws', 'c').execute(), [1, 1, 1]);
      await eventually(() => second.length >= 3 && iterated.length >= 3, 3000, 'three messages');
      await loop;
      assert.deepEqual(second, ['a', 'b', 'c']);
      assert.deepEqual(iterated, ['a', 'b', 'c']);
      assert.equal(calls, 3);
      assert.deepEqual(errors, [[boom, 'a']]);
      assert.equal(disconnects, 0);
      assert.deepEqual(await ids(), before);
      // Later messages keep coming on the same connection.
      assert.equal(await client.publish('throws', 'd'), 1);
      await eventually(() => second.length === 4, 3000, 'a later message');
    } finally {
      await ps.close();
      await sub.close();
    }
  });

  it('with no \'error\' listener a throwing per-channel handler becomes a process warning; messages keep coming', async () => {
    const ps = client.pubsub();
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => {
      if (w.name === 'PubSubHandlerWarning') warnings.push(w);
    };
    process.on('warning', onWarning);
    try {
      const got: string[] = [];
      await ps.subscribe({
        'throws-alone': (m: PubSubMessage) => {
          got.push(String(m.data));
          if (m.data === 'x') throw new TypeError('bad payload');
        },
      });
      await client.pipeline().publish('throws-alone', 'x').publish('throws-alone', 'y').execute();
      await eventually(() => got.length === 2 && warnings.length === 1, 3000, 'both messages and the warning');
      assert.deepEqual(got, ['x', 'y']);
      assert.match(warnings[0]!.message, /throws-alone.*TypeError: bad payload/);
      assert.ok(warnings[0]!.cause instanceof TypeError);
      assert.equal(await ps.ping(), true);
    } finally {
      process.off('warning', onWarning);
      await ps.close();
    }
  });

  it('keeps receiving after its server restarts: it re-subscribes to everything', async () => {
    const server = servers[0]!;
    const ps = client.pubsub();
    try {
      await ps.subscribe('before-restart');
      await ps.psubscribe('pat.*');
      const messages: PubSubMessage[] = [];
      ps.on('message', (m: PubSubMessage) => messages.push(m));
      ps.on('pmessage', (m: PubSubMessage) => messages.push(m));
      const reconnected = nextEvent<void>(ps, 'reconnect');
      await server.restart();
      await reconnected;
      // The re-subscription is confirmed when publishing reaches a receiver again.
      await eventually(async () => (await client.publish('before-restart', 'after')) === 1, 5000, 're-subscription');
      await eventually(async () => (await client.publish('pat.x', 'after')) === 1, 5000, 'pattern re-subscription');
      await eventually(() => messages.length >= 2, 2000, 'messages');
      assert.deepEqual(messages.map((m) => [m.type, m.channel, m.data]), [
        ['message', 'before-restart', 'after'],
        ['pmessage', 'pat.x', 'after'],
      ]);
      // New subscriptions work on the new connection too.
      await ps.subscribe('after-restart');
      assert.equal(await client.publish('after-restart', 'y'), 1);
    } finally {
      await ps.close();
    }
  });
});

/** Stops the server until `ps` reports the connection lost, which must take under 2 s. */
async function noticesPause(server: RedisServer, ps: PubSub): Promise<void> {
  const lost = nextEvent<void>(ps, 'disconnect', 3000);
  const started = performance.now();
  server.pause();
  try {
    await lost;
  } finally {
    server.resume();
  }
  const noticed = Math.round(performance.now() - started);
  assert.ok(noticed < 2000, `noticed after ${noticed} ms`);
}
