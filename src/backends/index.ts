/**
 * RedisRing, RedisCopy and RedisCluster. They share everything but their policy:
 *   config.ts     LOCATION / params or { nodes } → checked node options, names, weights
 *   placement.ts  keys (strings or bytes) → node indices on the continuum; failover order
 *   routes.ts     what the server says about a command: its keys, whether it writes, tips
 *   plan.ts       where a command goes and how replies come back (plain data), split and merge
 *   backend.ts    the nodes, running plans, the command Proxy
 *   ring.ts / copy.ts / cluster.ts   each backend's planFor (cluster.ts: slots, redirects, map reads)
 */
export { RedisRing, RedisRingBase, type RedisRingConstructor, type StrictRing } from './ring.ts';
export { RedisCopy, RedisCopyBase, type RedisCopyConstructor, type StrictCopy } from './copy.ts';
export { RedisCluster, RedisClusterBase, SlotPlacement, type RedisClusterConstructor, type StrictCluster } from './cluster.ts';
export type { ClusterOptionsInput, ClusterConstructorOptions, ClusterParams, ReadFrom } from './cluster-config.ts';
export { Backend, backendProxy, type BackendMethod } from './backend.ts';
export { NodesFailedError, ClusterRefreshError, TooManyRedirectionsError } from './errors.ts';
export { RouteTable, routeOf, keysOf, type Route, type Merge } from './routes.ts';
export { Placement } from './placement.ts';
export { splitByNode, mergeReplies, type Plan, type OnePlan, type EachPlan, type MergePlan, type Split } from './plan.ts';
export type { BackendOptions, NodeOptions, NodeSpec, PlacementOptions, ReferenceParams, Hashing } from './config.ts';
