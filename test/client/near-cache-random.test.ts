/**
 * The near cache under writers on other connections (see test/helpers/near-check.ts for the
 * rule the checker holds every read to), seeded: REDISDB_SEED=<seed> replays a run's choices.
 * Variants: undisturbed, the invalidation connection killed, the data connection killed,
 * FLUSHALL. The invalidation latency on loopback is measured too. The failover variants run
 * where their servers are: CLUSTER FAILOVER in test/backends/near-cache.test.ts, SENTINEL
 * FAILOVER in test/client/sentinel.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { perTest } from '../helpers/clients.ts';
import { percentile, runNearCheck, seedFromEnv, type NearCheckReport } from '../helpers/near-check.ts';
import { useServers } from '../helpers/servers.ts';
import { eventually, nextEvent } from '../helpers/wait.ts';

for (const protocol of [2, 3] as const) describe(`near cache: randomized check, RESP${protocol}`, () => {
  const servers = useServers(1);
  const client = perTest(() => new ConstRedis({ port: servers[0]!.port, protocol, nearCache: { pingInterval: 200 } }));
  const plain = perTest(() => new ConstRedis({ port: servers[0]!.port }));
  const seed = seedFromEnv();

  async function setUp(): Promise<{ reader: ConstRedis; writer: ConstRedis }> {
    const reader = client();
    const writer = plain();
    await reader.connect();
    await eventually(() => reader.nearCache!.isTracking && reader.commandTable.isComplete, 3000, 'tracking on');
    return { reader, writer };
  }

  function judge(t: { diagnostic(m: string): void }, what: string, r: NearCheckReport, reader: ConstRedis): void {
    const s = reader.nearCacheStats()!;
    t.diagnostic(`${what} (REDISDB_SEED=${seed}): ${r.reads} reads (${s.hits} from memory), ${r.writes} writes, ${r.lateReads} within the invalidation window, ${r.errors} failed; ${s.invalidations} invalidations, ${s.flushes} flushes, ${s.uncached} replies not kept`);
    assert.deepEqual(r.violations.slice(0, 5), [], `seed ${seed}`);
    assert.ok(r.reads > 200 && r.writes > 50, `enough traffic: ${r.reads} reads, ${r.writes} writes`);
    assert.ok(s.hits > 0 && s.invalidations > 0, 'reads answered from memory, and invalidated');
  }

  it('writers on other connections: no read older than an invalidated acknowledged write; invalidation latency', async (t) => {
    const { reader, writer } = await setUp();
    const r = await runNearCheck({ seed, reader, writer, caches: () => [reader.nearCache!] });
    judge(t, `undisturbed, RESP${protocol}`, r, reader);

    // Latency: from a write sent on another connection to its invalidation arriving.
    const near = reader.nearCache!;
    const latencies: number[] = [];
    const acks: number[] = [];
    for (let i = 0; i < 200; i++) {
      const k = `nc:lat:${i % 10}`;
      await reader.get(k);
      await reader.get(k); // tracked and kept
      let at = 0;
      const arrived = nextEvent<string[]>(near, 'invalidate', 2000).then(() => {
        at = performance.now();
      });
      const sent = performance.now();
      await writer.set(k, String(i));
      acks.push(performance.now() - sent);
      await arrived;
      latencies.push(at - sent);
    }
    t.diagnostic(`RESP${protocol} invalidation latency on loopback over ${latencies.length} writes (from the write sent to its invalidation read): p50 ${percentile(latencies, 50).toFixed(3)} ms, p99 ${percentile(latencies, 99).toFixed(3)} ms; the write's own round trip: p50 ${percentile(acks, 50).toFixed(3)} ms, p99 ${percentile(acks, 99).toFixed(3)} ms`);
    assert.ok(percentile(latencies, 50) < 50);
  });

  // RESP3 has no invalidation connection to kill: its invalidations come on the data connection.
  if (protocol === 2) it('the invalidation connection killed twice', async (t) => {
    const { reader, writer } = await setUp();
    const near = reader.nearCache!;
    const ids = new Set<number | null | undefined>([near.source.id]);
    const r = await runNearCheck({
      seed, reader, writer, caches: () => [near],
      disrupt: async () => {
        await eventually(() => near.isTracking, 3000, 'tracking on');
        const killed = near.source.id;
        ids.add(killed);
        await writer.call('CLIENT', 'KILL', 'ID', killed!);
        await eventually(() => near.isTracking && near.source.id !== killed, 3000, 'tracking again');
        ids.add(near.source.id);
      },
    });
    judge(t, 'invalidation connection killed', r, reader);
    assert.equal(ids.size, 3); // the first subscriber and the two that replaced it
  });

  it('the data connection killed twice', async (t) => {
    const { reader, writer } = await setUp();
    let reconnects = 0;
    reader.connection.on('ready', () => reconnects++);
    const r = await runNearCheck({
      seed, reader, writer, caches: () => [reader.nearCache!],
      disrupt: async () => {
        await eventually(() => reader.nearCache!.isTracking, 3000, 'tracking on');
        await writer.call('CLIENT', 'KILL', 'ID', await reader.call('CLIENT', 'ID'));
      },
    });
    judge(t, 'data connection killed', r, reader);
    // A kill may find nothing kept (just after the previous reconnect): the checker, not a flush count, is what must hold.
    assert.equal(reconnects, 2);
  });

  it('FLUSHALL twice', async (t) => {
    const { reader, writer } = await setUp();
    const r = await runNearCheck({ seed, reader, writer, caches: () => [reader.nearCache!], disrupt: 'flushall' });
    judge(t, 'FLUSHALL', r, reader);
  });
});
