/**
 * Every error redisdb raises derives from RedisError, so callers can tell library failures from
 * their own bugs with one `instanceof`.
 */
export class RedisError extends Error {
  override name = 'RedisError';
}

/** An error reply sent by the server (`-WRONGTYPE ...`); `code` is its first word. */
export class ReplyError extends RedisError {
  override name = 'ReplyError';
  readonly code: string;
  /** The command that drew the error, when known (set by the client, never by the decoder). */
  command?: string;

  constructor(message: string) {
    super(message);
    const space = message.indexOf(' ');
    this.code = space === -1 ? message : message.slice(0, space);
  }
}

/** The byte stream broke the RESP grammar; the connection that read it is closed. */
export class ProtocolError extends RedisError {
  override name = 'ProtocolError';
}

/** The socket failed, closed, or could not be opened. */
export class ConnectionError extends RedisError {
  override name = 'ConnectionError';
  /**
   * True when the command was never written to a socket (it waited for a connection that
   * could not be made), so it surely did not run; false when it may or may not have run.
   */
  neverSent = false;
}

/** Marks a connection error as one for commands that never left the process. */
export function unsent<E extends ConnectionError>(err: E): E {
  err.neverSent = true;
  return err;
}

/** A command or connect attempt was not answered in time. */
export class TimeoutError extends ConnectionError {
  override name = 'TimeoutError';
}

/** AUTH was refused. The message never contains the password. */
export class AuthError extends ConnectionError {
  override name = 'AuthError';
}

/** A transaction's EXEC was aborted because a WATCHed key changed. */
export class WatchError extends RedisError {
  override name = 'WatchError';
}

/** Keys that must be on one node live on several. Raised before anything is sent. */
export class CrossNodeError extends RedisError {
  override name = 'CrossNodeError';
}

/** The node a command needs is marked down. */
export class NodeDownError extends ConnectionError {
  override name = 'NodeDownError';
  readonly node: string;
  constructor(node: string, message = `node ${node} is down`) {
    super(message);
    this.node = node;
  }
}

/** A lock could not be released, extended or acquired as asked. */
export class LockError extends RedisError {
  override name = 'LockError';
}

/** Configuration that cannot work: names the place (alias, key) that is wrong. */
export class ConfigError extends RedisError {
  override name = 'ConfigError';
}

/** Keys a Redis Cluster must serve together (one command, one transaction) hash to several slots. Raised before anything is sent. */
export class CrossSlotError extends CrossNodeError {
  override name = 'CrossSlotError';
}

/** No sentinel answered (each sentinel's cause is in the message and in `errors`). */
export class SentinelUnreachableError extends ConnectionError {
  override name = 'SentinelUnreachableError';
  readonly errors: readonly Error[];
  constructor(message: string, errors: readonly Error[]) {
    super(message, { cause: errors[0] });
    this.errors = Object.freeze(errors.slice());
  }
}

/** The sentinels answered, and none knows the service name asked for. */
export class UnknownServiceError extends ConnectionError {
  override name = 'UnknownServiceError';
}

/** The sentinels named a server, and it could not be reached or is not in the role asked for. */
export class MasterUnreachableError extends ConnectionError {
  override name = 'MasterUnreachableError';
}
