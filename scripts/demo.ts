/**
 * `npm start`: the reference's quick usage guide, through RedisRing and RedisCopy.
 *
 * With REDISDB_LOCATION (comma-separated, e.g. "127.0.0.1:6379,127.0.0.1:6380") it uses those
 * servers; without it, it starts two local redis-server processes on free ports and stops them
 * at the end.
 */
import { inspect } from 'node:util';
import { ConstRedis, RedisCopy, RedisRing } from '../src/index.ts';
import { startServers, type RedisServer } from './lib/redis-server.ts';

function show(call: string, result: unknown): void {
  console.log(`>>> ${call}\n${inspect(result, { depth: 4, colors: process.stdout.isTTY })}`);
}

async function main(): Promise<void> {
  let servers: RedisServer[] = [];
  let location: string[];
  const fromEnv = process.env['REDISDB_LOCATION'];
  if (fromEnv) {
    location = fromEnv.split(',').map((s) => s.trim()).filter(Boolean);
    console.log(`Using REDISDB_LOCATION: ${location.join(', ')}`);
  } else {
    servers = await startServers(2);
    location = servers.map((s) => s.address);
    console.log(`Started two local redis-server nodes: ${location.join(', ')}\n`);
  }

  const params = { DB: 0, OPTIONS: { socket_timeout: 5, socket_connect_timeout: 5 } };
  const ring = new RedisRing(location, params);
  const copy = new RedisCopy(location, params);
  try {
    console.log('# RedisRing: each key lives on one node');
    show("caches['redis_ring'].set('one_key', 123)", await ring.set('one_key', 123));
    show("caches['redis_ring'].get('one_key')", await ring.get('one_key'));
    show("caches['redis_ring'].nodeFor('one_key').address", ring.nodeFor('one_key').address);
    show("caches['redis_ring'].mset({ a: 1, b: 2, c: 3, d: 4 })", await ring.mset({ a: 1, b: 2, c: 3, d: 4 }));
    show("caches['redis_ring'].mget('a', 'b', 'c', 'd')", await ring.mget('a', 'b', 'c', 'd'));
    for (const node of ring.nodes) show(`node ${node.address}: keys('*')`, (await node.keys('*')).sort());

    console.log('\n# RedisCopy: writes go to every node, reads to the key\'s node');
    show("caches['redis_copy'].set('other_key', 234)", await copy.set('other_key', 234));
    show("caches['redis_copy'].zadd('myzset', 1, 'one')", await copy.zadd('myzset', 1, 'one'));
    show("caches['redis_copy'].zadd('myzset', 2, 'two')", await copy.zadd('myzset', 2, 'two'));
    show("caches['redis_copy'].zadd('myzset', 3, 'three')", await copy.zadd('myzset', 3, 'three'));
    show("caches['redis_copy'].zrange('myzset', 0, -1)", await copy.zrange('myzset', 0, -1));
    show("caches['redis_copy'].zrange('myzset', 0, -1, { withscores: true })", await copy.zrange('myzset', 0, -1, { withscores: true }));
    for (const node of copy.nodes) show(`node ${node.address}: get('other_key')`, await node.get('other_key'));

    console.log('\n# Any command, even one redisdb never names');
    show("caches['redis_copy'].getex('other_key', 'EX', 60)", await copy.getex('other_key', 'EX', 60));
    show("caches['redis_copy'].ttl('other_key')", await copy.ttl('other_key'));

    if (servers.length > 0) {
      console.log('\n# RedisCopy keeps serving reads when a node goes down');
      const keyNode = copy.nodeFor('other_key').address;
      const victim = servers.find((s) => s.address === keyNode)!;
      await victim.kill();
      console.log(`(killed ${victim.address}, the node 'other_key' is read from)`);
      show("caches['redis_copy'].get('other_key')", await copy.get('other_key'));
    }

    const one = new ConstRedis(location[0]!.includes('://') ? location[0]! : `redis://${location[0]}`);
    show(`ConstRedis(${one.address}).dbsize()`, await one.dbsize().catch((err: Error) => `${err.name}: ${err.message}`));
    one.disconnect();
  } finally {
    await Promise.all([ring.close(), copy.close()]);
    await Promise.all(servers.map((s) => s.stop()));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
