/**
 * A redis-server started for one job and stopped after it: what the generators that read a
 * real server's command table (COMMAND, COMMAND DOCS) share.
 */
import { Connection } from '../../src/connection/connection.ts';
import { resolveOptions } from '../../src/connection/options.ts';
import { RedisServer } from './redis-server.ts';

/** Runs `ask` on a connection to a fresh local server, told the server's version. */
export async function withScratchServer<T>(ask: (conn: Connection, version: string) => Promise<T>): Promise<T> {
  const server = new RedisServer();
  await server.start();
  const conn = new Connection(resolveOptions({ port: server.port, socket_timeout: 10 }));
  try {
    const info = String(await conn.send(['INFO', 'server']));
    return await ask(conn, /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown');
  } finally {
    await conn.close();
    await server.stop();
  }
}
