/**
 * Every door a write can take into a RedisCopy, each adding 1 to a counter, and the outcome
 * of each call as a caller sees it: acknowledged, rejected (applied nowhere), or unknown
 * (it may have been applied). Fault tests run every door through every fault and end by
 * checking the counters against these outcomes.
 */
import type { RedisCopy } from '../../src/backends/index.js';
import { ConnectionError } from '../../src/errors.js';

export const INCR_LUA = "return redis.call('INCR', KEYS[1])";

export type Door = (copy: RedisCopy, key: string) => Promise<unknown>;

export const DOORS: Readonly<Record<string, Door>> = {
  method: (c, k) => c.incr(k),
  call: (c, k) => c.call('INCR', k),
  execute_command: (c, k) => c.execute_command('INCR', k),
  pipeline: (c, k) => c.pipeline({ transaction: false }).incr(k).exec(),
  multi: (c, k) => c.pipeline().incr(k).exec(),
  transaction: (c, k) => c.transaction(async (pipe) => {
    await pipe.get(k);
    pipe.multi().incr(k);
  }, k),
  script: (c, k) => c.register_script(INCR_LUA)([k]),
  eval: (c, k) => c.eval(INCR_LUA, 1, k),
};

export type Outcome = 'acknowledged' | 'rejected' | 'unknown';

/** What a caller may conclude from a write's settled promise. */
export function outcomeOf(settled: PromiseSettledResult<unknown>): Outcome {
  if (settled.status === 'fulfilled') return 'acknowledged';
  const err = settled.reason as { outcome?: string; name?: string };
  if (err.outcome === 'rejected') return 'rejected';
  if (err.outcome === 'unknown' || err.outcome === 'partial' || settled.reason instanceof ConnectionError) return 'unknown';
  throw settled.reason;
}

/** Tally of a door's calls. */
export class Tally {
  acknowledged = 0;
  rejected = 0;
  unknown = 0;

  add(outcome: Outcome): void {
    this[outcome]++;
  }

  /** The counter a node may hold: every acknowledged write, plus any unknown one. */
  allows(value: number): boolean {
    return value >= this.acknowledged && value <= this.acknowledged + this.unknown;
  }

  toString(): string {
    return `${this.acknowledged} acknowledged, ${this.unknown} unknown, ${this.rejected} rejected`;
  }
}
