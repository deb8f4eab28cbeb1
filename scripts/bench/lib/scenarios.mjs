/**
 * The scenarios. Each takes { scenario, client, port, ms, warmupMs, ... } and returns
 * { value, unit, ... } where a higher value is better.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { distUrl, openBackend, openClient, openCluster } from './clients.mjs';
import { quantile } from './stats.mjs';

const require = createRequire(import.meta.url);

/** 64 callers, each SET then GET on its own key, through one client: (b) and (g). */
async function setThenGet(config, c, scenario) {
  const r = await timed(config, async (until) => {
    let ops = 0;
    const caller = async (i) => {
      const key = `bench:${scenario}:${i}`;
      const value = `value-${i}`;
      while (performance.now() < until) {
        await c.set(key, value);
        await c.get(key);
        ops += 2;
      }
    };
    await Promise.all(Array.from({ length: 64 }, (_, i) => caller(i)));
    return { ops };
  });
  await c.close();
  return { value: r.ops / r.seconds, unit: 'ops/s', cpuUsPerOp: r.cpuUs / r.ops };
}

/** Heap growth per near-cache entry over 10,000 more one-key GETs kept, after a full GC each side. */
async function bytesPerEntry(c) {
  const v8 = await import('node:v8');
  const { runInNewContext } = await import('node:vm');
  v8.setFlagsFromString('--expose_gc');
  const gc = runInNewContext('gc');
  const keys = Array.from({ length: 10_000 }, (_, i) => `bench:jm:${i}`);
  await Promise.all(keys.map((k, i) => c.set(k, `value-of-hot-key-${i}`)));
  const entries = () => c.raw.nearCacheStats().entries;
  gc();
  const before = process.memoryUsage().heapUsed;
  const had = entries();
  for (let i = 0; i < keys.length; i += 500) await Promise.all(keys.slice(i, i + 500).map((k) => c.get(k)));
  gc();
  const kept = entries() - had;
  return (process.memoryUsage().heapUsed - before) / kept;
}

export async function runScenario(config) {
  const run = SCENARIOS[config.scenario];
  if (run === undefined) throw new Error(`unknown scenario ${config.scenario}`);
  return run(config);
}

/** Runs `body` for warmupMs (not counted), then for ms; returns the counted result. */
async function timed(config, body) {
  await body(performance.now() + config.warmupMs, false);
  const cpu = process.cpuUsage();
  const start = performance.now();
  const counted = await body(start + config.ms, true);
  const used = process.cpuUsage(cpu);
  // Client CPU per unit of work: steadier than throughput when other processes share the cores.
  return { ...counted, seconds: (performance.now() - start) / 1000, cpuUs: used.user + used.system };
}

const SCENARIOS = {
  /** (a) one caller, sequential GET: throughput and latency percentiles. */
  async a(config) {
    const c = await openClient(config.client, config.port);
    await c.set('bench:a', 'value-of-a-small-string');
    const lat = new Float64Array(2_000_000);
    let n = 0;
    const r = await timed(config, async (until, counting) => {
      let ops = 0;
      for (let now = performance.now(); now < until; ) {
        await c.get('bench:a');
        const after = performance.now();
        if (counting && n < lat.length) lat[n++] = after - now;
        now = after;
        ops++;
      }
      return { ops };
    });
    await c.close();
    const sorted = lat.subarray(0, n).sort();
    return {
      value: r.ops / r.seconds, unit: 'ops/s', cpuUsPerOp: r.cpuUs / r.ops,
      p50us: quantile(sorted, n, 0.5) * 1000, p99us: quantile(sorted, n, 0.99) * 1000,
    };
  },

  /** (b) 64 callers, each SET then GET on its own key, one connection. */
  async b(config) {
    return setThenGet(config, await openClient(config.client, config.port), 'b');
  },

  /** (c) explicit pipelines of 1000 SETs, one after the other. */
  async c(config) {
    const c = await openClient(config.client, config.port);
    const keys = Array.from({ length: 1000 }, (_, i) => `bench:c:${i}`);
    const r = await timed(config, async (until) => {
      let ops = 0;
      while (performance.now() < until) {
        await c.pipelineSet(keys, 'xxx');
        ops += keys.length;
      }
      return { ops };
    });
    await c.close();
    return { value: r.ops / r.seconds, unit: 'ops/s', cpuUsPerOp: r.cpuUs / r.ops };
  },

  /** (d) 100 KB values, 16 callers each SET then GET on its own key: MB/s both ways. */
  async d(config) {
    const c = await openClient(config.client, config.port);
    const size = 100 * 1024;
    const r = await timed(config, async (until) => {
      let bytes = 0;
      const caller = async (i) => {
        const key = `bench:d:${i}`;
        const value = String.fromCharCode(97 + i).repeat(size);
        while (performance.now() < until) {
          await c.set(key, value);
          const got = await c.get(key);
          if (got.length !== size) throw new Error(`(d) read back ${got.length} bytes`);
          bytes += 2 * size;
        }
      };
      await Promise.all(Array.from({ length: 16 }, (_, i) => caller(i)));
      return { bytes };
    });
    await c.close();
    return { value: r.bytes / 1e6 / r.seconds, unit: 'MB/s', cpuUsPerOp: r.cpuUs / (r.bytes / 1e6) };
  },

  /** (e) the reply decoder alone on a prepared stream fed in 64 KB chunks. */
  async e(config) {
    const data = readFileSync(config.decoderFile);
    const chunks = [];
    for (let i = 0; i < data.length; i += 64 * 1024) chunks.push(data.subarray(i, i + 64 * 1024));
    const feed = await decoderFor(config.client);
    // Warm the JIT on the first tenth with a throw-away decoder.
    const warm = feed();
    for (let i = 0; i < chunks.length / 10; i++) warm.write(chunks[i]);
    // The best of five passes, each with a fresh decoder: a pass that another process
    // slowed down says nothing about the decoder.
    let best = null;
    for (let pass = 0; pass < 5; pass++) {
      const d = feed();
      const cpu = process.cpuUsage();
      const start = performance.now();
      for (const chunk of chunks) d.write(chunk);
      const seconds = (performance.now() - start) / 1000;
      const used = process.cpuUsage(cpu);
      if (d.count() !== config.decoderReplies) {
        throw new Error(`(e) ${config.client} decoded ${d.count()} replies, expected ${config.decoderReplies}`);
      }
      const cpuSeconds = (used.user + used.system) / 1e6;
      if (best === null || cpuSeconds < best.cpuSeconds) best = { cpuSeconds, seconds, count: d.count() };
    }
    // Pure CPU work: counted per CPU-second, which other processes on the machine skew less
    // than wall time.
    return {
      value: best.count / best.cpuSeconds, unit: 'replies/CPU-s', wallPerSec: best.count / best.seconds,
      mbps: data.length / 1e6 / best.cpuSeconds, cpuUsPerOp: (best.cpuSeconds * 1e6) / best.count,
    };
  },

  /** (f) ketama lookups of keys like user:123456 on a 4-node continuum. */
  async f(config) {
    const { Continuum } = await import(distUrl('index.mjs'));
    const continuum = new Continuum([0, 1, 2, 3].map((i) => ({ name: `10.0.0.${i + 1}:6379`, weight: 1 })));
    const keys = Array.from({ length: 1 << 16 }, (_, i) => `user:${100000 + ((i * 7919) % 900000)}`);
    let lookup;
    if (config.client === 'redisdb') {
      lookup = (k) => continuum.nodeFor(k);
    } else {
      // The same continuum, searched with an MD5 from node:crypto.
      const { createHash } = await import('node:crypto');
      const pts = continuum.points();
      const points = Uint32Array.from(pts, (p) => p.point);
      const owners = Int32Array.from(pts, (p) => p.index);
      lookup = (k) => {
        const h = createHash('md5').update(k).digest().readUInt32LE(0);
        let lo = 0;
        let hi = points.length;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (points[mid] < h) lo = mid + 1;
          else hi = mid;
        }
        return owners[lo === points.length ? 0 : lo];
      };
      for (const k of keys.slice(0, 1000)) {
        if (lookup(k) !== continuum.nodeFor(k)) throw new Error(`(f) lookups disagree on ${k}`);
      }
    }
    const r = await timed(config, async (until) => {
      let ops = 0;
      let sink = 0;
      while (performance.now() < until) {
        for (let i = 0; i < keys.length; i++) sink += lookup(keys[i]);
        ops += keys.length;
      }
      return { ops, sink };
    });
    return { value: r.ops / (r.cpuUs / 1e6), unit: 'lookups/CPU-s', wallPerSec: r.ops / r.seconds, cpuUsPerOp: r.cpuUs / r.ops };
  },

  /** (g) 64 callers, SET then GET, through RedisRing over 1 or 3 nodes, or ConstRedis alone. */
  async g(config) {
    const c = config.client === 'const' ? await openClient('const', config.ports[0]) : await openBackend(config.client, config.ports.slice(0, config.client === 'ring3' ? 3 : 1));
    return setThenGet(config, c, 'g');
  },

  /** (h) 64 callers writing (SET): RedisCopy to 2 nodes, ConstRedis to one, or two ConstRedis to both. */
  /** (i) a Redis Cluster of 3 primaries, 64 callers SET then GET; ConstRedis on one plain node beside it. */
  async i(config) {
    const c = config.client === 'const' ? await openClient('const', config.ports[0]) : await openCluster(config.client, config.clusterPorts);
    return setThenGet(config, c, 'i');
  },

  /**
   * (j) repeated GET of 1,000 hot keys by 1 or 64 callers, through the near cache or not; with
   * it, the heap each kept entry costs (heap growth over 10,000 more entries, after a full GC).
   */
  async j(config) {
    const c = await openClient(config.client, config.port);
    const HOT = 1000;
    const keys = Array.from({ length: HOT }, (_, i) => `bench:j:${i}`);
    await Promise.all(keys.map((k, i) => c.set(k, `value-of-hot-key-${i}`)));
    const callers = config.callers ?? 1;
    const r = await timed(config, async (until) => {
      let ops = 0;
      const caller = async (start) => {
        for (let i = start; performance.now() < until; i = (i + 1) % HOT) {
          // A read answered from memory settles without I/O: each round of keys lets the event loop run.
          if (i === 0) await new Promise((resolve) => setImmediate(resolve));
          await c.get(keys[i]);
          ops++;
        }
      };
      await Promise.all(Array.from({ length: callers }, (_, i) => caller((i * 15) % HOT)));
      return { ops };
    });
    const out = { value: r.ops / r.seconds, unit: 'ops/s', cpuUsPerOp: r.cpuUs / r.ops };
    if (config.client === 'near') out.bytesPerEntry = await bytesPerEntry(c);
    await c.close();
    return out;
  },

  async h(config) {
    const c = config.client === 'const' ? await openClient('const', config.ports[0]) : await openBackend(config.client, config.ports.slice(0, 2));
    const r = await timed(config, async (until) => {
      let ops = 0;
      const caller = async (i) => {
        const key = `bench:h:${i}`;
        for (let n = 0; performance.now() < until; n++) {
          await c.set(key, `value-${n}`);
          ops++;
        }
      };
      await Promise.all(Array.from({ length: 64 }, (_, i) => caller(i)));
      return { ops };
    });
    await c.close();
    return { value: r.ops / r.seconds, unit: 'writes/s', cpuUsPerOp: r.cpuUs / r.ops };
  },

  /** Importing the client and connecting: CPU time until the first reply. */
  async startup(config) {
    const before = process.cpuUsage();
    const t0 = performance.now();
    const c = await openClient(config.client, config.port, config);
    await c.get('bench:startup');
    const cpu = process.cpuUsage(before);
    const wallMs = performance.now() - t0;
    await c.close();
    return { value: (cpu.user + cpu.system) / 1000, unit: 'ms CPU', lowerIsBetter: true, wallMs };
  },
};

/** A factory of decoders under test, each with write(chunk) and count() of top-level replies. */
async function decoderFor(name) {
  if (name === 'redisdb') {
    const { Decoder } = await import(distUrl('index.mjs'));
    return () => {
      let count = 0;
      const d = new Decoder(() => { count++; });
      return { write: (chunk) => d.feed(chunk), count: () => count };
    };
  }
  if (name === 'redis-parser') {
    const Parser = require('redis-parser');
    return () => {
      let count = 0;
      const onReply = () => { count++; };
      const p = new Parser({
        returnReply: onReply, returnError: onReply,
        returnFatalError: (err) => { throw err; }, returnBuffers: false, stringNumbers: false,
      });
      return { write: (chunk) => p.execute(chunk), count: () => count };
    };
  }
  if (name === 'node-redis5-decoder') {
    const { Decoder } = require('@redis/client/dist/lib/RESP/decoder.js');
    return () => {
      let count = 0;
      const onReply = () => { count++; };
      const d = new Decoder({ onReply, onErrorReply: onReply, onPush: onReply, getTypeMapping: () => ({}) });
      return { write: (chunk) => d.write(chunk), count: () => count };
    };
  }
  throw new Error(`no decoder for ${name}`);
}
