/**
 * Where the server's invalidations come from: the one piece of the near cache that depends on
 * the protocol. With RESP2 the server can only push on a subscribed connection, so a second
 * connection per node subscribes to `__redis__:invalidate` and the data connection's tracking
 * names it (`CLIENT TRACKING on REDIRECT <its id>`): RedirectSource. With RESP3 the
 * invalidations come as push frames on the data connection itself, so tracking needs no
 * REDIRECT: PushSource, which falls back to a RedirectSource when a server answers in RESP2.
 */
import { Buffer } from 'node:buffer';
import { Connection } from '../../connection/connection.ts';
import type { ResolvedOptions } from '../../connection/options.ts';
import { ConnectionError } from '../../errors.ts';
import type { Reply } from '../../resp/decode.ts';

export const INVALIDATION_CHANNEL = '__redis__:invalidate';

/** What a source tells the near cache. */
export interface InvalidationEvents {
  /** These keys changed (as the server wrote them), or null: every key did (FLUSHALL, FLUSHDB). */
  invalidate(keys: readonly Buffer[] | null): void;
  /** The source listens (again), under this redirect id (null: on the data connection itself). */
  up(id: number | null): void;
  /** The source stopped listening: whatever the server said meanwhile is lost. */
  down(reason: string): void;
}

export interface InvalidationSource {
  /** The id tracking must redirect to now; undefined while the source does not listen (null: no redirect). */
  readonly id: number | null | undefined;
  /** Starts the source if it is not listening; resolves with its id once it is, rejects when it cannot. */
  ready(): Promise<number | null>;
  close(): Promise<void>;
}

/** A copy of the client's options for a connection of another kind (the password stays hidden). */
function derivedOptions(base: ResolvedOptions, changes: Partial<ResolvedOptions>): ResolvedOptions {
  const o = { ...base, ...changes } as ResolvedOptions;
  Object.defineProperty(o, 'password', { value: base.password, enumerable: false });
  return Object.freeze(o);
}

function isWord(r: Reply | undefined, word: string): boolean {
  if (typeof r === 'string') return r === word;
  return r instanceof Uint8Array && r.length === word.length && r.toString() === word;
}

const ignore = (): void => {};

/**
 * RESP2: a subscriber connection per node. Its handshake (every reconnect's too) reads its
 * CLIENT ID and subscribes, so each time it is ready it listens under a new id. It is PINGed
 * every `pingInterval`: the server drops tracking's redirection silently when the subscriber
 * goes (redis #11767), so a loss must be noticed from this side; a late PING resets it.
 */
export class RedirectSource implements InvalidationSource {
  private readonly conn: Connection;
  private readonly events: InvalidationEvents;
  private readonly pingInterval: number;
  private current: number | undefined = undefined;
  /** The id read by the handshake under way, published when the connection is ready. */
  private handshakeId: number | undefined = undefined;
  private readonly pinger: NodeJS.Timeout;
  private pinging = false;
  private retry: NodeJS.Timeout | null = null;
  private failures = 0;
  private closed = false;

  constructor(options: ResolvedOptions, pingInterval: number, events: InvalidationEvents) {
    this.events = events;
    this.pingInterval = pingInterval;
    // Invalidated keys as bytes: a key need not be UTF-8.
    // RESP2 whatever the client speaks: a RESP3 redirect target would get pushes, not messages.
    this.conn = new Connection(derivedOptions(options, { returnBuffers: true, nearCache: null, protocol: 2 }));
    this.conn.onHandshake = async (send) => {
      const id = await send(['CLIENT', 'ID'], 'CLIENT ID');
      await send(['SUBSCRIBE', INVALIDATION_CHANNEL], 'SUBSCRIBE');
      this.handshakeId = Number(id);
    };
    this.conn.setPushHandler((r) => this.onPush(r));
    this.conn.on('ready', () => {
      this.current = this.handshakeId;
      this.failures = 0;
      this.events.up(this.current!);
    });
    this.conn.on('disconnect', (err: Error) => {
      this.current = undefined;
      this.events.down(`its invalidation connection was lost (${err.message})`);
      this.reconnectSoon();
    });
    this.conn.on('connect-failed', () => this.reconnectSoon());
    this.pinger = setInterval(() => this.ping(), pingInterval);
    this.pinger.unref();
  }

  get id(): number | undefined {
    return this.current;
  }

  /** The subscriber's connection (its address, its state), for tests and diagnostics. */
  get connection(): Connection {
    return this.conn;
  }

  ready(): Promise<number> {
    if (this.current !== undefined) return Promise.resolve(this.current);
    if (this.closed) return Promise.reject(new ConnectionError('the near cache is closed'));
    return this.conn.connect().then(() => {
      if (this.current === undefined) throw new ConnectionError(`the invalidation connection to ${this.conn.address} was lost as it connected`);
      return this.current;
    });
  }

  private onPush(r: Reply): boolean {
    // ["message", channel, keys]; anything else (SUBSCRIBE's and PING's answers) answers a command.
    if (!Array.isArray(r) || r.length !== 3 || !isWord(r[0], 'message')) return false;
    const keys = r[2];
    this.events.invalidate(keys === null ? null : Array.isArray(keys) ? (keys as Buffer[]) : [keys as Buffer]);
    return true;
  }

  private ping(): void {
    if (this.closed || this.pinging) return;
    if (!this.conn.isReady) {
      if (this.retry === null) this.conn.connect().catch(ignore);
      return;
    }
    this.pinging = true;
    // A PING not answered in time resets the connection (its timeout does), which is a loss.
    this.conn.send(['PING'], { timeout: Math.max(this.pingInterval, 250), name: 'PING (invalidations)' }).then(
      () => {
        this.pinging = false;
      },
      (err: unknown) => {
        this.pinging = false;
        if (!(err instanceof ConnectionError) && !this.closed) this.conn.reset(`its PING failed: ${(err as Error).message}`);
      },
    );
  }

  private reconnectSoon(): void {
    if (this.closed || this.retry !== null) return;
    const delay = this.failures === 0 ? 0 : Math.min(this.pingInterval, 25 * 2 ** Math.min(this.failures, 8));
    this.failures++;
    this.retry = setTimeout(() => {
      this.retry = null;
      if (!this.closed && !this.conn.isReady) this.conn.connect().catch(ignore);
    }, delay);
    this.retry.unref();
  }

  close(): Promise<void> {
    this.closed = true;
    clearInterval(this.pinger);
    if (this.retry !== null) clearTimeout(this.retry);
    this.retry = null;
    return this.conn.close(false);
  }
}

/**
 * RESP3: the data connection's own push frames (`["invalidate", [key, ...] | null]`). Its id
 * is null (tracking without REDIRECT) while the connection speaks RESP3; a server that
 * answered in RESP2 (it refused HELLO 3) is tracked through a RedirectSource instead.
 */
export class PushSource implements InvalidationSource {
  private readonly conn: Connection;
  private readonly options: ResolvedOptions;
  private readonly pingInterval: number;
  private readonly events: InvalidationEvents;
  private readonly stopListening: () => void;
  private fallback: RedirectSource | null = null;

  constructor(conn: Connection, options: ResolvedOptions, pingInterval: number, events: InvalidationEvents) {
    this.conn = conn;
    this.options = options;
    this.pingInterval = pingInterval;
    this.events = events;
    this.stopListening = conn.onPush((frame) => this.onPush(frame));
  }

  /** Null on a RESP3 socket (one being set up counts once its HELLO was answered). */
  get id(): number | null | undefined {
    return this.conn.protocol === 3 ? null : this.fallback?.id;
  }

  ready(): Promise<number | null> {
    if (this.conn.protocol === 3) return Promise.resolve(null);
    this.fallback ??= new RedirectSource(this.options, this.pingInterval, this.events);
    return this.fallback.ready();
  }

  private onPush(frame: Reply[]): void {
    if (!isWord(frame[0], 'invalidate')) return;
    const keys = frame[1];
    if (keys === null || keys === undefined) {
      this.events.invalidate(null);
      return;
    }
    const list = Array.isArray(keys) ? keys : [keys];
    const bytes: Buffer[] = new Array<Buffer>(list.length);
    for (let i = 0; i < list.length; i++) {
      const k = list[i];
      if (typeof k === 'string') {
        // Decoded as text (the client's return_buffers is off): a key that was not UTF-8 came
        // out with replacement characters and names no entry, so every entry goes instead.
        if (k.includes('\uFFFD')) {
          this.events.invalidate(null);
          return;
        }
        bytes[i] = Buffer.from(k);
      } else {
        bytes[i] = k as Buffer;
      }
    }
    this.events.invalidate(bytes);
  }

  close(): Promise<void> {
    this.stopListening();
    return this.fallback?.close() ?? Promise.resolve();
  }
}
