/**
 * Scripts on a backend: EVALSHA built and routed like any command (by its keys: the keys' node
 * on a RedisRing, where they must live together; every node on a RedisCopy, since a script may
 * write). The command carries the script's text, so a node that answers NOSCRIPT runs it with
 * EVAL instead (see ConstRedisBase.dispatch), without running it twice on the nodes that had it.
 */
import type { CommandSpec } from '../client/conventions.ts';
import { createScript, type CommandRunner, type Script } from '../client/script.ts';
import type { BackendCore } from './core.ts';

export function createBackendScript(backend: BackendCore, lua: string): Script {
  if (typeof lua !== 'string' || lua === '') throw new TypeError('register_script: the script must be a non-empty string');
  const runner: CommandRunner = {
    async command(method: string, args: readonly unknown[]): Promise<unknown> {
      const spec: CommandSpec = await backend.builder.build(method, args);
      if (method === 'evalsha') spec.script = lua;
      return backend.run(spec);
    },
  };
  return createScript(runner, lua);
}
