/**
 * What the backend's doors (pipelines, scripts, scans, pub/sub) need of a backend. They depend
 * on this shape, not on the Backend class, which creates them.
 */
import type { ConstRedis, ConstRedisBase } from '../client/const-redis.ts';
import type { CommandBuilder } from '../client/command-builder.ts';
import type { LoadableScript } from '../client/command-queue.ts';
import type { CommandSpec } from '../client/conventions.ts';
import type { Plan } from './plan.ts';
import type { Placement } from './placement.ts';
import type { Route, RouteTable } from './routes.ts';

export interface BackendCore {
  /** One client per node, in LOCATION order. */
  readonly nodes: readonly ConstRedis[];
  /** The same clients without their command Proxy. */
  readonly clients: readonly ConstRedisBase[];
  readonly addresses: readonly string[];
  readonly placement: Placement;
  readonly routes: RouteTable;
  /** Builds every command of the backend and of its nodes. */
  readonly builder: CommandBuilder;
  /** The backend's policy: where a built command goes and how its replies come back. */
  planFor(spec: CommandSpec, route: Route): Plan;
  /** Routes, plans and runs a built command. */
  run(spec: CommandSpec): Promise<unknown>;
  /** Runs a plan with the backend's shapes and node health. */
  execute(plan: Plan): Promise<unknown>;
  /**
   * Runs a pipeline's built commands, in order: one result per command, failures in their
   * slots. With `transaction`, as one MULTI/EXEC block where the backend allows it.
   */
  runPipeline(specs: readonly CommandSpec[], transaction: boolean, scripts: readonly LoadableScript[]): Promise<unknown[]>;
  /**
   * The one node every subscription goes to, when published messages reach every node
   * (RedisCluster); -1 when each channel lives on its own node (RedisRing).
   */
  pubsubNode(): number;
}
