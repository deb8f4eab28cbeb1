/**
 * ConstRedis through Redis Sentinel on a real set (a master, 2 replicas, 3 sentinels): the
 * options and the redis+sentinel:// URL, a replica by role, a sentinel-found node as a ring
 * entry, the three distinct failures, SENTINEL FAILOVER under 16 callers, the near cache's
 * randomized check (RESP2 and RESP3 readers) through one SENTINEL FAILOVER, the ROLE poll
 * that leaves a demoted master when the failover's announcements never reach the client, the
 * master announced by +switch-master kept while a lagging sentinel still names the old one, and
 * the PINGs that find a silently dead subscription and renew it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisRing } from '../../src/backends/index.ts';
import { ConstRedis } from '../../src/client/const-redis.ts';
import type { RedirectSource } from '../../src/client/near-cache/invalidation.ts';
import { ConfigError, MasterUnreachableError, SentinelUnreachableError, UnknownServiceError } from '../../src/errors.ts';
import { freePort } from '../../scripts/lib/redis-server.ts';
import { SentinelProcess, startSentinelSet, type SentinelSet } from '../../scripts/lib/redis-sentinel.ts';
import { cli } from '../helpers/cluster.ts';
import { perTest } from '../helpers/clients.ts';
import { FaultProxy } from '../helpers/fault-proxy.ts';
import { runNearCheck, seedFromEnv } from '../helpers/near-check.ts';
import { useServers } from '../helpers/servers.ts';
import { eventually } from '../helpers/wait.ts';

describe('ConstRedis through Sentinel', () => {
  let set: SentinelSet;
  before(async () => {
    set = await startSentinelSet();
  });
  after(async () => {
    await set?.stop();
  });
  const other = useServers(1);
  const client = perTest((o: ConstructorParameters<typeof ConstRedis>[0]) => new ConstRedis(o));

  it('finds the master from the sentinels, and a replica with role: replica', async () => {
    const master = client({ sentinels: set.sentinelAddresses, service_name: set.service, socket_timeout: 2 });
    assert.equal(await master.set('s:k', 'v'), true);
    assert.equal(master.connection.address, `127.0.0.1:${await set.masterPort()}`);
    const replica = client({ sentinels: set.sentinelAddresses, serviceName: set.service, role: 'replica' });
    await eventually(async () => (await replica.get('s:k')) === 'v', 5000, 'the write replicated');
    assert.notEqual(replica.connection.address, master.connection.address);
    assert.equal(((await replica.call('ROLE')) as unknown[])[0], 'slave');
  });

  it('takes redis+sentinel:// URLs, also as a RedisRing LOCATION entry', async () => {
    const url = `redis+sentinel://${set.sentinelAddresses.join(',')}/${set.service}/3`;
    const byUrl = client(url);
    await byUrl.set('u:k', 'db3');
    assert.equal(byUrl.options.db, 3);
    assert.equal(await cli(await set.masterPort(), '-n', '3', 'GET', 'u:k'), 'db3\n');
    const ring = new RedisRing([`redis+sentinel://${set.sentinelAddresses.join(',')}/${set.service}`, other[0]!.address]);
    try {
      for (let i = 0; i < 20; i++) await ring.set(`ring:${i}`, i);
      assert.deepEqual(await ring.mget(Array.from({ length: 20 }, (_, i) => `ring:${i}`)), Array.from({ length: 20 }, (_, i) => String(i)));
      assert.equal(ring.addresses[0], `${set.service} (sentinel)`);
    } finally {
      await ring.close();
    }
    assert.throws(() => new ConstRedis({ sentinels: set.sentinelAddresses }), ConfigError);
    assert.throws(() => new ConstRedis({ sentinels: ['nohost'], service_name: 'x' }), ConfigError);
    assert.throws(() => new ConstRedis({ sentinels: set.sentinelAddresses, service_name: 'x', role: 'primary' as never }), ConfigError);
    assert.throws(() => new ConstRedis('redis+sentinel://h:1,h:2/'), ConfigError);
  });

  it('tells no sentinel reachable, an unknown service and an unreachable master apart, without the password', async () => {
    const closed = [await freePort(), await freePort()].map((p) => `127.0.0.1:${p}`);
    const none = client({ sentinels: closed, service_name: set.service, sentinel_password: 's3cret-sentinel' });
    const e1 = await none.get('k').then(() => null, (e: unknown) => e);
    assert.ok(e1 instanceof SentinelUnreachableError, String(e1));
    for (const a of closed) assert.match(e1.message, new RegExp(a));
    assert.doesNotMatch(e1.message, /s3cret/);
    const unknown = client({ sentinels: set.sentinelAddresses, service_name: 'nosuchservice' });
    await assert.rejects(unknown.get('k'), UnknownServiceError);
    const dead = await freePort();
    await cli(set.sentinels[0]!.port, 'SENTINEL', 'MONITOR', 'ghost', '127.0.0.1', String(dead), '2');
    try {
      const ghost = client({ sentinels: [set.sentinelAddresses[0]!], service_name: 'ghost', password: 'hunter2-data' });
      const e3 = await ghost.get('k').then(() => null, (e: unknown) => e);
      assert.ok(e3 instanceof MasterUnreachableError, String(e3));
      assert.match(e3.message, new RegExp(`127.0.0.1:${dead}`));
      assert.doesNotMatch(e3.message, /hunter2/);
    } finally {
      await cli(set.sentinels[0]!.port, 'SENTINEL', 'REMOVE', 'ghost');
    }
  });

  it('SENTINEL FAILOVER under 16 callers: no write acknowledged after the announcement exists only on the old master', async (t) => {
    // Every replica in sync first: one promoted in the middle of a full resync would lack every
    // write the old master took before the failover, and the count of those missing would say
    // nothing about the client.
    await set.waitSettled();
    const writer = client({ sentinels: set.sentinelAddresses, service_name: set.service, socket_timeout: 2 });
    await writer.ping();
    const oldPort = await set.masterPort();
    let announced = Infinity;
    writer.connection.once('sentinel-switch', () => {
      announced = performance.now();
    });
    const acked: Array<{ key: string; at: number }> = [];
    let failures = 0;
    let stop = false;
    const callers = Array.from({ length: 16 }, async (_, caller) => {
      for (let n = 0; !stop; n++) {
        const key = `fo:${caller}:${n}`;
        try {
          await writer.set(key, '1');
          acked.push({ key, at: performance.now() });
        } catch {
          failures++;
        }
      }
    });
    await eventually(() => acked.length > 200, 5000, 'writes flowing');
    const start = performance.now();
    assert.equal(await cli(set.sentinels[0]!.port, 'SENTINEL', 'FAILOVER', set.service), 'OK\n');
    await eventually(() => announced < Infinity, 15_000, 'the +switch-master announcement');
    await eventually(() => acked.some((a) => a.at > announced + 500), 10_000, 'writes on the new master');
    await eventually(async () => (await set.masterPort()) !== oldPort, 15_000, 'the sentinels naming the new master');
    const switchedAt = performance.now();
    stop = true;
    await Promise.all(callers);
    const newPort = await set.masterPort();
    assert.notEqual(newPort, oldPort);
    assert.equal(writer.connection.address, `127.0.0.1:${newPort}`);
    // Once the old master is demoted and has resynced, what it alone took is gone.
    await set.waitSettled();
    const after = acked.filter((a) => a.at > announced);
    const before = acked.filter((a) => a.at <= announced);
    const missing = async (list: typeof acked): Promise<string[]> => {
      const out: string[] = [];
      for (let i = 0; i < list.length; i += 500) {
        const part = list.slice(i, i + 500).map((a) => a.key);
        const values = (await cli(newPort, 'MGET', ...part)).split('\n').slice(0, part.length);
        part.forEach((k, j) => {
          if (values[j] !== '1') out.push(k);
        });
      }
      return out;
    };
    const lostAfter = await missing(after);
    const lostBefore = await missing(before);
    t.diagnostic(`SENTINEL FAILOVER: the client switched ${Math.round(announced - start)} ms after the command, the sentinels named the new master within ${Math.round(switchedAt - start)} ms; ${after.length} writes acknowledged after it, ${lostAfter.length} missing from the new master; ${before.length} before it, ${lostBefore.length} missing; ${failures} failed`);
    assert.deepEqual(lostAfter, []);
  });

  it('the near cache through SENTINEL FAILOVER, RESP2 and RESP3: the randomized check holds, the cache is flushed on the switch and tracks on the new master', async (t) => {
    await set.waitSettled();
    const seed = seedFromEnv();
    const located = { sentinels: set.sentinelAddresses, service_name: set.service, socket_timeout: 2 };
    const writer = client(located);
    await writer.ping();
    const oldPort = await set.masterPort();
    const readers = ([2, 3] as const).map((protocol) => ({ protocol, redis: client({ ...located, protocol, nearCache: { pingInterval: 200 } }) }));
    await Promise.all(readers.map((r) => r.redis.connect()));
    await eventually(() => readers.every((r) => r.redis.nearCache!.isTracking && r.redis.commandTable.isComplete), 3000, 'tracking on');

    // Every client (the RESP2 reader's invalidation connection too) is judged by where it is
    // connected, not by a switch event: a connection being remade when the announcement comes
    // is not told, it simply connects to wherever the sentinels then say.
    const conns = [writer.connection, ...readers.map((r) => r.redis.connection)];
    const subscriber = (readers[0]!.redis.nearCache!.source as RedirectSource).connection;
    const flushes = readers.map((r) => {
      const seen: Array<{ reason: string; at: number }> = [];
      r.redis.nearCache!.on('flush', (reason: string) => seen.push({ reason, at: performance.now() }));
      return seen;
    });

    // One failover for both checks. Sentinel does not stop the old master: what it acknowledges
    // between the promotion and the announcement is lost by the servers, not by the cache. So
    // both runs' writers are paused around the failover, and every replica holds every
    // acknowledged write before it; the readers read on throughout.
    let paused = 0;
    let failover: Promise<void> | null = null;
    let newPort = 0;
    let commanded = 0;
    let moved = 0;
    const failOver = async (): Promise<void> => {
      assert.equal(await writer.call('WAIT', 2, 2000), 2);
      commanded = performance.now();
      assert.equal(await cli(set.sentinels[0]!.port, 'SENTINEL', 'FAILOVER', set.service), 'OK\n');
      await eventually(async () => (newPort = await set.masterPort()) !== oldPort, 15_000, 'the sentinels to name the new master');
      const at = `127.0.0.1:${newPort}`;
      await eventually(async () => {
        await writer.ping().catch(() => undefined);
        return [...conns, subscriber].every((c) => c.address === at && c.isReady);
      }, 15_000, `every client connected to ${at}`);
      moved = performance.now();
    };
    const reports = await Promise.all(readers.map(async ({ protocol, redis }) => {
      const near = redis.nearCache!;
      let atSwitch = { hits: 0, invalidations: 0 };
      let traffic = false;
      const r = await runNearCheck({
        seed, reader: redis, writer, caches: () => [near],
        keys: Array.from({ length: 6 }, (_, i) => `nc:s${protocol}:${i}`),
        disrupt: async (round, writes) => {
          if (round === 1) {
            await writes.pause();
            paused++;
            await eventually(() => paused === readers.length, 3000, 'both runs\' writers paused');
            failover ??= failOver();
            await failover;
            atSwitch = near.stats();
            writes.resume();
          } else {
            // Reads answered from memory and invalidated on the new master before the run ends
            // (asserted after the checker's verdict, which says more when they are not).
            traffic = await eventually(() => near.stats().hits > atSwitch.hits + 100 && near.stats().invalidations > atSwitch.invalidations + 20, 5000, 'traffic on the new master').then(() => true, () => false);
          }
        },
      });
      return { protocol, redis, r, traffic };
    }));

    for (const [i, { protocol, redis, r, traffic }] of reports.entries()) {
      const near = redis.nearCache!;
      const s = near.stats();
      t.diagnostic(`SENTINEL FAILOVER, RESP${protocol} (REDISDB_SEED=${seed}): ${r.reads} reads (${s.hits} from memory), ${r.writes} writes, ${r.lateReads} within the invalidation window, ${r.errors} failed; ${s.invalidations} invalidations, ${s.flushes} flushes`);
      assert.deepEqual(r.violations.slice(0, 5), [], `RESP${protocol}, seed ${seed}`);
      assert.ok(r.reads > 200 && r.writes > 50, `enough traffic: ${r.reads} reads, ${r.writes} writes`);
      assert.ok(traffic, 'reads answered from memory and invalidated on the new master');
      // What was kept from the old master went with its connection.
      assert.ok(flushes[i]!.some((f) => f.at >= commanded && /connection was/.test(f.reason)), JSON.stringify(flushes[i]));
      // Tracked again, on the new master: another client's write there is seen.
      await eventually(() => near.isTracking, 3000, 'tracking on the new master');
      assert.equal(redis.connection.address, `127.0.0.1:${newPort}`);
      if (protocol === 2) assert.equal(subscriber.address, `127.0.0.1:${newPort}`);
      const key = `nc:s${protocol}:seen`;
      await cli(newPort, 'SET', key, 'before');
      await eventually(async () => (await redis.get(key)) === 'before', 2000, 'the first value');
      const hits = near.stats().hits;
      assert.equal(await redis.get(key), 'before');
      assert.equal(near.stats().hits, hits + 1, 'kept');
      await cli(newPort, 'SET', key, 'after');
      await eventually(async () => (await redis.get(key)) === 'after', 2000, 'another client\'s write on the new master');
    }
    t.diagnostic(`every client on the new master within ${Math.round(moved - commanded)} ms of the SENTINEL FAILOVER command`);
    // Demoted as the sentinels would demote it some seconds later, so that the set settles sooner.
    await cli(oldPort, 'REPLICAOF', '127.0.0.1', String(newPort));
    await set.waitSettled();
  });

  it('connections opened after +switch-master go to the announced master while the only sentinel to answer still names the old one', async (t) => {
    await set.waitSettled();
    const oldPort = await set.masterPort();
    // A sentinel that never hears of the failover: on the data nodes its user may not use the
    // hello channel (nor reconfigure anything), so it learns of no other sentinel and no other
    // sentinel of it, and it names the master it was started with for as long as it runs.
    const user = 'lagging-sentinel';
    for (const s of set.servers) {
      assert.equal(await cli(s.port, 'ACL', 'SETUSER', user, 'on', '>lagging-pw', '-@all', '+ping', '+info', '+role', '+client|setname'), 'OK\n');
    }
    const lagging = new SentinelProcess();
    t.after(async () => {
      await lagging.stop();
      for (const s of set.servers) await cli(s.port, 'ACL', 'DELUSER', user).catch(() => '');
    });
    await lagging.start(set.service, oldPort, 1, [`sentinel auth-user ${set.service} ${user}`, `sentinel auth-pass ${set.service} lagging-pw`]);
    // The client knows the lagging sentinel and, through proxies, the two that do not lead the
    // failover: these announce nothing but +switch-master, and their answers to questions can
    // be held, so that the lagging sentinel is the only one to answer.
    const proxies = await Promise.all(set.sentinels.slice(1).map((s) => FaultProxy.start({ host: '127.0.0.1', port: s.port })));
    t.after(() => Promise.all(proxies.map((p) => p.close())));
    const writer = client({ sentinels: [lagging.address, ...proxies.map((p) => `127.0.0.1:${p.port}`)], service_name: set.service, socket_timeout: 2 });
    await writer.set('lag:before', '1');
    assert.equal(writer.connection.address, `127.0.0.1:${oldPort}`);
    await eventually(() => proxies.every((p) => p.subscribers === 1), 5000, 'subscribed on both sentinels behind proxies');
    for (const p of proxies) p.set({ stallNonSubscribers: true });
    const switches: Array<string | null> = [];
    writer.connection.on('sentinel-switch', (to: string | null) => switches.push(to));

    assert.equal(await cli(set.sentinels[0]!.port, 'SENTINEL', 'FAILOVER', set.service), 'OK\n');
    // Both +switch-master announcements taken (each resets the idle client), so none comes
    // in the middle of the writes below.
    await eventually(() => switches.length >= 2, 15_000, 'both +switch-master announcements');
    const newAddress = switches[0]!;
    assert.notEqual(newAddress, `127.0.0.1:${oldPort}`);
    assert.deepEqual(switches, [newAddress, newAddress]);
    const newPort = Number(newAddress.split(':')[1]);
    const setCalls = async (port: number): Promise<number> => Number(/cmdstat_set:calls=(\d+)/.exec(await cli(port, 'INFO', 'commandstats'))?.[1] ?? 0);
    const oldSets = await setCalls(oldPort);

    // Every connection opened now (the shared one, reset by the announcements, and a blocking
    // one of its own) asks where the master is: the lagging sentinel is the only one to answer.
    const keys = Array.from({ length: 20 }, (_, i) => `lag:${i}`);
    for (const k of keys) await writer.set(k, '1');
    await writer.rpush('lag:list', 'x');
    assert.deepEqual(await writer.blpop('lag:list', 1), ['lag:list', 'x']);

    // What makes it matter: the lagging sentinel names the old master, and that still answers
    // ROLE as master (it takes writes until the sentinels demote it, and then drops them).
    assert.equal(await cli(lagging.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', set.service), `127.0.0.1\n${oldPort}\n`);
    assert.equal((await cli(oldPort, 'ROLE')).split('\n')[0], 'master');
    assert.equal(await setCalls(oldPort) - oldSets, 0, 'SETs the old master took after the announcement');
    assert.equal(await cli(oldPort, 'EXISTS', ...keys), '0\n');
    assert.equal(await cli(newPort, 'EXISTS', ...keys), `${keys.length}\n`);
    assert.equal(writer.connection.address, newAddress);
    t.diagnostic(`after +switch-master, with only a sentinel naming the old master answering: ${keys.length} writes and a BLPOP on ${newAddress}, none on the old master`);
  });

  it('the ROLE poll leaves a demoted master within sentinel_poll_interval when no announcement reaches the client', async (t) => {
    await set.waitSettled();
    // The client reaches the sentinels through proxies that, once it has subscribed, hold every
    // byte of its subscriptions: the announcements are lost, questions still get answers.
    const proxies = await Promise.all(set.sentinels.map((s) => FaultProxy.start({ host: '127.0.0.1', port: s.port })));
    t.after(() => Promise.all(proxies.map((p) => p.close())));
    const interval = 100;
    const writer = client({ sentinels: proxies.map((p) => `127.0.0.1:${p.port}`), service_name: set.service, sentinel_poll_interval: interval, socket_timeout: 2 });
    assert.throws(() => new ConstRedis({ sentinels: set.sentinelAddresses, service_name: set.service, sentinel_poll_interval: 0 }), ConfigError);
    await writer.ping();
    const oldPort = await set.masterPort();
    assert.equal(writer.connection.address, `127.0.0.1:${oldPort}`);
    await eventually(() => proxies.every((p) => p.subscribers === 1), 5000, 'subscribed on every sentinel');
    // ROLE is asked of the master every `interval` ms: 5 polls take half a second (10 s at the default).
    const roles = async (): Promise<number> => Number(/cmdstat_role:calls=(\d+)/.exec(await cli(oldPort, 'INFO', 'commandstats'))?.[1] ?? 0);
    const rolesBefore = await roles();
    await eventually(async () => (await roles()) - rolesBefore >= 5, 2000, 'the master polled with ROLE every 100 ms');
    for (const p of proxies) p.set({ stallSubscribers: true });
    const switches: Array<{ to: string | null; at: number }> = [];
    writer.connection.on('sentinel-switch', (to: string | null) => switches.push({ to, at: performance.now() }));

    const acked: Array<{ key: string; at: number }> = [];
    const refused: Array<{ message: string; at: number }> = [];
    let stop = false;
    const callers = Array.from({ length: 4 }, async (_, caller) => {
      for (let n = 0; !stop; n++) {
        const key = `poll:${caller}:${n}`;
        try {
          await writer.set(key, '1');
          acked.push({ key, at: performance.now() });
        } catch (err) {
          refused.push({ message: (err as Error).message, at: performance.now() });
        }
      }
    });
    try {
      await eventually(() => acked.length > 100, 5000, 'writes flowing');
      assert.equal(await cli(set.sentinels[0]!.port, 'SENTINEL', 'FAILOVER', set.service), 'OK\n');
      await eventually(async () => (await set.masterPort()) !== oldPort, 15_000, 'the sentinels naming the new master');
      const newPort = await set.masterPort();
      // The sentinels have switched, and not a word of it reached the client: it still writes to the old master.
      assert.equal(switches.length, 0, "no switch without an announcement");
      assert.equal(writer.connection.address, `127.0.0.1:${oldPort}`);
    // Demoted as the sentinels would demote it a few seconds later.
      const demoting = performance.now();
      await cli(oldPort, 'REPLICAOF', '127.0.0.1', String(newPort));
      const demoted = performance.now();
      await eventually(() => switches.length > 0, 5000, 'the ROLE poll to see the demotion');
      const seen = switches[0]!;
      assert.equal(seen.to, null); // the poll's switch: where to go is asked of the sentinels again
      const oldSets = async (): Promise<string> => (await cli(oldPort, 'INFO', 'commandstats')).split('\n').find((l) => l.startsWith('cmdstat_set:')) ?? '';
      const atSwitch = await oldSets();
      await eventually(() => acked.filter((a) => a.at > seen.at).length > 200, 10_000, 'writes acknowledged by the new master');
      assert.equal(writer.connection.address, `127.0.0.1:${newPort}`);
      // Nothing more was sent to the demoted node: its SET count (calls and refusals) stands still,
      // and no READONLY refusal came back after the poll saw it.
      assert.equal(await oldSets(), atSwitch);
      assert.deepEqual(refused.filter((r) => r.at > seen.at && /READONLY/.test(r.message)), []);
      const after = acked.filter((a) => a.at > seen.at).map((a) => a.key);
      const values = (await cli(newPort, 'MGET', ...after)).split('\n').slice(0, after.length);
      assert.deepEqual(after.filter((_, i) => values[i] !== '1'), []);
      t.diagnostic(`ROLE poll every ${interval} ms: the client left the demoted master ${Math.round(seen.at - demoted)} ms after REPLICAOF returned ` +
        `(${Math.round(seen.at - demoting)} ms after it was sent); ${refused.filter((r) => /READONLY/.test(r.message)).length} writes refused READONLY before that, ${after.length} acknowledged by the new master after`);
      assert.ok(seen.at - demoted < interval + 400, `left ${Math.round(seen.at - demoted)} ms after the demotion, poll interval ${interval} ms`);
    } finally {
      stop = true;
      await Promise.all(callers);
      for (const p of proxies) p.set({});
    }
    await set.waitSettled();
  });

  it('notices a silently dead subscription within sentinel_poll_interval + its deadline, subscribes again and asks the sentinels at once', async (t) => {
    await set.waitSettled();
    const proxies = await Promise.all(set.sentinels.map((s) => FaultProxy.start({ host: '127.0.0.1', port: s.port })));
    t.after(() => Promise.all(proxies.map((p) => p.close())));
    // Each subscription is PINGed every `interval` ms and must answer within the sentinel
    // timeout, which socket_connect_timeout sets (0.5 s here).
    const interval = 200;
    const deadline = 500;
    const writer = client({ sentinels: proxies.map((p) => `127.0.0.1:${p.port}`), service_name: set.service, sentinel_poll_interval: interval, socket_connect_timeout: deadline / 1000, socket_timeout: 2 });
    await writer.set('live:k', '1');
    const oldPort = await set.masterPort();
    assert.equal(writer.connection.address, `127.0.0.1:${oldPort}`);
    await eventually(() => proxies.every((p) => p.subscribers === 1), 5000, 'subscribed on every sentinel');
    const switches: Array<{ to: string | null; at: number }> = [];
    writer.connection.on('sentinel-switch', (to: string | null) => switches.push({ to, at: performance.now() }));

    // Every subscription goes silent (its replies held, as on a connection a firewall dropped),
    // and the sentinels take no new connection for now.
    const accepted = proxies.map((p) => p.accepted);
    const stalled = performance.now();
    for (const p of proxies) p.set({ stallSubscribers: true, refuse: true });
    await eventually(() => proxies.every((p, i) => p.subscribers === 0 && p.accepted > accepted[i]!), interval + deadline + 2000, 'the client to drop its silent subscriptions and try to subscribe again');
    const noticed = performance.now() - stalled;
    assert.ok(noticed < interval + deadline + 400, `the silent subscriptions dropped after ${Math.round(noticed)} ms (PING every ${interval} ms, deadline ${deadline} ms)`);

    // The failover happens while the client has no subscription: its announcements reach nothing.
    assert.equal(await cli(set.sentinels[0]!.port, 'SENTINEL', 'FAILOVER', set.service), 'OK\n');
    await eventually(async () => (await set.masterPort()) !== oldPort, 15_000, 'the sentinels naming the new master');
    const newPort = await set.masterPort();
    // Until every sentinel has switched (and announced it): no announcement is left for the
    // renewed subscriptions to bring, so only asking the sentinels can move the client.
    const masterField = async (port: number): Promise<string> => {
      const lines = (await cli(port, 'SENTINEL', 'MASTER', set.service)).trim().split('\n');
      return lines[lines.indexOf('port') + 1] ?? '';
    };
    await eventually(async () => (await Promise.all(set.sentinels.map((s) => masterField(s.port)))).every((p) => p === String(newPort)), 15_000, 'every sentinel to switch');
    assert.equal(switches.length, 0, 'no announcement reached the client');
    // The sentinels reachable again: the client subscribes, asks them at once and moves.
    const reachable = performance.now();
    for (const p of proxies) p.set({});
    await eventually(() => switches.length > 0, 5000, 'the client to move after subscribing again');
    const moved = switches[0]!;
    assert.equal(moved.to, `127.0.0.1:${newPort}`, 'moved to the master the sentinels name (not by the ROLE poll, which names none)');
    assert.ok(moved.at - reachable < 1500, `moved ${Math.round(moved.at - reachable)} ms after the sentinels were reachable again`);
    await eventually(() => proxies.every((p) => p.subscribers === 1), 5000, 'subscribed again on every sentinel');
    await writer.set('live:k', '2');
    assert.equal(writer.connection.address, `127.0.0.1:${newPort}`);
    assert.equal(await cli(newPort, 'GET', 'live:k'), '2\n');
    t.diagnostic(`subscription check every ${interval} ms, deadline ${deadline} ms: the silent subscriptions were dropped ${Math.round(noticed)} ms after they went silent; ` +
      `the client moved to the new master ${Math.round(moved.at - reachable)} ms after the sentinels were reachable again`);
  });
});
