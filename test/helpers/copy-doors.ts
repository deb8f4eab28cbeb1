/**
 * Every door a write can take into a RedisCopy — each adding 1 to a counter, or with a value
 * setting a key — and the outcome of each call as a caller sees it: acknowledged, rejected
 * (applied nowhere), or unknown (it may have been applied). Fault tests run every door
 * through every fault and end by checking the keys against these outcomes.
 */
import type { RedisCopy } from '../../src/backends/index.ts';
import { ConnectionError } from '../../src/errors.ts';

/** INCR, or SET when given a value. */
export const WRITE_LUA = "if ARGV[1] then return redis.call('SET', KEYS[1], ARGV[1]) end return redis.call('INCR', KEYS[1])";

/** Without a value: adds 1 to `key`. With one: sets `key` to it. */
export type Door = (copy: RedisCopy, key: string, value?: string) => Promise<unknown>;

const argv = (k: string, v?: string): string[] => (v === undefined ? ['INCR', k] : ['SET', k, v]);

export const DOORS: Readonly<Record<string, Door>> = {
  method: (c, k, v) => (v === undefined ? c.incr(k) : c.set(k, v)),
  call: (c, k, v) => c.call(...(argv(k, v) as [string, ...string[]])),
  execute_command: (c, k, v) => c.execute_command(...argv(k, v)),
  pipeline: (c, k, v) => c.pipeline({ transaction: false }).call(...(argv(k, v) as [string, ...string[]])).exec(),
  multi: (c, k, v) => c.pipeline().call(...(argv(k, v) as [string, ...string[]])).exec(),
  transaction: (c, k, v) => c.transaction(async (pipe) => {
    await pipe.get(k);
    pipe.multi().call(...(argv(k, v) as [string, ...string[]]));
  }, k),
  script: (c, k, v) => c.register_script(WRITE_LUA)([k], v === undefined ? [] : [v]),
  eval: (c, k, v) => (v === undefined ? c.eval(WRITE_LUA, 1, k) : c.eval(WRITE_LUA, 1, k, v)),
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
