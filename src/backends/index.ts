export { RedisRing, RedisRingBase, type RedisRingConstructor } from './ring.js';
export { RedisCopy, RedisCopyBase, type RedisCopyConstructor } from './copy.js';
export { Backend, backendProxy, type BackendMethod } from './backend.js';
export { NodesFailedError } from './errors.js';
export { RouteTable, routeOf, keysOf, type Route, type Merge } from './routes.js';
export { Placement } from './placement.js';
export { splitByNode, mergeReplies, type Plan, type OnePlan, type EachPlan, type MergePlan, type Split } from './plan.js';
export type { BackendOptions, NodeOptions, NodeSpec, PlacementOptions, ReferenceParams, Hashing } from './config.js';
