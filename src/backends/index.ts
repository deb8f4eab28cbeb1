/**
 * RedisRing and RedisCopy. They share everything but their policy:
 *   config.ts     LOCATION / params or { nodes } → checked node options, names, weights
 *   placement.ts  keys (strings or bytes) → node indices on the continuum; failover order
 *   routes.ts     what the server says about a command: its keys, whether it writes, tips
 *   plan.ts       where a command goes and how replies come back (plain data), split and merge
 *   backend.ts    the nodes, running plans, the command Proxy
 *   ring.ts / copy.ts   each backend's planFor
 */
export { RedisRing, RedisRingBase, type RedisRingConstructor, type StrictRing } from './ring.ts';
export { RedisCopy, RedisCopyBase, type RedisCopyConstructor, type StrictCopy } from './copy.ts';
export { Backend, backendProxy, type BackendMethod } from './backend.ts';
export { NodesFailedError } from './errors.ts';
export { RouteTable, routeOf, keysOf, type Route, type Merge } from './routes.ts';
export { Placement } from './placement.ts';
export { splitByNode, mergeReplies, type Plan, type OnePlan, type EachPlan, type MergePlan, type Split } from './plan.ts';
export type { BackendOptions, NodeOptions, NodeSpec, PlacementOptions, ReferenceParams, Hashing } from './config.ts';
