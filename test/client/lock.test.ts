import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { LockError } from '../../src/errors.ts';
import { HOUR_MS, stepClockBack } from '../helpers/clock.ts';
import { useClients } from '../helpers/clients.ts';
import { useServers } from '../helpers/servers.ts';

describe('locks on one node', () => {
  const servers = useServers(1);
  let a: ConstRedis;
  let b: ConstRedis;

  useClients(() => {
    a = new ConstRedis({ port: servers[0]!.port, socketTimeout: 2000 });
    b = new ConstRedis({ port: servers[0]!.port, socketTimeout: 2000 });
    return [a, b];
  });

  it('stores a random token with SET NX PX and reports locked / owned', async () => {
    const lock = a.lock('l:basic', { timeout: 10 });
    assert.equal(await lock.locked(), false);
    assert.equal(await lock.acquire(), true);
    assert.equal(await lock.locked(), true);
    assert.equal(await lock.owned(), true);
    assert.equal(await a.get('l:basic'), lock.token);
    assert.match(lock.token!, /^[0-9a-f]{32}$/);
    const pttl = (await a.pttl('l:basic')) as number;
    assert.ok(pttl > 9000 && pttl <= 10_000, `pttl ${pttl}`);
    await lock.release();
    assert.equal(await lock.locked(), false);
    assert.equal(await lock.owned(), false);
  });

  it('two holders racing: exactly one wins', async () => {
    for (let round = 0; round < 20; round++) {
      const l1 = a.lock('l:race', { timeout: 5 });
      const l2 = b.lock('l:race', { timeout: 5 });
      const won = await Promise.all([l1.acquire({ blocking: false }), l2.acquire({ blocking: false })]);
      assert.equal(won.filter(Boolean).length, 1, `round ${round}: ${won}`);
      await (won[0] ? l1 : l2).release();
    }
  });

  it('releasing a foreign lock fails with LockError and leaves it in place', async () => {
    const mine = a.lock('l:foreign', { timeout: 5 });
    const theirs = b.lock('l:foreign', { timeout: 5 });
    assert.equal(await mine.acquire(), true);
    await assert.rejects(theirs.release(), LockError); // never acquired
    // A holder whose lock expired and was taken by another cannot release the new holder's.
    const stale = b.lock('l:foreign2', { timeout: 0.05 });
    assert.equal(await stale.acquire(), true);
    const next = a.lock('l:foreign2', { timeout: 5, sleep: 0.01 });
    assert.equal(await next.acquire({ blocking_timeout: 2 }), true);
    await assert.rejects(stale.release(), LockError);
    assert.equal(await next.owned(), true);
    await next.release();
    await mine.release();
  });

  it('blocks until the holder releases, or gives up after blocking_timeout', async () => {
    const holder = a.lock('l:block', { timeout: 5 });
    await holder.acquire();
    const waiter = b.lock('l:block', { timeout: 5, sleep: 0.02, blocking_timeout: 0.15 });
    const started = Date.now();
    assert.equal(await waiter.acquire(), false);
    const waited = Date.now() - started;
    assert.ok(waited >= 140 && waited < 1500, `waited ${waited} ms`);
    const acquiring = waiter.acquire({ blocking_timeout: 5 });
    await holder.release();
    assert.equal(await acquiring, true);
    assert.equal(await waiter.owned(), true);
    await waiter.release();
  });

  it('blocking_timeout is real time: a clock stepped an hour back mid-wait does not stretch it', async () => {
    const holder = a.lock('l:clock', { timeout: 10 });
    assert.equal(await holder.acquire(), true);
    const waiter = b.lock('l:clock', { timeout: 10, sleep: 0.05 });
    let restore = (): void => {};
    // The step comes while the waiter is between attempts, after its deadline was set.
    const stepping = setTimeout(() => {
      restore = stepClockBack(HOUR_MS);
    }, 200);
    try {
      const started = performance.now();
      const got = await Promise.race([
        waiter.acquire({ blocking_timeout: 1 }),
        new Promise<string>((r) => setTimeout(() => r('still waiting after 5 s'), 5000)),
      ]);
      const took = performance.now() - started;
      assert.equal(got, false);
      assert.ok(took >= 900 && took < 3000, `gave up after ${took} ms`);
    } finally {
      clearTimeout(stepping);
      restore();
      await holder.release();
    }
  });

  it('extends and reacquires only while owned', async () => {
    const lock = a.lock('l:extend', { timeout: 2 });
    await lock.acquire();
    assert.equal(await lock.extend(10), true);
    const pttl = (await a.pttl('l:extend')) as number;
    assert.ok(pttl > 11_000 && pttl <= 12_000, `pttl ${pttl}`);
    assert.equal(await lock.extend(3, true), true);
    assert.ok(((await a.pttl('l:extend')) as number) <= 3000);
    assert.equal(await lock.reacquire(), true);
    assert.ok(((await a.pttl('l:extend')) as number) > 1000);
    await a.set('l:extend', 'someone-else');
    await assert.rejects(lock.extend(1), LockError);
    await assert.rejects(lock.release(), LockError);
    const forever = a.lock('l:forever');
    await forever.acquire();
    assert.equal(await a.pttl('l:forever'), -1);
    await assert.rejects(forever.extend(1), /no timeout/);
    await forever.release();
  });

  it('run() holds the lock for the function and releases it after', async () => {
    const lock = a.lock('l:run', { timeout: 5 });
    const seen = await lock.run(async () => a.get('l:run'));
    assert.equal(typeof seen, 'string');
    assert.equal(await lock.locked(), false);
  });

  it('refuses bad options before anything is sent', async () => {
    assert.throws(() => a.lock(''), TypeError);
    assert.throws(() => a.lock('x', { timeout: -1 }), RangeError);
    assert.throws(() => a.lock('x', { timeout: 0 }), RangeError);
    assert.throws(() => a.lock('x', { sleep: Number.NaN }), RangeError);
    assert.throws(() => a.lock('x', { thread_local: 'yes' } as never), TypeError);
    assert.throws(() => a.lock('x', { timout: 1 } as never), TypeError);
    await assert.rejects(a.lock('x').acquire({ blocking: 'no' } as never), TypeError);
    await assert.rejects(a.lock('x').extend(-1), RangeError);
  });
});
