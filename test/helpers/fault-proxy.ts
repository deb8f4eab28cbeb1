/**
 * A TCP proxy that sits between a client and a real server and misbehaves on request: it can
 * delay or stall the server's replies, cut a connection after N more bytes of reply (mid-reply),
 * hand replies over one byte at a time, send garbage, accept connections and never answer
 * (a half-open peer), or let subscribed connections go quiet while the others still work (or
 * the other way round).
 * Requests always go through untouched, so the server does the real work.
 */
import { Buffer } from 'node:buffer';
import net from 'node:net';

export interface Fault {
  /** Milliseconds each chunk of reply is held before it goes on. */
  delayMs?: number;
  /** Hold every reply byte until the fault is cleared. */
  stall?: boolean;
  /**
   * Hold reply bytes only on connections that have sent SUBSCRIBE (a pub/sub link silently
   * lost, as an idle connection dropped by a firewall is), until the fault is cleared.
   */
  stallSubscribers?: boolean;
  /**
   * The other way round: hold reply bytes only on connections that have not sent SUBSCRIBE
   * (a sentinel slow to answer questions while its announcements still arrive).
   */
  stallNonSubscribers?: boolean;
  /** Forward this many more reply bytes, then destroy both sides. */
  cutAfterBytes?: number;
  /** Deliver replies one byte per write. */
  trickle?: boolean;
  /** New connections are accepted but never connected to the server. */
  blackhole?: boolean;
  /** New connections are closed at once (the client sees its connect fail). */
  refuse?: boolean;
  /**
   * Delay and stall only the connection accepted as this one (1 for the first): the others
   * pass untouched (a client's data connection held while its invalidation connection is not).
   */
  connection?: number;
}

interface Pair {
  /** Which connection it was, in the order accepted (from 1). */
  index: number;
  client: net.Socket;
  server: net.Socket | null;
  held: Buffer[];
  /** Bytes waiting to be trickled, oldest first. */
  trickling: Buffer[];
  /** Close once the trickled bytes are out. */
  cutWhenDrained: boolean;
  /** The client has sent SUBSCRIBE on this connection. */
  subscriber: boolean;
}

export class FaultProxy {
  private fault: Fault = {};
  private readonly pairs = new Set<Pair>();
  private cutBudget = Infinity;
  /** Connections accepted since the proxy started. */
  accepted = 0;

  private readonly listener: net.Server;
  readonly port: number;
  private readonly target: { host: string; port: number };
  private constructor(
    listener: net.Server,
    port: number,
    target: { host: string; port: number },
  ) {
    this.listener = listener;
    this.port = port;
    this.target = target;
  }

  static async start(target: { host: string; port: number }): Promise<FaultProxy> {
    const listener = net.createServer();
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(0, '127.0.0.1', () => resolve());
    });
    const proxy = new FaultProxy(listener, (listener.address() as net.AddressInfo).port, target);
    listener.on('connection', (socket) => proxy.accept(socket));
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Connections open now. */
  get open(): number {
    return this.pairs.size;
  }

  /** Connections open now that have sent SUBSCRIBE. */
  get subscribers(): number {
    let n = 0;
    for (const pair of this.pairs) if (pair.subscriber) n++;
    return n;
  }

  /** Replaces the current fault; `{}` makes the proxy transparent again (and releases held bytes). */
  set(fault: Fault): void {
    this.fault = fault;
    this.cutBudget = fault.cutAfterBytes ?? Infinity;
    for (const pair of this.pairs) {
      if (!this.holds(pair)) {
        const held = pair.held.splice(0);
        for (const chunk of held) this.deliver(pair, chunk);
      }
    }
  }

  /** Whether the fault applies to this connection. */
  private hits(pair: Pair): boolean {
    return this.fault.connection === undefined || this.fault.connection === pair.index;
  }

  /** Writes bytes to every connected client as if the server had sent them. */
  inject(bytes: Buffer | string): void {
    for (const pair of this.pairs) pair.client.write(bytes);
  }

  /** Resets every connection (the client sees ECONNRESET or a close). */
  dropAll(): void {
    for (const pair of this.pairs) this.end(pair);
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.listener.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    this.accepted++;
    if (this.fault.refuse) {
      client.resetAndDestroy();
      return;
    }
    const pair: Pair = { client, server: null, held: [], trickling: [], cutWhenDrained: false, subscriber: false, index: this.accepted };
    client.setNoDelay(true);
    this.pairs.add(pair);
    client.on('error', () => this.end(pair));
    client.on('close', () => this.end(pair));
    if (this.fault.blackhole) {
      client.resume(); // swallow requests: the peer looks alive and never answers
      return;
    }
    const server = net.connect(this.target);
    pair.server = server;
    server.on('error', () => this.end(pair));
    server.on('close', () => this.end(pair));
    client.on('data', (chunk: Buffer) => {
      if (!pair.subscriber && /SUBSCRIBE/i.test(chunk.toString('latin1'))) pair.subscriber = true;
      server.write(chunk);
    });
    server.on('data', (chunk: Buffer) => {
      if (this.holds(pair)) pair.held.push(chunk);
      else this.deliver(pair, chunk);
    });
  }

  private holds(pair: Pair): boolean {
    return (this.fault.stall === true && this.hits(pair)) || (this.fault.stallSubscribers === true && pair.subscriber)
      || (this.fault.stallNonSubscribers === true && !pair.subscriber);
  }

  private deliver(pair: Pair, chunk: Buffer): void {
    const delay = this.hits(pair) ? this.fault.delayMs ?? 0 : 0;
    if (delay > 0) {
      setTimeout(() => this.forward(pair, chunk), delay);
      return;
    }
    this.forward(pair, chunk);
  }

  private forward(pair: Pair, chunk: Buffer): void {
    if (pair.client.destroyed) return;
    let out = chunk;
    let cut = false;
    if (this.cutBudget !== Infinity) {
      if (out.length >= this.cutBudget) {
        out = out.subarray(0, this.cutBudget);
        cut = true;
      }
      this.cutBudget -= out.length;
    }
    if (this.fault.trickle || pair.trickling.length > 0) {
      const idle = pair.trickling.length === 0;
      if (out.length > 0) pair.trickling.push(out);
      if (cut) pair.cutWhenDrained = true;
      if (idle) this.trickle(pair);
      return;
    }
    if (out.length > 0) pair.client.write(out);
    // Let the partial reply reach the client before the connection goes.
    if (cut) pair.client.end(() => this.end(pair));
  }

  /** One byte per turn of the event loop, so the client reads them as separate chunks. */
  private trickle(pair: Pair): void {
    const head = pair.trickling[0];
    if (head === undefined || pair.client.destroyed) {
      if (pair.cutWhenDrained) pair.client.end(() => this.end(pair));
      return;
    }
    pair.client.write(head.subarray(0, 1));
    if (head.length > 1) pair.trickling[0] = head.subarray(1);
    else pair.trickling.shift();
    setTimeout(() => this.trickle(pair), 1);
  }

  private end(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    pair.client.destroy();
    pair.server?.destroy();
  }
}
