import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConstRedis } from '../../src/client/const-redis.ts';
import type { PubSubMessage } from '../../src/client/pubsub.ts';
import { RedisCopy, RedisRing } from '../../src/backends/index.ts';
import { useClients } from '../helpers/clients.ts';
import { useServers } from '../helpers/servers.ts';
import { eventually } from '../helpers/wait.ts';

/** Channels named `${prefix}${i}` until there is one on each of 3 nodes. */
function channelsOnEveryNode(backend: { nodeIndexFor(k: string): number }, prefix: string): string[] {
  const out: string[] = [];
  const seen = new Set<number>();
  for (let i = 0; seen.size < 3; i++) {
    const node = backend.nodeIndexFor(`${prefix}${i}`);
    if (!seen.has(node)) out.push(`${prefix}${i}`);
    seen.add(node);
  }
  return out;
}

describe('pub/sub on backends', () => {
  const servers = useServers(3);
  let ring: RedisRing;
  let copy: RedisCopy;
  let direct: ConstRedis[];

  useClients(() => {
    ring = new RedisRing(servers.map((s) => s.address), { DB: 0 });
    copy = new RedisCopy(servers.map((s) => s.address), { DB: 0 });
    direct = servers.map((s) => new ConstRedis(s.url));
    return [ring, copy, ...direct];
  });

  it('subscribes each channel on the node its name hashes to, where publish sends it', async () => {
    const channels = channelsOnEveryNode(ring, 'ch:');
    const ps = ring.pubsub();
    try {
      await ps.subscribe(channels);
      for (const ch of channels) {
        const counts = await Promise.all(direct.map(async (d) => (await d.call('PUBSUB', 'NUMSUB', ch)) as [string, number]));
        assert.deepEqual(counts.map((c) => Number(c[1])), [0, 1, 2].map((i) => (i === ring.nodeIndexFor(ch) ? 1 : 0)));
      }
      const got: PubSubMessage[] = [];
      ps.on('message', (m: PubSubMessage) => got.push(m));
      for (const ch of channels) assert.equal(await ring.publish(ch, `to ${ch}`), 1);
      await eventually(() => got.length === channels.length, 2000, 'messages');
      assert.deepEqual(got.map((m) => m.data).sort(), channels.map((c) => `to ${c}`).sort());
    } finally {
      await ps.close();
    }
  });

  it('on RedisCopy, publish goes to one node: each message is delivered once', async () => {
    const ps = copy.pubsub();
    try {
      await ps.psubscribe('news.*');
      await ps.subscribe('news.flash');
      const received: string[] = [];
      const loop = (async () => {
        for await (const m of ps) {
          received.push(`${m.type}:${String(m.data)}`);
          if (received.length === 5) break;
        }
      })();
      const publishCalls = async (): Promise<number> => {
        const stats = await Promise.all(direct.map((d) => d.info('commandstats')));
        return stats.reduce((acc, s) => acc + ((s['cmdstat_publish'] as Record<string, number> | undefined)?.['calls'] ?? 0), 0);
      };
      const before = await publishCalls();
      // One receiver of the channel and one of the pattern, on the channel's node.
      assert.equal(await copy.publish('news.flash', 'one'), 2);
      assert.equal(await copy.publish('news.sport', 'two'), 1);
      assert.equal(await copy.publish('news.flash', 'three'), 2);
      await loop;
      assert.deepEqual(received.sort(), ['message:one', 'message:three', 'pmessage:one', 'pmessage:three', 'pmessage:two']);
      // Three PUBLISH commands in all, not three per node.
      assert.equal((await publishCalls()) - before, 3);
    } finally {
      await ps.close();
    }
  });

  it('patterns are subscribed on every node and each message arrives once', async () => {
    const channels = channelsOnEveryNode(ring, 'evt.');
    const ps = ring.pubsub();
    try {
      await ps.psubscribe('evt.*');
      const got: PubSubMessage[] = [];
      ps.on('pmessage', (m: PubSubMessage) => got.push(m));
      for (const ch of channels) assert.equal(await ring.publish(ch, ch), 1);
      await eventually(() => got.length === channels.length, 2000, 'pmessages');
      assert.deepEqual(got.map((m) => m.channel).sort(), channels.slice().sort());
      await ps.punsubscribe('evt.*');
      assert.equal(await ring.publish(channels[0]!, 'x'), 0);
    } finally {
      await ps.close();
    }
  });
});

describe('pub/sub on a backend: endings and listeners that throw', () => {
  const servers = useServers(2);

  it('closing the backend ends a for-await loop on its pubsub', { timeout: 20_000 }, async () => {
    const ring = new RedisRing(servers.map((s) => s.address));
    const ps = ring.pubsub();
    await ps.subscribe('end:a');
    const got: string[] = [];
    const loop = (async () => {
      for await (const m of ps) got.push(String(m.data));
      return 'ended';
    })();
    await eventually(async () => (await ring.publish('end:a', 'one')) === 1, 5000, 'subscribed');
    await eventually(() => got.includes('one'), 5000, 'the message');
    await ring.close();
    assert.equal(await loop, 'ended');
  });

  it('a listener that throws neither robs the next listener nor goes unheard', { timeout: 20_000 }, async () => {
    const ring = new RedisRing(servers.map((s) => s.address));
    const ps = ring.pubsub();
    const errors: Array<[string, string]> = [];
    const seen: string[] = [];
    ps.on('message', (m: PubSubMessage) => {
      if (m.data === 'boom') throw new Error('listener failed');
    });
    ps.on('message', (m: PubSubMessage) => seen.push(String(m.data)));
    ps.on('error', (err: Error, m: PubSubMessage) => errors.push([err.message, String(m.data)]));
    await ps.subscribe('throw:a');
    await eventually(async () => (await ring.publish('throw:a', 'boom')) === 1, 5000, 'subscribed');
    await ring.publish('throw:a', 'after');
    await eventually(() => seen.includes('after'), 5000, 'the later message');
    assert.deepEqual(seen.filter((d) => d === 'boom' || d === 'after').slice(-2), ['boom', 'after']);
    assert.deepEqual(errors[0], ['listener failed', 'boom']);
    await ps.close();
    await ring.close();
  });
});
