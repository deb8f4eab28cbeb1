import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, afterEach, before, describe, it } from 'node:test';
import { ConstRedis } from '../../src/client/const-redis.ts';
import type { ClientOptions } from '../../src/connection/options.ts';
import { ConnectionError, ProtocolError, TimeoutError } from '../../src/errors.ts';
import { perTest } from '../helpers/clients.ts';
import { FaultProxy } from '../helpers/fault-proxy.ts';
import { useServers } from '../helpers/servers.ts';
import { eventually } from '../helpers/wait.ts';

/** Runs `fn` and returns what it settled with and how long that took. */
async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value?: T; error?: Error }> {
  const started = performance.now();
  try {
    const value = await fn();
    return { ms: performance.now() - started, value };
  } catch (error) {
    return { ms: performance.now() - started, error: error as Error };
  }
}

/** Margin for a loaded machine: a timeout must fire no earlier than asked and not much later. */
const LATE = 1000;

describe('connection faults through a misbehaving proxy', () => {
  const servers = useServers(1);
  let proxy: FaultProxy;
  const client = perTest((options: ClientOptions = {}): ConstRedis => new ConstRedis({ port: proxy.port, ...options }));
  before(async () => {
    proxy = await FaultProxy.start({ host: '127.0.0.1', port: servers[0]!.port });
  });
  afterEach(() => {
    proxy.set({});
  });
  after(async () => {
    await proxy.close();
  });

  it('decodes replies that arrive one byte at a time', async () => {
    const r = client();
    const value = 'line one\r\nline two\r\n\u0000end';
    await r.set('trickle:v', value);
    await r.rpush('trickle:l', 'a', '', 'c\r\n');
    proxy.set({ trickle: true });
    const [got, list, missing] = await Promise.all([r.get('trickle:v'), r.lrange('trickle:l', 0, -1), r.get('trickle:none')]);
    assert.equal(got, value);
    assert.deepEqual(list, ['a', '', 'c\r\n']);
    assert.equal(missing, null);
  });

  it('rejects commands cut off mid-reply with ConnectionError, then reconnects', async () => {
    const r = client();
    const big = 'x'.repeat(50_000);
    await r.set('cut:big', big);
    proxy.set({ cutAfterBytes: 1000 });
    const results = await Promise.allSettled([r.get('cut:big'), r.ping(), r.get('cut:big')]);
    for (const res of results) {
      assert.equal(res.status, 'rejected');
      assert.ok(res.reason instanceof ConnectionError, String(res.reason));
      assert.ok(!(res.reason instanceof TimeoutError));
    }
    proxy.set({});
    assert.equal(await r.get('cut:big'), big);
  });

  it('rejects the pending command with ProtocolError when the server sends garbage, then recovers', async () => {
    const r = client();
    await r.set('garbage:k', 'v');
    proxy.set({ stall: true });
    const pending = r.get('garbage:k');
    await eventually(() => r.connection.pendingCount === 1 && proxy.open === 1);
    proxy.inject('?not resp at all\r\n');
    await assert.rejects(pending, ProtocolError);
    proxy.set({});
    assert.equal(await r.get('garbage:k'), 'v');
  });

  it('drops the connection on a reply nobody asked for, and carries on', async () => {
    const r = client();
    assert.equal(await r.ping(), true);
    const lost = once(r.connection, 'disconnect');
    proxy.inject('+SURPRISE\r\n');
    const [err] = (await lost) as [Error];
    assert.ok(err instanceof ProtocolError);
    assert.equal(await r.echo('after'), 'after');
  });

  it('rejects every pipelined command within socket_timeout when the peer goes silent (half-open)', async () => {
    const r = client({ socketTimeout: 300 });
    assert.equal(await r.ping(), true);
    proxy.set({ stall: true });
    const started = performance.now();
    const results = await Promise.allSettled([r.ping(), r.echo('a'), r.echo('b')]);
    const ms = performance.now() - started;
    for (const res of results) {
      assert.equal(res.status, 'rejected');
      assert.ok(res.reason instanceof TimeoutError, String(res.reason));
    }
    assert.ok(ms >= 290 && ms < 300 + LATE, `took ${ms} ms`);
    proxy.set({});
    assert.equal(await r.echo('back'), 'back');
  });

  it('gives up connecting within the connect timeout when the peer accepts and never answers', async () => {
    proxy.set({ blackhole: true });
    const r = client({ db: 1, socketConnectTimeout: 300 });
    const { ms, error } = await timed(() => r.ping());
    assert.ok(error instanceof TimeoutError, String(error));
    assert.ok(ms >= 290 && ms < 300 + LATE, `took ${ms} ms`);
    proxy.set({});
    assert.equal(await r.ping(), true);
  });

  it('waits for a slow server inside socket_timeout, and not beyond it', async () => {
    const r = client({ socket_timeout: 1 });
    await r.set('slow:k', 'v');
    proxy.set({ delayMs: 150 });
    const fine = await timed(() => r.get('slow:k'));
    assert.equal(fine.value, 'v');
    assert.ok(fine.ms >= 140, `took ${fine.ms} ms`);
    proxy.set({ delayMs: 1500 });
    const slow = await timed(() => r.get('slow:k'));
    assert.ok(slow.error instanceof TimeoutError, String(slow.error));
    assert.ok(slow.ms >= 990 && slow.ms < 1000 + LATE, `took ${slow.ms} ms`);
  });

  it('retry_on_timeout retries a timed-out command once on a fresh connection', async () => {
    const r = client({ socketTimeout: 300, retryOnTimeout: true });
    await r.del('retry:n');
    proxy.set({ stall: true });
    // The first attempt reaches the server (its reply is held); the retry runs it again.
    r.connection.once('disconnect', () => proxy.set({}));
    const { value, ms } = await timed(() => r.incr('retry:n'));
    assert.equal(value, 2);
    assert.ok(ms >= 290, `took ${ms} ms`);
  });

  it('retry_on_timeout retries only once: a second timeout rejects', async () => {
    // The connect timeout too: with a handshake (HELLO in RESP3), the retry's new connection
    // waits for the stalled server as long as a connect may take.
    const r = client({ socketTimeout: 300, socketConnectTimeout: 300, retryOnTimeout: true });
    assert.equal(await r.ping(), true);
    proxy.set({ stall: true });
    const { error, ms } = await timed(() => r.ping());
    assert.ok(error instanceof TimeoutError, String(error));
    assert.ok(ms >= 590 && ms < 600 + LATE, `took ${ms} ms`);
  });

  it('a handshake the server does not answer fails within socket_timeout, not the connect timeout', async () => {
    proxy.set({ stall: true });
    // RESP3's HELLO, and RESP2's AUTH: both wait for a reply like any command.
    for (const options of [{ protocol: 3 as const }, { protocol: 2 as const, password: 'pw' }]) {
      const r = client({ socketTimeout: 300, ...options });
      const { error, ms } = await timed(() => r.ping());
      assert.ok(error instanceof TimeoutError && /handshake got no answer within 300 ms/.test(error.message), String(error));
      assert.ok(ms >= 290 && ms < 300 + LATE, `took ${ms} ms`);
    }
  });

  it('without retry_on_timeout, a timed-out write is not sent again', async () => {
    const r = client({ socketTimeout: 300 });
    await r.del('noretry:n');
    proxy.set({ stall: true });
    await assert.rejects(r.incr('noretry:n'), TimeoutError);
    proxy.set({});
    assert.equal(await r.get('noretry:n'), '1');
  });

  it('rejects at once beyond offline_queue_limit, and the queued commands within the connect timeout', async () => {
    proxy.set({ blackhole: true });
    const r = client({ db: 1, offline_queue_limit: 3, socketConnectTimeout: 400 });
    const queued = [r.ping(), r.ping(), r.ping()].map((p) => timed(() => p));
    const { error, ms } = await timed(() => r.ping());
    assert.ok(error instanceof ConnectionError && /offline queue is full \(3 commands\)/.test(error.message), String(error));
    assert.ok(ms < 50, `the overflow waited ${ms} ms`);
    for (const q of await Promise.all(queued)) {
      assert.ok(q.error instanceof TimeoutError, String(q.error));
      assert.ok(q.ms < 400 + LATE);
    }
  });
});

describe('connection faults of a real server process', () => {
  const servers = useServers(1);
  const client = perTest((options: ClientOptions = {}): ConstRedis => new ConstRedis({ port: servers[0]!.port, ...options }));
  afterEach(async () => {
    if (!servers[0]!.running) await servers[0]!.start();
  });

  it('SIGSTOP: commands reject within socket_timeout; after SIGCONT the client works again', async () => {
    const server = servers[0]!;
    const r = client({ socket_timeout: 0.3 });
    await r.set('stop:k', 'before');
    server.pause();
    try {
      const started = performance.now();
      const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => r.get(i % 2 ? 'stop:k' : 'stop:other')));
      const ms = performance.now() - started;
      assert.ok(results.every((x) => x.status === 'rejected' && x.reason instanceof TimeoutError));
      assert.ok(ms >= 290 && ms < 300 + LATE, `took ${ms} ms`);
    } finally {
      server.resume();
    }
    assert.equal(await r.get('stop:k'), 'before');
  });

  it('SIGKILL: pending commands reject with ConnectionError; the client reconnects when the server is back', async () => {
    const server = servers[0]!;
    const r = client();
    await r.set('kill:k', 'v');
    server.pause(); // so the commands below are surely in flight when the process dies
    const pending = Promise.allSettled(Array.from({ length: 10 }, () => r.get('kill:k')));
    await eventually(() => r.connection.pendingCount === 10);
    await server.kill();
    for (const res of await pending) {
      assert.equal(res.status, 'rejected');
      assert.ok(res.reason instanceof ConnectionError && !(res.reason instanceof TimeoutError), String(res.reason));
    }
    // While it is down, commands fail fast instead of waiting.
    const down = await timed(() => r.ping());
    assert.ok(down.error instanceof ConnectionError, String(down.error));
    assert.ok(down.ms < 1000, `took ${down.ms} ms`);
    await server.start();
    assert.equal(await r.ping(), true);
    assert.equal(await r.get('kill:k'), null); // a fresh process: nothing was persisted
  });
});
