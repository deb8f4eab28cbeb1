/**
 * Publish/subscribe on a connection of its own. Messages arrive as events and through an
 * async iterator; after a reconnect every channel and pattern is subscribed again.
 *
 * A (P)SUBSCRIBE or (P)UNSUBSCRIBE with n names draws n confirmations, while the connection
 * matches one reply per command. The push handler therefore swallows all confirmations of a
 * command but its last, which answers the command itself. Messages answer no command and are
 * always taken by the handler.
 */
import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import type { Connection } from '../connection/connection.ts';
import { ConnectionError } from '../errors.ts';
import type { Reply } from '../resp/decode.ts';
import type { NodeClient } from './node-client.ts';
import { MessageStream } from './message-stream.ts';
import { text } from './replies.ts';

export interface PubSubMessage {
  type: 'message' | 'pmessage';
  /** The pattern that matched (pmessage), else null. */
  pattern: string | null;
  channel: string;
  /** The payload: a string, or a Buffer when the client returns Buffers. */
  data: string | Buffer;
}

export type MessageHandler = (message: PubSubMessage) => void;

export interface PubSubOptions {
  /** Messages kept for a slow `for await` loop before the oldest are dropped (default 10,000). */
  maxBuffered?: number;
  /** redis-py's option: subscription confirmations are never surfaced here, so it is a no-op. */
  ignore_subscribe_messages?: boolean;
  /**
   * Seconds between PINGs while subscribed (redis-py's health_check_interval; default none).
   * A subscriber only listens, so without them a hung server looks like a quiet channel; an
   * unanswered PING (within socket_timeout, else the interval) resets the connection, and
   * the subscriptions are made again once the server answers.
   */
  health_check_interval?: number;
  /** Milliseconds between PINGs while subscribed. */
  healthCheckInterval?: number;
}

const OPTION_NAMES = ['maxBuffered', 'ignore_subscribe_messages', 'health_check_interval', 'healthCheckInterval'];

type Kind = 'subscribe' | 'psubscribe' | 'unsubscribe' | 'punsubscribe';

const CONFIRMATIONS = new Set<string>(['subscribe', 'psubscribe', 'unsubscribe', 'punsubscribe']);

/** Confirmations still to come for a command already handed to the connection. */
interface Expected {
  kind: Kind;
  remaining: number;
}

/** Reports an exception from user code that no 'error' listener took. */
export function warnHandlerFailed(thrown: unknown, message: PubSubMessage, what: string): void {
  const why = thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown);
  const warning = new Error(`a pub/sub ${what} threw on a message of channel '${message.channel}' (listen for 'error' on the PubSub to handle it): ${why}`, { cause: thrown });
  warning.name = 'PubSubHandlerWarning';
  process.emitWarning(warning);
}

/** Where connection pooling lives: the client lends a connection of its own. */
export interface ConnectionLender {
  borrowConnection(): Connection;
  releaseConnection(conn: Connection, reusable: boolean): Promise<void>;
}

type Names = Array<string | readonly string[] | Record<string, MessageHandler>>;

export class PubSub extends EventEmitter {
  private readonly conn: Connection;
  private readonly lender: ConnectionLender;
  private readonly expected: Expected[] = [];
  /** Channels and patterns asked for, with their handlers (null: events only). */
  private readonly channelSet = new Map<string, MessageHandler | null>();
  private readonly patternSet = new Map<string, MessageHandler | null>();
  private readonly stream: MessageStream<PubSubMessage>;
  private readonly healthCheckMs: number | null;
  private healthTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private wasLost = false;
  private reconnecting = false;

  constructor(client: NodeClient & ConnectionLender, options: PubSubOptions = {}) {
    super();
    if (typeof options !== 'object' || options === null) throw new TypeError('pubsub: options must be an object');
    for (const key of Object.keys(options)) {
      if (!OPTION_NAMES.includes(key)) throw new TypeError(`pubsub: unknown option '${key}'; expected one of: ${OPTION_NAMES.join(', ')}`);
    }
    const max = options.maxBuffered ?? 10_000;
    if (!Number.isInteger(max) || max < 1) throw new RangeError('pubsub: maxBuffered must be a positive integer');
    this.stream = new MessageStream<PubSubMessage>(max);
    const health = options.healthCheckInterval ?? (options.health_check_interval !== undefined ? options.health_check_interval * 1000 : null);
    if (health !== null && (typeof health !== 'number' || !Number.isFinite(health) || health <= 0)) {
      throw new RangeError('pubsub: health_check_interval must be a positive number of seconds');
    }
    this.healthCheckMs = health;
    this.lender = client;
    this.conn = client.borrowConnection();
    this.conn.setPushHandler((reply) => this.onPush(reply));
    this.conn.on('disconnect', () => this.onLost());
    this.conn.on('ready', () => this.onReady());
    // The client's close() closes this connection too: the loops reading messages end.
    this.conn.on('close', () => void this.close());
    // A connection from the pool is ready already: no 'ready' event will start the checks.
    if (this.conn.isReady) this.startHealthChecks();
  }

  /** Channels currently subscribed (as asked; confirmed by the server in order). */
  get channels(): string[] {
    return [...this.channelSet.keys()];
  }

  get patterns(): string[] {
    return [...this.patternSet.keys()];
  }

  /** True while subscribed to at least one channel or pattern. */
  get subscribed(): boolean {
    return this.channelSet.size + this.patternSet.size > 0;
  }

  /**
   * Subscribes to channels: names, arrays of names, or `{ channel: handler }` objects whose
   * handler is called for that channel's messages (instead of the 'message' event).
   */
  subscribe(...channels: Names): Promise<void> {
    return this.change('subscribe', this.channelSet, channels);
  }

  /** Subscribes to glob-style patterns; their messages come as 'pmessage'. */
  psubscribe(...patterns: Names): Promise<void> {
    return this.change('psubscribe', this.patternSet, patterns);
  }

  /** Unsubscribes from the given channels, or from every channel when none is given. */
  unsubscribe(...channels: Array<string | readonly string[]>): Promise<void> {
    return this.change('unsubscribe', this.channelSet, channels);
  }

  punsubscribe(...patterns: Array<string | readonly string[]>): Promise<void> {
    return this.change('punsubscribe', this.patternSet, patterns);
  }

  /** Checks the connection (PING is allowed while subscribed). */
  async ping(): Promise<boolean> {
    const r = await this.conn.send(['PING']);
    return Array.isArray(r) ? text(r[0]).toLowerCase() === 'pong' : text(r) === 'PONG';
  }

  private change(kind: Kind, set: Map<string, MessageHandler | null>, input: Names): Promise<void> {
    try {
      if (this.closed) throw new ConnectionError('this pubsub is closed');
      const names: string[] = [];
      const handlers = new Map<string, MessageHandler | null>();
      for (const item of input) {
        if (typeof item === 'string') {
          names.push(item);
          handlers.set(item, null);
        } else if (Array.isArray(item)) {
          for (const n of item) {
            if (typeof n !== 'string') throw new TypeError(`${kind}: a name must be a string, got ${typeof n}`);
            names.push(n);
            handlers.set(n, null);
          }
        } else if (typeof item === 'object' && item !== null && kind.endsWith('subscribe') && !kind.includes('un')) {
          for (const [n, h] of Object.entries(item as Record<string, unknown>)) {
            if (typeof h !== 'function') throw new TypeError(`${kind}: the handler for '${n}' must be a function`);
            names.push(n);
            handlers.set(n, h as MessageHandler);
          }
        } else {
          throw new TypeError(`${kind}: expected names or arrays of names, got ${typeof item}`);
        }
      }
      const unsubscribing = kind === 'unsubscribe' || kind === 'punsubscribe';
      if (!unsubscribing && names.length === 0) throw new TypeError(`${kind}: give at least one name`);
      // Every name explicitly, so the number of confirmations to expect is known.
      const targets = unsubscribing && names.length === 0 ? [...set.keys()] : names;
      if (unsubscribing) for (const n of targets) set.delete(n);
      else for (const [n, h] of handlers) set.set(n, h);
      if (targets.length === 0) return Promise.resolve();
      return this.send(kind, targets);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private send(kind: Kind, names: string[]): Promise<void> {
    const expectation: Expected = { kind, remaining: names.length };
    this.expected.push(expectation);
    return this.conn.send([kind.toUpperCase(), ...names], { name: kind.toUpperCase() }).then(
      () => undefined,
      (err: Error) => {
        // Lost with its connection: its confirmations will never come.
        const i = this.expected.indexOf(expectation);
        if (i >= 0) this.expected.splice(i, 1);
        throw err;
      },
    );
  }

  private onPush(reply: Reply): boolean {
    if (!Array.isArray(reply) || reply.length < 3) return false;
    const kind = text(reply[0]);
    if (kind === 'message' && reply.length === 3) {
      this.deliver({ type: 'message', pattern: null, channel: text(reply[1]), data: reply[2] as string | Buffer }, this.channelSet);
      return true;
    }
    if (kind === 'pmessage' && reply.length === 4) {
      this.deliver({ type: 'pmessage', pattern: text(reply[1]), channel: text(reply[2]), data: reply[3] as string | Buffer }, this.patternSet);
      return true;
    }
    if (!CONFIRMATIONS.has(kind)) return false;
    const head = this.expected[0];
    // A confirmation no command of ours asked for (never expected): keep it out of the FIFO.
    if (head === undefined || head.kind !== kind) return true;
    head.remaining--;
    if (head.remaining > 0) return true;
    this.expected.shift();
    return false;
  }

  /** Every message, handled or not, also goes to these (a layer above merging several nodes). */
  private readonly taps: MessageHandler[] = [];

  /** Calls `listener` for every message this object receives, whoever else handles it. */
  tap(listener: MessageHandler): void {
    this.taps.push(listener);
  }

  private deliver(message: PubSubMessage, handlers: Map<string, MessageHandler | null>): void {
    const handler = handlers.get(message.pattern ?? message.channel);
    if (handler) this.guarded(handler, undefined, message);
    // Listener by listener (not emit()), so one that throws does not rob the next of the message.
    else for (const listener of this.rawListeners(message.type)) this.guarded(listener as MessageHandler, this, message);
    for (const t of this.taps) this.guarded(t, undefined, message);
    this.stream.push(message);
  }

  /**
   * Calls one handler. What it throws is the caller's, not the protocol's: it must neither
   * reset the connection nor stop the other messages read in the same chunk. It goes to the
   * 'error' listeners, with the message; with none, it becomes a process warning (on stderr,
   * or process.on('warning')) rather than the crash an unheard 'error' event would be.
   */
  private guarded(handler: MessageHandler, self: unknown, message: PubSubMessage): void {
    try {
      Reflect.apply(handler, self, [message]);
    } catch (thrown) {
      const err = thrown instanceof Error ? thrown : new Error(String(thrown));
      try {
        if (this.listenerCount('error') > 0) {
          this.emit('error', err, message);
          return;
        }
      } catch (fromListener) {
        warnHandlerFailed(fromListener, message, 'error listener');
        return;
      }
      warnHandlerFailed(err, message, 'message handler');
    }
  }

  /** Keeps PINGing while the connection is up; a PING that times out resets the socket. */
  private startHealthChecks(): void {
    if (this.healthCheckMs === null || this.healthTimer !== null || this.closed) return;
    const every = this.healthCheckMs;
    const timeout = this.conn.options.socketTimeout ?? every;
    this.healthTimer = setInterval(() => {
      if (!this.conn.isReady || this.closed) return;
      this.conn.send(['PING'], { timeout, name: 'PING (health check)' }).catch(() => {
        // The connection reports the loss itself ('disconnect'), and reconnect() follows.
      });
    }, every);
    this.healthTimer.unref();
  }

  private onLost(): void {
    if (this.closed) return;
    this.wasLost = true;
    this.emit('disconnect');
    void this.reconnect();
  }

  /** The connection only reconnects for queued commands; a subscriber has none, so it asks. */
  private async reconnect(): Promise<void> {
    if (this.reconnecting) return;
    this.reconnecting = true;
    try {
      for (let failures = 0; !this.closed && !this.conn.isReady && !this.conn.isClosed; failures++) {
        try {
          await this.conn.connect();
        } catch {
          const base = Math.min(this.conn.options.maxReconnectDelay, 25 * 2 ** Math.min(failures, 10));
          await new Promise((r) => setTimeout(r, base / 2 + Math.random() * (base / 2)).unref());
        }
      }
    } finally {
      this.reconnecting = false;
    }
  }

  private onReady(): void {
    this.startHealthChecks();
    if (!this.wasLost || this.closed) return;
    this.wasLost = false;
    // After the commands queued while offline are written (they follow this event at once),
    // so the confirmations come in the order the expectations were recorded.
    process.nextTick(() => {
      // Without an 'error' listener, emit('error') would throw from inside a promise.
      const failed = (err: Error): void => {
        if (this.listenerCount('error') > 0) this.emit('error', err);
      };
      if (this.channelSet.size > 0) this.send('subscribe', [...this.channelSet.keys()]).catch(failed);
      if (this.patternSet.size > 0) this.send('psubscribe', [...this.patternSet.keys()]).catch(failed);
      this.emit('reconnect');
    });
  }

  /** Yields messages (both kinds) from when the loop starts until close(). */
  [Symbol.asyncIterator](): AsyncIterator<PubSubMessage> {
    return this.stream.iterator();
  }

  /**
   * Unsubscribes from everything and closes the connection; iterators end and 'close' is
   * emitted. The client's close() does the same to every PubSub it lent a connection to.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.healthTimer !== null) clearInterval(this.healthTimer);
    this.healthTimer = null;
    this.channelSet.clear();
    this.patternSet.clear();
    this.stream.end();
    this.emit('close');
    await this.lender.releaseConnection(this.conn, false);
  }

  /** redis-py's name for close(). */
  reset(): Promise<void> {
    return this.close();
  }
}
