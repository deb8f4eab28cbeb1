/** Errors of the backends: a command that failed on every node it was sent to. */
import { RedisError } from '../errors.ts';

/**
 * A command sent to several nodes failed on every one of them. `errors` holds each node's
 * failure in the order the nodes were asked, `nodes` their addresses; `cause` is the first.
 */
export class NodesFailedError extends RedisError {
  override name = 'NodesFailedError';
  readonly nodes: readonly string[];
  readonly errors: readonly Error[];
  /**
   * For a RedisCopy write: 'rejected' when it was applied nowhere and never will be;
   * 'unknown' when some node was sent it and never answered (the copies still converge on
   * one value: the write's wherever a node applied it). Undefined for other commands.
   */
  readonly outcome: 'rejected' | 'unknown' | undefined;

  constructor(nodes: readonly string[], errors: readonly Error[], what = 'command', outcome?: 'rejected' | 'unknown') {
    const detail = errors.map((e, i) => `${nodes[i]}: ${e.message}`).join('; ');
    const tail = outcome === 'unknown' ? '; it may have been applied where it went unanswered' : '';
    super(`${what} failed on every node (${detail})${tail}`, { cause: errors[0] });
    this.nodes = Object.freeze(nodes.slice());
    this.errors = Object.freeze(errors.slice());
    this.outcome = outcome;
  }
}
