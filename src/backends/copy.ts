/**
 * RedisCopy: client-side master/master. Every write goes to every node at once and returns
 * one result per node (a node's failure is an Error in its place; the call rejects only when
 * no node took the write). A read goes to the key's node on the continuum and, when that node
 * cannot be reached, to the next node round the continuum.
 */
import type { ReferenceParams, BackendOptions } from './config.js';
import type { CommandSpec } from '../client/conventions.js';
import { Backend, backendProxy, type BackendMethod } from './backend.js';
import type { Plan } from './plan.js';
import { keysOf, type Route } from './routes.js';

export class RedisCopyBase extends Backend {
  /** new RedisCopy(['host:port', ...], { DB, OPTIONS }) or new RedisCopy({ nodes, db, ...options }). */
  constructor(location: readonly (string | object)[] | string | BackendOptions, params?: ReferenceParams) {
    super('RedisCopy', location, params);
  }

  planFor(spec: CommandSpec, route: Route): Plan {
    if (route.writes) return this.everyNode(spec);
    const at = keysOf(route, spec);
    const first = typeof at === 'number' ? at : at.length > 0 ? at[0]! : -1;
    if (first < 0) return this.everyNode(spec);
    if (this.nodes.length === 1) return { kind: 'one', node: 0, spec, wrap: false, failoverHash: -1 };
    // Every node holds every key, so a read of several keys is answered by the first key's node.
    const hash = this.placement.hashOf(spec.argv[first]);
    return { kind: 'one', node: this.continuum.nodeForHash(hash), spec, wrap: false, failoverHash: hash };
  }
}

/** A RedisCopy: the backend plus every Redis command as a method. */
export type RedisCopy = RedisCopyBase & { [command: string]: BackendMethod };

export interface RedisCopyConstructor {
  new (location: readonly (string | object)[] | string, params?: ReferenceParams): RedisCopy;
  new (options: BackendOptions): RedisCopy;
}

class RedisCopyClient extends RedisCopyBase {
  constructor(location: readonly (string | object)[] | string | BackendOptions, params?: ReferenceParams) {
    super(location, params);
    return backendProxy(this);
  }
}

export const RedisCopy = RedisCopyClient as unknown as RedisCopyConstructor;
