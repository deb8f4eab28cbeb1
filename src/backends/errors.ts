import { RedisError } from '../errors.js';

/**
 * A command sent to several nodes failed on every one of them. `errors` holds each node's
 * failure in the order the nodes were asked, `nodes` their addresses; `cause` is the first.
 */
export class NodesFailedError extends RedisError {
  override name = 'NodesFailedError';
  readonly nodes: readonly string[];
  readonly errors: readonly Error[];

  constructor(nodes: readonly string[], errors: readonly Error[], what = 'command') {
    const detail = errors.map((e, i) => `${nodes[i]}: ${e.message}`).join('; ');
    super(`${what} failed on every node (${detail})`, { cause: errors[0] });
    this.nodes = Object.freeze(nodes.slice());
    this.errors = Object.freeze(errors.slice());
  }
}
