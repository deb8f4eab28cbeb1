/**
 * Pub/sub on a backend: a channel lives on the node its name hashes to, so `publish` and
 * `subscribe` meet there, and each message is published once (on RedisCopy too: a channel is
 * not data to copy). A pattern can match channels of any node, so it is subscribed on every
 * node; a message is still delivered once, since it was published on one node only.
 */
import { EventEmitter } from 'node:events';
import { PubSub, warnHandlerFailed, type MessageHandler, type PubSubMessage, type PubSubOptions } from '../client/pubsub.ts';
import { MessageStream } from '../client/message-stream.ts';
import { ConnectionError } from '../errors.ts';
import type { BackendCore } from './core.ts';

/** Index of the node a channel lives on: where its name hashes to, as a key would. */
export function channelNode(backend: BackendCore, channel: unknown): number {
  const one = backend.pubsubNode();
  if (one >= 0) return one;
  return backend.nodes.length === 1 ? 0 : backend.placement.nodeOf(channel);
}

/** PUBLISH, routed by its channel like any command (see routes.ts); resolves to the receivers. */
export function publish(backend: BackendCore, channel: string | Uint8Array, message: unknown): Promise<unknown> {
  if (typeof channel !== 'string' && !(channel instanceof Uint8Array)) return Promise.reject(new TypeError('publish: the channel must be a string'));
  let spec;
  try {
    spec = backend.builder.raw(['PUBLISH', channel, message], 'publish');
  } catch (err) {
    return Promise.reject(err);
  }
  return backend.run(spec);
}

type Names = Array<string | readonly string[] | Record<string, MessageHandler>>;

/** One PubSub per node, opened when a channel or pattern first needs it. */
export class BackendPubSub extends EventEmitter {
  private readonly perNode = new Map<number, PubSub>();
  private readonly stream: MessageStream<PubSubMessage>;
  private closed = false;

  private readonly backend: BackendCore;
  private readonly options: PubSubOptions;
  constructor(
    backend: BackendCore,
    options: PubSubOptions = {},
  ) {
    super();
    this.backend = backend;
    this.options = options;
    if (typeof options !== 'object' || options === null) throw new TypeError('pubsub: options must be an object');
    this.stream = new MessageStream<PubSubMessage>(options.maxBuffered ?? 10_000);
  }

  private node(index: number): PubSub {
    let ps = this.perNode.get(index);
    if (ps === undefined) {
      ps = new PubSub(this.backend.nodes[index]!, this.options);
      ps.on('reconnect', () => this.emit('reconnect', this.backend.addresses[index]));
      // A handler's exception is the caller's: to 'error' listeners, or a process warning.
      ps.on('error', (err: Error, message?: PubSubMessage) => {
        if (this.listenerCount('error') > 0) this.emit('error', err, message);
        else if (message !== undefined) warnHandlerFailed(err, message, 'handler');
      });
      // The node's connection closed (the backend closed): this ends too, and its loops with it.
      ps.on('close', () => {
        if (!this.closed) void this.close();
      });
      ps.on('message', (m: PubSubMessage) => this.deliver(m));
      ps.on('pmessage', (m: PubSubMessage) => this.deliver(m));
      ps.tap((m) => this.stream.push(m));
      this.perNode.set(index, ps);
    }
    return ps;
  }

  get channels(): string[] {
    return [...this.perNode.values()].flatMap((ps) => ps.channels);
  }

  get patterns(): string[] {
    const seen = new Set<string>();
    for (const ps of this.perNode.values()) for (const p of ps.patterns) seen.add(p);
    return [...seen];
  }

  /** Subscribes each channel on its own node. */
  subscribe(...channels: Names): Promise<void> {
    return this.byChannel(channels, (ps, names) => ps.subscribe(...names), 'subscribe');
  }

  unsubscribe(...channels: Array<string | readonly string[]>): Promise<void> {
    if (channels.length === 0) return this.onEvery((ps) => ps.unsubscribe());
    return this.byChannel(channels, (ps, names) => ps.unsubscribe(...(names as string[])), 'unsubscribe');
  }

  /** Subscribes patterns on every node: a matching channel may live on any of them. */
  psubscribe(...patterns: Names): Promise<void> {
    if (this.closed) return Promise.reject(new ConnectionError('this pubsub is closed'));
    const one = this.backend.pubsubNode();
    const nodes = one >= 0 ? [one] : this.backend.nodes.map((_, i) => i);
    return Promise.all(nodes.map((i) => this.node(i).psubscribe(...patterns))).then(() => undefined);
  }

  punsubscribe(...patterns: Array<string | readonly string[]>): Promise<void> {
    return this.onEvery((ps) => ps.punsubscribe(...patterns));
  }

  private onEvery(fn: (ps: PubSub) => Promise<void>): Promise<void> {
    if (this.closed) return Promise.reject(new ConnectionError('this pubsub is closed'));
    return Promise.all([...this.perNode.values()].map(fn)).then(() => undefined);
  }

  private byChannel(input: Names, fn: (ps: PubSub, names: Names) => Promise<void>, what: string): Promise<void> {
    try {
      if (this.closed) throw new ConnectionError('this pubsub is closed');
      const groups = new Map<number, Names>();
      const add = (node: number, item: string | Record<string, MessageHandler>): void => {
        let g = groups.get(node);
        if (g === undefined) groups.set(node, (g = []));
        g.push(item);
      };
      for (const item of input) {
        if (typeof item === 'string') add(channelNode(this.backend, item), item);
        else if (Array.isArray(item)) {
          for (const n of item) {
            if (typeof n !== 'string') throw new TypeError(`${what}: a channel must be a string, got ${typeof n}`);
            add(channelNode(this.backend, n), n);
          }
        } else if (typeof item === 'object' && item !== null) {
          for (const [n, h] of Object.entries(item as Record<string, MessageHandler>)) add(channelNode(this.backend, n), { [n]: h });
        } else {
          throw new TypeError(`${what}: expected channel names, got ${typeof item}`);
        }
      }
      if (groups.size === 0 && what === 'subscribe') throw new TypeError('subscribe: give at least one channel');
      return Promise.all([...groups].map(([node, names]) => fn(this.node(node), names))).then(() => undefined);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Listener by listener, so one that throws does not rob the next of the message. */
  private deliver(m: PubSubMessage): void {
    for (const listener of this.rawListeners(m.type)) {
      try {
        Reflect.apply(listener, this, [m]);
      } catch (thrown) {
        const err = thrown instanceof Error ? thrown : new Error(String(thrown));
        if (this.listenerCount('error') > 0) this.emit('error', err, m);
        else warnHandlerFailed(err, m, 'listener');
      }
    }
  }

  /** Messages from every node, from when the loop starts until close(). */
  [Symbol.asyncIterator](): AsyncIterator<PubSubMessage> {
    return this.stream.iterator();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stream.end();
    await Promise.all([...this.perNode.values()].map((ps) => ps.close()));
  }

  reset(): Promise<void> {
    return this.close();
  }
}
