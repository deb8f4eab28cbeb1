/**
 * The cache facade's view of a backend. One ConstRedis, a RedisRing and a RedisCopy all run
 * any command by method name; they differ in how many nodes answer a write (ConstRedis gives
 * the reply, Ring and Copy a list with one reply per node written) and in how keys map to
 * nodes. This module hides both differences from the facade.
 */

import { NodesFailedError } from '../backends/errors.ts';
import { Connection } from '../connection/connection.ts';
import { ReplyError } from '../errors.ts';

type CommandFn = (...args: unknown[]) => Promise<unknown>;

/** What the facade needs from a backend: commands by name, and optionally its nodes. */
export interface CacheBackend {
  close(): Promise<void>;
  /** Ring and Copy: one client per server, in configuration order. */
  readonly nodes?: readonly object[];
  /** Ring and Copy: the node a key is read from (a client, or its index in `nodes`). */
  nodeFor?(key: string): unknown;
}

function commandOf(target: object, method: string): CommandFn {
  const fn = (target as Record<string, unknown>)[method];
  if (typeof fn !== 'function') throw new TypeError(`the cache backend has no '${method}' command`);
  return fn.bind(target) as CommandFn;
}

export class CacheTarget {
  readonly backend: CacheBackend;
  /** Every server behind the backend, each able to run commands itself. */
  readonly servers: readonly object[];

  constructor(backend: CacheBackend) {
    if (typeof backend !== 'object' || backend === null || typeof backend.close !== 'function') {
      throw new TypeError('a cache needs a backend: a ConstRedis, RedisRing or RedisCopy');
    }
    this.backend = backend;
    const nodes = backend.nodes;
    this.servers = Array.isArray(nodes) && nodes.length > 0 ? nodes : [backend];
  }

  /**
   * Ends every server's socket once its commands are answered; each connects again on its
   * next command. Servers without a connection of their own (other backends) are left as they are.
   */
  async release(): Promise<void> {
    await Promise.all(this.servers.map((s) => {
      const connection = (s as { connection?: unknown }).connection;
      return connection instanceof Connection ? connection.release() : undefined;
    }));
  }

  /** Runs a command through the backend, which routes it (and fails reads over, on Copy). */
  run(method: string, ...args: unknown[]): Promise<unknown> {
    try {
      return commandOf(this.backend, method)(...args);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Runs a command on one server directly (SCAN and FLUSHDB are per server). */
  runOn(server: object, method: string, ...args: unknown[]): Promise<unknown> {
    try {
      return commandOf(server, method)(...args);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Runs a write of one key and returns the reply that counts: the one from the node the key
   * is read from, since that is what the next read will see. On Copy the other nodes' replies
   * only matter when that node gave none.
   */
  async write(method: string, key: string, ...args: unknown[]): Promise<unknown> {
    let reply: unknown;
    try {
      reply = await this.run(method, key, ...args);
    } catch (err) {
      throw this.serverVerdict(err, key);
    }
    if (!Array.isArray(reply)) return reply; // one ConstRedis: these writes never answer with a list
    const read = this.readIndex(key);
    const own = read >= 0 ? reply[read] : undefined;
    if (own !== undefined && !(own instanceof Error)) return own;
    const other = reply.find((r) => r !== undefined && !(r instanceof Error));
    if (other !== undefined) return other;
    throw own instanceof Error ? own : (reply.find((r) => r instanceof Error) as Error | undefined) ?? new Error(`${method}: no node answered`);
  }

  /**
   * When every node refused a write with the same kind of server error (WRONGTYPE, not an
   * integer), that error is the answer, as from one server; failures to reach nodes stay whole.
   */
  private serverVerdict(err: unknown, key: string): unknown {
    if (!(err instanceof NodesFailedError) || !err.errors.every((e) => e instanceof ReplyError)) return err;
    const read = this.readIndex(key);
    return err.errors[read >= 0 && read < err.errors.length ? read : 0] ?? err;
  }

  /** Index of the key's read node in `servers`, or -1 when the backend does not say. */
  readIndex(key: string): number {
    if (this.servers.length === 1) return 0;
    const nodeFor = this.backend.nodeFor;
    if (typeof nodeFor !== 'function') return -1;
    const node = nodeFor.call(this.backend, key);
    if (typeof node === 'number') return node;
    return this.servers.indexOf(node as object);
  }

  /**
   * Keys grouped by the node they are read from, so a multi-key read or delete costs one
   * round trip per node rather than one per key.
   */
  groupByNode(keys: readonly string[]): string[][] {
    if (this.servers.length === 1) return keys.length === 0 ? [] : [keys.slice()];
    const groups = new Map<number, string[]>();
    for (const key of keys) {
      const i = this.readIndex(key);
      const g = groups.get(i);
      if (g === undefined) groups.set(i, [key]);
      else g.push(key);
    }
    return [...groups.values()];
  }
}
