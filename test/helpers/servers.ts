/**
 * Real redis-server processes for tests (see scripts/lib/redis-server.ts), with node:test hooks.
 */
import { after, before } from 'node:test';
import { startServers, type RedisServer } from '../../scripts/lib/redis-server.ts';

export { RedisServer, freePort, startServers } from '../../scripts/lib/redis-server.ts';

/**
 * For a suite: N fresh servers started before its tests and stopped after them. Call it inside
 * `describe()` (hooks at a file's top level run too late for its suites). The array is filled
 * when the `before` hook has run.
 */
export function useServers(count: number, extraArgs: string[] = []): RedisServer[] {
  const servers: RedisServer[] = [];
  before(async () => {
    servers.push(...(await startServers(count, extraArgs)));
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });
  return servers;
}
