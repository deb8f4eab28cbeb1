/** Errors of the backends: a command that failed on every node it was sent to. */
import { ConnectionError, RedisError } from '../errors.ts';

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

/**
 * No node gave a usable slot map. `nodes` are the nodes asked, `errors` what each answered
 * or why it did not, in the same order; the message names them all.
 */
export class ClusterRefreshError extends ConnectionError {
  override name = 'ClusterRefreshError';
  readonly nodes: readonly string[];
  readonly errors: readonly Error[];

  constructor(nodes: readonly string[], errors: readonly Error[]) {
    const detail = nodes.map((n, i) => `${n}: ${errors[i]?.message ?? 'no answer'}`).join('; ');
    super(`could not read the cluster's slot map from any node (${detail})`, { cause: errors[0] });
    this.nodes = Object.freeze(nodes.slice());
    this.errors = Object.freeze(errors.slice());
  }
}

/** A command was redirected more times than `max_redirections` allows. */
export class TooManyRedirectionsError extends RedisError {
  override name = 'TooManyRedirectionsError';
}
