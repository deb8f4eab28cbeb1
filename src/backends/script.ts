/**
 * Scripts on a backend: EVALSHA is routed like any command (by its keys: the keys' node on a
 * RedisRing, where they must live together; every node on a RedisCopy, since a script may
 * write), and each node that answers NOSCRIPT gets the script loaded and run again, without
 * running it twice on the nodes that had it.
 */
import type { CommandSpec } from '../client/conventions.js';
import { createScript, evalScript, scriptSha, type CommandRunner, type Script } from '../client/script.js';
import type { Backend } from './backend.js';
import { NodesFailedError } from './errors.js';
import { commandName, mergeReplies, type Plan } from './plan.js';
import { planOf } from './pubsub.js';

/** Runs a plan with `run(node, spec)` for each part, shaped as the backend shapes replies. */
async function runPlanWith(backend: Backend, plan: Plan, run: (node: number, spec: CommandSpec) => Promise<unknown>): Promise<unknown> {
  switch (plan.kind) {
    case 'one': {
      const r = await run(plan.node, plan.spec);
      return plan.wrap ? [r] : r;
    }
    case 'each': {
      const settled = await Promise.allSettled(plan.nodes.map((n, i) => run(n, plan.specs[i]!)));
      const results = settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error)));
      if (settled.every((s) => s.status === 'rejected')) {
        if (results.length === 1) throw results[0];
        throw new NodesFailedError(plan.nodes.map((n) => backend.addresses[n]!), results as Error[], commandName(plan.specs[0]!));
      }
      return results;
    }
    case 'merge':
      return mergeReplies(plan, (await Promise.all(plan.nodes.map((n, i) => run(n, plan.specs[i]!)))) as never[]);
  }
}

export function createBackendScript(backend: Backend, lua: string): Script {
  if (typeof lua !== 'string' || lua === '') throw new TypeError('register_script: the script must be a non-empty string');
  const sha = scriptSha(lua);
  const runner: CommandRunner = {
    async command(method: string, args: readonly unknown[]): Promise<unknown> {
      if (method !== 'evalsha') return backend.command(method, args);
      const spec = await backend.prepare(method, args);
      const plan = await planOf(backend, spec);
      const numkeys = Number(args[1]);
      const keys = args.slice(2, 2 + numkeys);
      const rest = args.slice(2 + numkeys);
      return runPlanWith(backend, plan, (node) => evalScript(backend.nodes[node]!, sha, lua, keys, rest));
    },
  };
  return createScript(runner, lua);
}
