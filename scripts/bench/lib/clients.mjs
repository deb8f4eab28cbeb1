/**
 * One small adapter per client, so every scenario runs the same code against each:
 * set / get / a pipeline of SETs / close. Each adapter uses its library the way its own
 * documentation shows (defaults kept), and the explicit pipeline API where it has one.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);

/**
 * A module of the built redisdb: dist/ at the top of the repository, or the build named by
 * REDISDB_BENCH_DIST (to compare two builds of redisdb with each other).
 */
export function distUrl(path) {
  const base = process.env.REDISDB_BENCH_DIST;
  return base ? pathToFileURL(`${base}/${path}`).href : new URL(`../../../dist/${path}`, import.meta.url).href;
}

export const CLIENTS = ['redisdb', 'node-redis5', 'node-redis6', 'ioredis'];
export const PEERS = CLIENTS.filter((c) => c !== 'redisdb');

export const LABELS = {
  redisdb: 'redisdb',
  'node-redis5': 'node-redis 5',
  'node-redis6': 'node-redis 6',
  ioredis: 'ioredis',
  'redis-parser': 'redis-parser',
  'node-redis5-decoder': 'node-redis 5 decoder',
  crypto: 'node:crypto md5',
  'redis-benchmark': 'redis-benchmark -P 100',
  const: 'ConstRedis, 1 node',
  near: 'ConstRedis with nearCache',
  ring1: 'RedisRing, 1 node',
  ring3: 'RedisRing, 3 nodes',
  copy2: 'RedisCopy, 2 nodes',
  dual2: 'two ConstRedis, each write sent to both (Promise.all)',
  floor: 'no client (import + raw PING)',
  cluster3: 'RedisCluster, 3 primaries',
  'ioredis-cluster': 'ioredis Cluster, 3 primaries',
  'node-redis-cluster': 'node-redis 5 createCluster, 3 primaries',
  const3: 'three ConstRedis, each key sent to its slot\'s primary by hand',
};

/** A Redis Cluster client of each library over the cluster's `ports`: set / get / close. */
export async function openCluster(name, ports) {
  const seeds = ports.map((port) => ({ host: '127.0.0.1', port }));
  if (name === 'cluster3') {
    const { RedisCluster } = await import(distUrl('index.mjs'));
    const c = new RedisCluster(seeds.map((s) => `${s.host}:${s.port}`));
    await c.connect();
    return { raw: c, set: (k, v) => c.set(k, v), get: (k) => c.get(k), close: () => c.close() };
  }
  if (name === 'const3') {
    // The least a client does to talk to a cluster: one connection per primary, each key's
    // slot looked up in a table read once. What RedisCluster's own cost is measured against.
    const { ConstRedis, slotOf } = await import(distUrl('index.mjs'));
    const clients = ports.map((port) => new ConstRedis({ host: '127.0.0.1', port }));
    const byPort = new Map(ports.map((p, i) => [p, clients[i]]));
    const owner = new Array(16384);
    for (const [from, to, [, port]] of await clients[0].call('CLUSTER', 'SLOTS')) owner.fill(byPort.get(Number(port)), Number(from), Number(to) + 1);
    const at = (k) => owner[slotOf(k)];
    return { raw: clients, set: (k, v) => at(k).set(k, v), get: (k) => at(k).get(k), close: () => Promise.all(clients.map((c) => c.close())) };
  }
  if (name === 'ioredis-cluster') {
    const { Cluster } = await import('ioredis');
    const c = new Cluster(seeds, { lazyConnect: true });
    c.on('error', () => {});
    await c.connect();
    return { raw: c, set: (k, v) => c.set(k, v), get: (k) => c.get(k), close: () => c.quit() };
  }
  if (name === 'node-redis-cluster') {
    const { createCluster } = await import('redis');
    const c = createCluster({ rootNodes: seeds.map((s) => ({ socket: s })) });
    c.on('error', () => {});
    await c.connect();
    return { raw: c, set: (k, v) => c.set(k, v), get: (k) => c.get(k), close: () => c.close() };
  }
  throw new Error(`unknown cluster client ${name}`);
}

/** redisdb's backends over `ports.length` local servers: set / get / close, like openClient. */
export async function openBackend(name, ports) {
  const { RedisRing, RedisCopy } = await import(distUrl('index.mjs'));
  const nodes = ports.map((p) => `127.0.0.1:${p}`);
  if (name === 'dual2') {
    // The least any client does to write to two servers: what RedisCopy's cost is measured against.
    const { ConstRedis } = await import(distUrl('index.mjs'));
    const [a, b] = ports.map((port) => new ConstRedis({ host: '127.0.0.1', port }));
    await Promise.all([a.connect(), b.connect()]);
    return {
      raw: [a, b], set: (k, v) => Promise.all([a.set(k, v), b.set(k, v)]), get: (k) => a.get(k),
      close: () => Promise.all([a.close(), b.close()]),
    };
  }
  const b = name.startsWith('ring') ? new RedisRing(nodes) : new RedisCopy(nodes);
  return { raw: b, set: (k, v) => b.set(k, v), get: (k) => b.get(k), close: () => b.close() };
}

export function versions() {
  return {
    'node-redis5': require('redis/package.json').version,
    'node-redis6': require('redis6/package.json').version,
    ioredis: require('ioredis/package.json').version,
    'redis-parser': require('redis-parser/package.json').version,
  };
}

export async function openClient(name, port, config = {}) {
  switch (name) {
    case 'floor': {
      // No client: one dynamic import and a raw PING over node:net, what any client pays.
      await import('./empty.mjs');
      const net = await import('node:net');
      const socket = net.connect({ host: '127.0.0.1', port });
      await new Promise((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
      const ask = (line) => new Promise((resolve) => { socket.once('data', resolve); socket.write(line); });
      return { raw: socket, get: () => ask('PING\r\n'), set: () => ask('PING\r\n'), close: () => socket.end() };
    }
    case 'const':
    case 'near':
    case 'redisdb': {
      const { ConstRedis } = await import(distUrl('index.mjs'));
      const c = new ConstRedis({ host: '127.0.0.1', port, ...(name === 'near' ? { nearCache: true } : {}) });
      await c.connect();
      return {
        raw: c,
        set: (k, v) => c.set(k, v),
        get: (k) => c.get(k),
        pipelineSet: process.env.REDISDB_BENCH_IMPLICIT
          // Commands issued in one tick go out together anyway (the implicit pipeline).
          ? (keys, v) => Promise.all(keys.map((k) => c.set(k, v)))
          : (keys, v) => {
            const p = c.pipeline({ transaction: false });
            for (const k of keys) p.set(k, v);
            return p.exec();
          },
        close: () => c.close(),
      };
    }
    case 'node-redis5':
    case 'node-redis6': {
      const { createClient } = await import(name === 'node-redis5' ? 'redis' : 'redis6');
      const c = createClient({ socket: { host: '127.0.0.1', port } });
      c.on('error', () => {});
      await c.connect();
      return {
        raw: c,
        set: (k, v) => c.set(k, v),
        get: (k) => c.get(k),
        pipelineSet: (keys, v) => {
          const m = c.multi();
          for (const k of keys) m.set(k, v);
          return m.execAsPipeline();
        },
        close: () => c.close(),
      };
    }
    case 'ioredis': {
      const { Redis } = await import('ioredis');
      const c = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
      c.on('error', () => {});
      await c.connect();
      return {
        raw: c,
        set: (k, v) => c.set(k, v),
        get: (k) => c.get(k),
        pipelineSet: (keys, v) => {
          const p = c.pipeline();
          for (const k of keys) p.set(k, v);
          return p.exec();
        },
        close: () => c.quit(),
      };
    }
    default:
      throw new Error(`unknown client ${name}`);
  }
}
