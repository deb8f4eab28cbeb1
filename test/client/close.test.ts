import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { ConnectionError } from '../../src/errors.ts';
import { FaultProxy } from '../helpers/fault-proxy.ts';
import { useServers } from '../helpers/servers.ts';

/** Settles with what `p` settled with, or rejects when it has not within `ms`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Resolves once `n` clients are blocked on the server (a command is waiting there). */
async function waitBlocked(client: ConstRedis, n: number): Promise<void> {
  const end = Date.now() + 5000;
  for (;;) {
    const info = await client.info('clients');
    if (Number(info['blocked_clients']) >= n) return;
    if (Date.now() > end) throw new Error(`${n} blocked clients never showed up`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Resolves once the server has exactly `n` client connections (the observer among them). */
async function waitClients(observer: ConstRedis, n: number): Promise<number> {
  const end = Date.now() + 5000;
  for (;;) {
    const info = await observer.info('clients');
    const now = Number(info['connected_clients']);
    if (now === n || Date.now() > end) return now;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** What `p` rejected with; a plain Error saying so when it resolved (never rejects itself). */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    const value = await p;
    return new Error(`resolved with ${JSON.stringify(value)} instead of rejecting`);
  } catch (err) {
    return err as Error;
  }
}

describe('close() with commands pending', () => {
  const servers = useServers(1);
  let observer: ConstRedis;

  before(() => {
    observer = new ConstRedis({ port: servers[0]!.port, socket_timeout: 5 });
  });
  after(async () => {
    await observer.close();
  });

  it('settles behind blpop(k, 0); the blpop rejects with ConnectionError (closed); no connection stays open', async () => {
    const client = new ConstRedis({ port: servers[0]!.port });
    await client.set('close:k', 'v');
    const blpop = client.blpop('close:empty', 0);
    const failed = rejection(blpop);
    await waitBlocked(observer, 1);
    await within(client.close(), 3000, 'close()');
    const err = await within(failed, 1000, 'the blpop');
    assert.ok(err instanceof ConnectionError, `${err.name}: ${err.message}`);
    assert.match(err.message, /closed/);
    assert.equal(await waitClients(observer, 1), 1);
    // Nothing more is opened after close(), not even for another blocking command.
    const again = await rejection(client.blpop('close:empty', 0));
    assert.ok(again instanceof ConnectionError, `${again.name}: ${again.message}`);
    assert.equal(await waitClients(observer, 1), 1);
  });

  it('settles with a subscriber: its for-await loop ends and it refuses new subscriptions', async () => {
    const client = new ConstRedis({ port: servers[0]!.port });
    const ps = client.pubsub();
    let closeEvents = 0;
    ps.on('close', () => closeEvents++);
    await ps.subscribe('close:ch');
    const got: string[] = [];
    const loop = (async () => {
      for await (const m of ps) got.push(String(m.data));
    })();
    await observer.publish('close:ch', 'one');
    const end = Date.now() + 3000;
    while (got.length < 1 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    await within(client.close(), 3000, 'close()');
    await within(loop, 1000, 'the for-await loop');
    assert.deepEqual(got, ['one']);
    assert.equal(closeEvents, 1);
    const err = await rejection(ps.subscribe('close:other'));
    assert.ok(err instanceof ConnectionError, `${err.name}: ${err.message}`);
    assert.equal(await waitClients(observer, 1), 1);
  });

  it('settles with a transaction in flight; the transaction rejects with ConnectionError', async () => {
    const client = new ConstRedis({ port: servers[0]!.port });
    const tx = client.transaction(async (pipe) => {
      await pipe.blpop('close:tx-empty', 0);
      pipe.multi().set('close:tx', 'written');
    }, 'close:tx');
    const failed = rejection(tx);
    await waitBlocked(observer, 1);
    await within(client.close(), 3000, 'close()');
    const err = await within(failed, 1000, 'the transaction');
    assert.ok(err instanceof ConnectionError, `${err.name}: ${err.message}`);
    assert.match(err.message, /closed/);
    assert.equal(await observer.get('close:tx'), null);
    assert.equal(await waitClients(observer, 1), 1);
  });

  it('answers a pipeline already sent on the shared connection, and cuts a blocking one', async () => {
    const client = new ConstRedis({ port: servers[0]!.port });
    const pipe = client.pipeline().set('close:p', '1').incr('close:p');
    const answered = pipe.execute();
    const blocking = client.pipeline({ transaction: false }).blpop('close:p-empty', 0).execute();
    const cut = rejection(blocking);
    await waitBlocked(observer, 1);
    await within(client.close(), 3000, 'close()');
    assert.deepEqual(await answered, [true, 2]);
    const err = await within(cut, 1000, 'the blocking pipeline');
    assert.ok(err instanceof ConnectionError, `${err.name}: ${err.message}`);
    assert.equal(await waitClients(observer, 1), 1);
  });
});

describe('close() when the server does not answer', () => {
  const servers = useServers(1);

  it('settles in bounded time with default options; the pipeline sent rejects with ConnectionError', async () => {
    const server = servers[0]!;
    const client = new ConstRedis({ port: server.port });
    await client.ping();
    server.pause();
    try {
      const pending = client.pipeline().set('close:stopped', '1').get('close:stopped').execute();
      const single = client.get('close:stopped');
      const failed = [rejection(pending), rejection(single)];
      const started = Date.now();
      await within(client.close(), 6000, 'close()');
      const took = Date.now() - started;
      for (const err of await Promise.all(failed)) {
        assert.ok(err instanceof ConnectionError, `${err.name}: ${err.message}`);
        assert.match(err.message, /closed/);
      }
      assert.ok(took < 4500, `close() took ${took} ms`);
    } finally {
      server.resume();
    }
  });
});

describe('close() behind the fault proxy, replies stalled', () => {
  const servers = useServers(1);
  let proxy: FaultProxy;

  before(async () => {
    proxy = await FaultProxy.start({ host: '127.0.0.1', port: servers[0]!.port });
  });
  after(async () => {
    await proxy.close();
  });

  it('settles within socket_timeout with a pipeline, a transaction, a blocking command and a subscriber pending', async () => {
    const client = new ConstRedis({ url: proxy.url, socket_timeout: 0.5 });
    const ps = client.pubsub();
    await ps.subscribe('stalled:ch');
    const loop = (async () => {
      for await (const _ of ps) {
        // nothing is published: the loop only has to end
      }
    })();
    await client.ping();
    proxy.set({ stall: true });
    try {
      const pending = [
        client.pipeline().set('stalled:p', '1').get('stalled:p').execute(),
        client.transaction(async (pipe) => {
          await pipe.get('stalled:w');
        }, 'stalled:w'),
        client.blpop('stalled:empty', 0),
        client.get('stalled:k'),
      ].map(rejection);
      const started = Date.now();
      await within(client.close(), 4000, 'close()');
      const took = Date.now() - started;
      await within(loop, 1000, 'the for-await loop');
      for (const err of await Promise.all(pending)) assert.ok(err instanceof ConnectionError, `${err.name}: ${err.message}`);
      assert.ok(took < 2500, `close() took ${took} ms`);
    } finally {
      proxy.set({});
    }
  });
});
