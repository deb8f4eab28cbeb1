/**
 * Pub/sub on a RedisCluster. Classic channels and patterns are subscribed on one node (a
 * published message reaches every node of a cluster, so subscribing on several would deliver
 * it several times). Sharded channels (SSUBSCRIBE) live on their slot's primary: each is
 * subscribed there, on a connection of its own per node, and subscribed again wherever the slot
 * map says after any change — a failover, a moved slot, a lost connection, or the server
 * unsubscribing it (as Redis does when the slot leaves the node).
 */
import { Buffer } from 'node:buffer';
import type { MessageHandler, PubSubMessage, PubSubOptions } from '../client/pubsub.ts';
import { warnHandlerFailed } from '../client/pubsub.ts';
import type { Connection } from '../connection/connection.ts';
import { ConnectionError } from '../errors.ts';
import type { Reply } from '../resp/decode.ts';
import { BackendPubSub } from './pubsub.ts';
import type { BackendCore } from './core.ts';

/** What ClusterPubSub needs of the cluster. */
export interface ShardedHost extends BackendCore {
  /** The primary of a channel's slot now. */
  shardNodeOf(channel: string): number;
  /** Reads the slot map now. */
  refreshSlots(): Promise<void>;
  /** Calls `listener` after every slot map read that changed an owner. */
  onSlotsChanged(listener: () => void): () => void;
}

/** A sharded message: `type` 'smessage'. */
export interface ShardMessage {
  type: 'smessage';
  pattern: null;
  channel: string;
  data: string | Buffer;
}

type ShardNames = Array<string | readonly string[] | Record<string, (m: ShardMessage) => void>>;

interface NodeLink {
  readonly node: number;
  readonly conn: Connection;
  readonly channels: Set<string>;
  /** Channels we asked to leave: their confirmation is a reply, not news. */
  readonly leaving: Set<string>;
}

const text = (r: unknown): string => (Buffer.isBuffer(r) ? r.toString() : String(r));

export class ClusterPubSub extends BackendPubSub {
  private readonly host: ShardedHost;
  private readonly handlers = new Map<string, ((m: ShardMessage) => void) | null>();
  private readonly links = new Map<number, NodeLink>();
  private readonly stopWatching: () => void;
  private shardClosed = false;
  private moving: Promise<void> | null = null;

  constructor(host: ShardedHost, options: PubSubOptions = {}) {
    super(host, options);
    this.host = host;
    this.stopWatching = host.onSlotsChanged(() => {
      this.rehome().catch((err: unknown) => this.report(err));
    });
  }

  /** Sharded channels subscribed now. */
  get shardChannels(): string[] {
    return [...this.handlers.keys()];
  }

  /** SSUBSCRIBE each channel on its slot's primary; a handler per channel may be given as { channel: fn }. */
  ssubscribe(...channels: ShardNames): Promise<void> {
    try {
      if (this.shardClosed) throw new ConnectionError('this pubsub is closed');
      const names: string[] = [];
      for (const item of channels) {
        if (typeof item === 'string') {
          names.push(item);
          this.handlers.set(item, this.handlers.get(item) ?? null);
        } else if (Array.isArray(item)) {
          for (const n of item) {
            if (typeof n !== 'string') throw new TypeError(`ssubscribe: a channel must be a string, got ${typeof n}`);
            names.push(n);
            this.handlers.set(n, this.handlers.get(n) ?? null);
          }
        } else if (typeof item === 'object' && item !== null) {
          for (const [n, h] of Object.entries(item as Record<string, unknown>)) {
            if (typeof h !== 'function') throw new TypeError(`ssubscribe: the handler for '${n}' must be a function`);
            names.push(n);
            this.handlers.set(n, h as (m: ShardMessage) => void);
          }
        } else {
          throw new TypeError(`ssubscribe: expected channel names, got ${typeof item}`);
        }
      }
      if (names.length === 0) throw new TypeError('ssubscribe: give at least one channel');
      return Promise.all(names.map((n) => this.subscribeOn(n, 0))).then(() => undefined);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** SUNSUBSCRIBE these channels (every sharded channel when none is named). */
  async sunsubscribe(...channels: Array<string | readonly string[]>): Promise<void> {
    const names = channels.length === 0 ? [...this.handlers.keys()] : channels.flat();
    await Promise.all(names.map(async (n) => {
      if (typeof n !== 'string') throw new TypeError(`sunsubscribe: a channel must be a string, got ${typeof n}`);
      this.handlers.delete(n);
      for (const link of this.links.values()) {
        if (!link.channels.delete(n)) continue;
        link.leaving.add(n);
        await link.conn.send(['SUNSUBSCRIBE', n], { name: 'SUNSUBSCRIBE' }).catch(() => undefined);
        link.leaving.delete(n);
      }
    }));
  }

  /** Subscribes a channel on its owner now, following MOVED (a stale map) by reading the map again. */
  private async subscribeOn(channel: string, attempt: number): Promise<void> {
    const node = this.host.shardNodeOf(channel);
    const link = this.link(node);
    if (link.channels.has(channel)) return;
    link.channels.add(channel);
    try {
      await link.conn.send(['SSUBSCRIBE', channel], { name: 'SSUBSCRIBE' });
    } catch (err) {
      link.channels.delete(channel);
      if (this.shardClosed || !this.handlers.has(channel) || attempt >= 5) throw err;
      // MOVED, or the node gone: where the slot map says now.
      await this.host.refreshSlots().catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 50 * (attempt + 1)));
      return this.subscribeOn(channel, attempt + 1);
    }
  }

  private link(node: number): NodeLink {
    let link = this.links.get(node);
    if (link !== undefined) return link;
    const conn = this.host.clients[node]!.borrowConnection();
    const made: NodeLink = { node, conn, channels: new Set(), leaving: new Set() };
    conn.setPushHandler((reply: Reply) => this.onPush(made, reply));
    // The connection lost: every channel it held is subscribed again where it belongs now.
    conn.on('disconnect', () => {
      if (this.links.get(node) !== made) return;
      this.links.delete(node);
      conn.destroy();
      this.resubscribe([...made.channels]).catch((err: unknown) => this.report(err));
    });
    this.links.set(node, made);
    return made;
  }

  private onPush(link: NodeLink, reply: Reply): boolean {
    if (!Array.isArray(reply) || reply.length < 3) return false;
    const kind = text(reply[0]);
    if (kind === 'smessage') {
      this.deliverShard({ type: 'smessage', pattern: null, channel: text(reply[1]), data: reply[2] as string | Buffer });
      return true;
    }
    if (kind === 'sunsubscribe') {
      const channel = text(reply[1]);
      if (link.leaving.has(channel)) return false;
      // Not asked for: the server gave the slot away. Subscribe where it went.
      if (link.channels.delete(channel) && this.handlers.has(channel)) this.resubscribe([channel], link.node).catch((err: unknown) => this.report(err));
      return true;
    }
    return false;
  }

  /**
   * Subscribes channels again where the slot map says. `leftNode` gave them up: a map that
   * still names it is stale (read from a node the news has not reached), so it is read again.
   */
  private async resubscribe(channels: string[], leftNode = -1): Promise<void> {
    if (this.shardClosed || channels.length === 0) return;
    for (let attempt = 0; attempt < 20; attempt++) {
      await this.host.refreshSlots().catch(() => undefined);
      if (this.shardClosed || !channels.some((c) => this.host.shardNodeOf(c) === leftNode)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await Promise.all(channels.filter((c) => this.handlers.has(c)).map((c) => this.subscribeOn(c, 0).catch((err: unknown) => this.report(err))));
    this.emit('resubscribed', channels);
  }

  /** After a map change: channels whose slot has another owner move there. */
  private rehome(): Promise<void> {
    if (this.moving !== null) return this.moving;
    const move = async (): Promise<void> => {
      for (const link of [...this.links.values()]) {
        const away = [...link.channels].filter((c) => this.host.shardNodeOf(c) !== link.node);
        if (away.length === 0) continue;
        for (const c of away) link.channels.delete(c);
        if (link.channels.size === 0) {
          this.links.delete(link.node);
          link.conn.destroy();
        }
        await Promise.all(away.filter((c) => this.handlers.has(c)).map((c) => this.subscribeOn(c, 0).catch((err: unknown) => this.report(err))));
        this.emit('resubscribed', away);
      }
    };
    this.moving = move().finally(() => {
      this.moving = null;
    });
    return this.moving;
  }

  /** A channel that could not be subscribed again: to 'error' listeners, or a process warning. */
  private report(err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    if (this.listenerCount('error') > 0) this.emit('error', e);
    else process.emitWarning(`redisdb: a sharded channel could not be subscribed again: ${e.message}`);
  }

  private deliverShard(m: ShardMessage): void {
    const handler = this.handlers.get(m.channel);
    try {
      if (handler !== null && handler !== undefined) handler(m);
      else this.emit('smessage', m);
    } catch (thrown) {
      const err = thrown instanceof Error ? thrown : new Error(String(thrown));
      if (this.listenerCount('error') > 0) this.emit('error', err, m);
      else warnHandlerFailed(err, m as unknown as PubSubMessage, 'handler');
    }
  }

  override async close(): Promise<void> {
    if (!this.shardClosed) {
      this.shardClosed = true;
      this.stopWatching();
      for (const link of this.links.values()) link.conn.destroy();
      this.links.clear();
    }
    await super.close();
  }
}

export type { MessageHandler };
