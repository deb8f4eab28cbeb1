/**
 * What pipelines, transactions, pub/sub, scripts and locks need of a client for one server.
 * They depend on this shape, not on ConstRedis itself, which creates them.
 */
import type { Connection, Settle } from '../connection/connection.ts';
import type { ResolvedOptions } from '../connection/options.ts';
import type { CommandBuilder } from './command-builder.ts';
import type { EncodedCommand } from '../resp/encode.ts';
import type { CommandSpec } from './conventions.ts';
import type { NearCache } from './near-cache/near-cache.ts';

export interface NodeClient {
  readonly options: ResolvedOptions;
  /** The shared, pipelined connection. */
  readonly connection: Connection;
  readonly builder: CommandBuilder;
  /** The near cache in front of the shared connection, told of every write sent another way (pipelines, transactions). */
  readonly nearCache: NearCache | null;
  /** Sends a built command on the right connection and shapes its reply. */
  dispatch(spec: CommandSpec): Promise<unknown>;
  /**
   * The same, calling back instead of returning a promise. `encoded`: the same command as
   * another node's connection wrote it, copied instead of encoded again; returns where this
   * node's bytes are, for the next node (null when not written at once). `slot` is passed
   * back to resolve / reject, so one pair of callbacks can serve several nodes.
   */
  dispatchWith(
    spec: CommandSpec, resolve: Settle<unknown>, reject: Settle<Error>, encoded?: EncodedCommand | null, slot?: number,
  ): EncodedCommand | null;
  /** Builds and sends a command by method name. */
  command(method: string, args: readonly unknown[]): Promise<unknown>;
  /** A connection of its own, for state no one may share (WATCH, SUBSCRIBE). */
  borrowConnection(): Connection;
  releaseConnection(conn: Connection, reusable: boolean): Promise<void>;
}
