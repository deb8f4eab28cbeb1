/**
 * RedisCopy under a seeded random mix of every write door and every fault (see
 * test/helpers/copy-jepsen.ts). REDISDB_SEED replays a run; REDISDB_JEPSEN_MS sets its length
 * (scripts/soak runs it for minutes).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { brokenPromises, runJepsen } from '../helpers/copy-jepsen.ts';

describe('RedisCopy, randomized', () => {
  const seed = Number(process.env['REDISDB_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
  const durationMs = Number(process.env['REDISDB_JEPSEN_MS'] ?? 45_000);

  it(`16 callers, every door, faults on 3 nodes: nothing acknowledged lost, nothing rejected applied (seed ${seed})`, { timeout: durationMs + 90_000 }, async () => {
    const doors = process.env['REDISDB_JEPSEN_DOORS']?.split(',');
    const report = await runJepsen({ seed, durationMs, callers: 16, ...(doors === undefined ? {} : { doors }) }).catch((err: unknown) => {
      throw new Error(`replay with REDISDB_SEED=${seed}: ${(err as Error).message}`, { cause: err });
    });
    const replay = `replay with REDISDB_SEED=${seed}`;
    assert.deepEqual(brokenPromises(report), [], replay);
    assert.ok(report.outcomes.acknowledged > 1000, `only ${report.outcomes.acknowledged} writes acknowledged (${replay})`);
    assert.ok(Object.keys(report.faults).length >= 3, `faults: ${JSON.stringify(report.faults)} (${replay})`);
    console.log(JSON.stringify(report));
  });
});
