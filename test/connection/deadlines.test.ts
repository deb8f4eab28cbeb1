import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Connection } from '../../src/connection/connection.ts';
import { resolveOptions } from '../../src/connection/options.ts';
import { TimeoutError } from '../../src/errors.ts';
import { HOUR_MS, stepClockBack } from '../helpers/clock.ts';
import { useServers } from '../helpers/servers.ts';

describe('command deadlines on one connection', () => {
  const servers = useServers(1);
  let conn: Connection;
  before(async () => {
    conn = new Connection(resolveOptions({ port: servers[0]!.port }));
    await conn.connect();
  });
  after(async () => {
    if (servers[0]!.running) servers[0]!.resume();
    conn.destroy();
  });

  it('times out a command queued behind one that has no deadline, and one with a shorter deadline than the armed one', { timeout: 10_000 }, async () => {
    servers[0]!.pause();
    try {
      const started = Date.now();
      const forever = conn.send(['PING'], { timeout: null });
      const long = conn.send(['PING'], { timeout: 60_000 });
      const short = conn.send(['PING'], { timeout: 300 });
      await assert.rejects(short, (err: unknown) => err instanceof TimeoutError && /timed out after 300 ms/.test(err.message));
      const waited = Date.now() - started;
      assert.ok(waited >= 290 && waited < 5000, `took ${waited} ms`);
      // The connection was reset: the others can no longer be answered in order.
      await assert.rejects(forever, TimeoutError);
      await assert.rejects(long, TimeoutError);
    } finally {
      servers[0]!.resume();
    }
    assert.equal(await conn.send(['PING']), 'PONG');
  });

  it('a deadline is real time: the clock stepped an hour back right after sending does not stretch it', { timeout: 10_000 }, async () => {
    servers[0]!.pause();
    let restore = (): void => {};
    try {
      const started = performance.now();
      const ping = conn.send(['PING'], { timeout: 300 });
      restore = stepClockBack(HOUR_MS);
      const outcome = await Promise.race([
        ping.then(() => 'answered', (err: unknown) => err),
        new Promise<string>((r) => setTimeout(() => r('no outcome after 5 s'), 5000)),
      ]);
      const took = performance.now() - started;
      assert.ok(outcome instanceof TimeoutError, String(outcome));
      assert.ok(took >= 290 && took < 3000, `took ${took} ms`);
    } finally {
      restore();
      servers[0]!.resume();
    }
    assert.equal(await conn.send(['PING']), 'PONG');
  });
});
