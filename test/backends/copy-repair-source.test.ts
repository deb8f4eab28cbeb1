/**
 * RedisCopy over three nodes: a repair copies keys from a node only once every write on its
 * way there has concluded. A write the source refuses while a slower node applies it is not
 * known to be missing from the source until that slower node answers; copied before then, the
 * repaired node would take the source's value without the write, and the source would later
 * be repaired from it: an acknowledged increment lost on two nodes of three.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RedisCopy } from '../../src/backends/index.ts';
import { assertConverged } from '../helpers/converge.ts';
import { useCopyFixture } from '../helpers/copy-fixture.ts';
import { eventually } from '../helpers/wait.ts';

describe('RedisCopy repair source', () => {
  const fx = useCopyFixture(3);
  const whole = (copy: RedisCopy): Promise<void> =>
    eventually(() => copy.health.allUp && [0, 1, 2].every((i) => copy.hints.count(i) === 0 && !copy.hints.needsResync(i)), 15_000, 'every node repaired');

  it('a write the source is yet to be found missing is not copied from it as held', { timeout: 60_000 }, async () => {
    const copy = fx.copyOf({ socket_timeout: 3, server_retry_timeout: 50 });
    await copy.incr('k');
    // Node 1 is cut off and misses an increment: a hint it replays when it is back.
    fx.proxies[1]!.set({ refuse: true });
    fx.proxies[1]!.dropAll();
    await copy.incr('k');
    // Node 0 (the first source a repair picks) refuses the next one at once; node 2 applies it,
    // but its answer takes 600 ms, and the write concludes only then.
    await fx.direct[0]!.call('CONFIG', 'SET', 'maxmemory', '1');
    fx.proxies[2]!.set({ delayMs: 600 });
    const write = copy.incr('k');
    // Node 1 answers again: its repair starts while that write is on its way.
    fx.proxies[1]!.set({});
    const result = (await write) as unknown[];
    assert.ok(result[0] instanceof Error, 'node 0 refused it');
    assert.equal(result[2], 3);
    await fx.direct[0]!.call('CONFIG', 'SET', 'maxmemory', '0');
    fx.proxies[2]!.set({});
    await whole(copy);
    assert.deepEqual(await Promise.all(fx.direct.map((d) => d.get('k'))), ['3', '3', '3']);
    await assertConverged(fx.servers.map((s) => s.address));
  });
});
