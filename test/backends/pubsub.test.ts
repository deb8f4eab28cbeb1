import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConstRedis } from '../../src/client/const-redis.js';
import type { PubSubMessage } from '../../src/client/pubsub.js';
import { RedisCopy, RedisRing } from '../../src/backends/index.js';
import { useClients } from '../helpers/clients.js';
import { useServers } from '../helpers/servers.js';
import { eventually } from '../helpers/wait.js';

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
