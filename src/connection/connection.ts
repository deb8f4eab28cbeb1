/**
 * One socket to one server: a pipelined FIFO of commands, timeouts, reconnection, and the
 * handshake on every (re)connect: AUTH / SELECT / CLIENT SETNAME in RESP2, or HELLO 3 (with
 * AUTH and SETNAME) and SELECT in RESP3.
 *
 * Commands issued in one tick are written together. Replies are matched to commands in order,
 * so anything that could desynchronise the two (a timeout, a protocol error) resets the socket.
 */
import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { inspect } from 'node:util';
import { AuthError, ConnectionError, ProtocolError, ReplyError, TimeoutError, unsent } from '../errors.ts';
import { Decoder, type Reply } from '../resp/decode.ts';
import { RequestWriter, validateArgs, type EncodedCommand } from '../resp/encode.ts';
import { Resp3Shaper } from '../resp/resp3-shape.ts';
import { addressOf, type ResolvedOptions } from './options.ts';
import { Queue } from './queue.ts';
import { attachSentinel } from './sentinel.ts';

// node:tls (and the crypto it pulls in) is half the cost of importing this library; only
// TLS connections load it, when the first one opens. A dynamic import works in ES modules and
// CommonJS alike, where a module-level createRequire(import.meta.url) breaks CommonJS bundles.
let tlsModule: typeof import('node:tls') | null = null;
function tls(): typeof import('node:tls') {
  if (tlsModule === null) throw new Error('node:tls is not loaded yet');
  return tlsModule;
}

/**
 * A batch that grows past this many bytes within one tick is written at once rather than at
 * the end of the tick, so the server starts on it while the rest is being encoded. Smaller
 * writes measured slower: each one is a system call, and the server wakes for each.
 */
const EARLY_WRITE_BYTES = 64 * 1024;
/** Size of the buffer each connection reads into (the most one read takes). */
const READ_BUFFER_BYTES = 64 * 1024;
/**
 * How long a graceful close() waits for the answers to commands already sent when
 * socket_timeout does not say: a server that hangs must not hold close() for ever.
 */
export const CLOSE_GRACE_MS = 2000;

export interface SendOptions {
  /** Decode this reply's bulk strings as Buffers. */
  buffers?: boolean;
  /**
   * Milliseconds this command may wait for its reply, overriding socket_timeout
   * (null: no limit; blocking commands use their own server-side timeout plus a margin).
   */
  timeout?: number | null;
  /** Name used in error messages (e.g. 'CLIENT KILL'). */
  name?: string;
}

/** Shapes a reply before the caller sees it. */
export type ReplyShape = (reply: Reply) => unknown;

/** One command of sendBatch. */
export interface BatchCommand {
  readonly argv: readonly unknown[];
  /** How many leading argv entries name the command (default 1), for error messages. */
  readonly words?: number;
  readonly buffers?: boolean;
  readonly reply?: ReplyShape | null;
}

/** Settles a command: its value (or error), and the slot it was sent with. */
export type Settle<T> = (value: T, slot: number) => void;

/**
 * A command waiting for its reply: built once, by the door it came in by (send, sendShaped,
 * sendBatch, the handshake), and queued as it is until its reply or failure settles it.
 */
class Pending {
  /** performance.now() after which it times out, or Infinity (monotonic: clock steps move no deadline); set when it is written. */
  deadline = Infinity;
  /** Written again after a timeout (retryOnTimeout): it may have run once already. */
  retried = false;
  readonly args: readonly unknown[];
  /** Name used in error messages. */
  readonly name: string;
  /** Decode the reply's bulk strings as Buffers. */
  readonly buffers: boolean;
  /** Milliseconds it may wait for its reply once written, or null for no limit. */
  readonly timeout: number | null;
  /** Applied to the reply before resolving (null: the reply as it is). */
  readonly shape: ReplyShape | null;
  private readonly onValue: Settle<unknown>;
  private readonly onError: Settle<Error>;
  /** Handed to onValue / onError: one pair of callbacks serves many commands (a batch, a fan-out). */
  private readonly slot: number;

  constructor(
    args: readonly unknown[], name: string, buffers: boolean, timeout: number | null, shape: ReplyShape | null,
    onValue: Settle<unknown>, onError: Settle<Error>, slot = -1,
  ) {
    this.args = args;
    this.name = name;
    this.buffers = buffers;
    this.timeout = timeout;
    this.shape = shape;
    this.onValue = onValue;
    this.onError = onError;
    this.slot = slot;
  }

  /** Set when this entry stands for a run of commands written together (sendBatch). */
  batch: BatchReplies | null = null;

  resolve(value: unknown): void {
    this.onValue(value, this.slot);
  }

  reject(err: Error): void {
    if (this.batch !== null) this.batch.fail(err);
    else this.onError(err, this.slot);
  }
}

/**
 * The replies of a run of commands written together, taken in order by one in-flight entry:
 * a pipeline of a thousand commands is one entry, one deadline and one callback, not a
 * thousand. Each command's reply (shaped, or its error) goes to its slot.
 */
class BatchReplies {
  private readonly commands: readonly BatchCommand[];
  /** The slots of the commands sent, in order, when some were not (a bad argument); else null. */
  private readonly slots: readonly number[] | null;
  private readonly count: number;
  private readonly put: Settle<unknown>;
  private readonly returnBuffers: boolean;
  /** How many of the commands sent have been answered. */
  private next = 0;

  constructor(commands: readonly BatchCommand[], slots: readonly number[] | null, put: Settle<unknown>, returnBuffers: boolean) {
    this.commands = commands;
    this.slots = slots;
    this.count = slots === null ? commands.length : slots.length;
    this.put = put;
    this.returnBuffers = returnBuffers;
  }

  /** Whether the next reply's strings are to be Buffers. */
  get buffersOfNext(): boolean {
    const c = this.commands[this.slots === null ? this.next : this.slots[this.next]!];
    return c?.buffers ?? this.returnBuffers;
  }

  /** Takes the next reply (given RESP2's structure by `shaper` on a RESP3 connection); true when it was the last. */
  answer(reply: Reply, shaper: Resp3Shaper | null): boolean {
    const slot = this.slots === null ? this.next : this.slots[this.next]!;
    this.next++;
    const c = this.commands[slot]!;
    if (shaper !== null) reply = shaper.shape(c.argv, reply);
    let value: unknown = reply;
    if (reply instanceof ReplyError) {
      reply.command = batchCommandName(c);
    } else if (c.reply != null) {
      try {
        value = c.reply(reply);
      } catch (err) {
        value = err;
      }
    }
    this.put(value, slot);
    return this.next === this.count;
  }

  /** Every command not answered yet fails with `err`. */
  fail(err: Error): void {
    while (this.next < this.count) {
      const slot = this.slots === null ? this.next : this.slots[this.next]!;
      this.next++;
      this.put(err, slot);
    }
  }
}

function batchCommandName(c: BatchCommand): string {
  const words = c.words ?? 1;
  return words === 1 ? String(c.argv[0]) : c.argv.slice(0, words).join(' ');
}

type State = 'disconnected' | 'connecting' | 'ready' | 'closed';

/** Called for every reply before FIFO matching; returns true when it consumed the reply. */
export type PushHandler = (reply: Reply) => boolean;

/** Sends one command on a socket being set up (see Connection.onHandshake). */
export type HandshakeSend = (args: readonly unknown[], name: string) => Promise<Reply>;
/**
 * Given each RESP3 push frame a connection receives that no subscriber took (an invalidation
 * of CLIENT TRACKING: ['invalidate', [key, ...]] or ['invalidate', null]), in RESP2's shapes.
 */
export type PushListener = (frame: Reply[]) => void;

/** The push frames that confirm a (un)subscription: a subscriber's command's reply, as in RESP2. */
const CONFIRMATIONS = new Set(['subscribe', 'psubscribe', 'ssubscribe', 'unsubscribe', 'punsubscribe', 'sunsubscribe']);

/** Servers already reported as refusing RESP3: the warning is given once per server. */
const refusedResp3 = new Set<string>();

function frameKind(frame: Reply[]): string {
  const first = frame[0];
  return typeof first === 'string' ? first : Buffer.isBuffer(first) ? first.toString('latin1') : '';
}

export class Connection extends EventEmitter {
  readonly options: ResolvedOptions;
  /** "host:port" for messages; with sentinels, where they last said the server is. */
  address: string;
  /**
   * Asked where to connect before each connect (set with sentinels); its answer stands for
   * host and port. A rejection fails the connect, and what waited for it, with its error.
   */
  locate: (() => Promise<{ host: string; port: number }>) | null = null;
  private target: { host: string; port: number } | null = null;
  private state: State = 'disconnected';
  private socket: net.Socket | null = null;
  private readonly decoder: Decoder;
  private readonly writer = new RequestWriter();
  /** Sent, waiting for replies, in order. */
  private readonly inflight = new Queue<Pending>();
  /** Waiting for the connection to become ready. */
  private readonly offline = new Queue<Pending>();
  private flushScheduled = false;
  private readBuffer: Buffer | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** When the timer fires (Infinity when it is not armed). */
  private timerAt = Infinity;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private connecting: Promise<void> | null = null;
  private failures = 0;
  private pushHandler: PushHandler | null = null;
  /**
   * The last step of every (re)connect's handshake, after AUTH, SELECT and CLIENT SETNAME and
   * before anything queued is written: a layer above sends what every new socket must carry
   * (the near cache's CLIENT TRACKING). A rejection fails the connect.
   */
  onHandshake: ((send: HandshakeSend) => Promise<void>) | null = null;
  /** Fails the connect attempt under way (set while a socket is being set up). */
  private abortAttempt: ((err: Error) => void) | null = null;
  /** performance.now() when the handshake of the socket being set up was sent, or -1. */
  private handshakeSince = -1;
  private readonly pushListeners: PushListener[] = [];
  /** Set while the socket speaks RESP3: gives its replies RESP2's structure. */
  private shaper: Resp3Shaper | null = null;
  /** Set by close(): called when the last command in flight is answered. */
  private drainWaiter: (() => void) | null = null;
  /** The close() under way, so a second call waits for the same end. */
  private closing: Promise<void> | null = null;
  private readonly flushBound = (): void => this.flush();
  private readonly onTimerBound = (): void => this.onTimer();

  constructor(options: ResolvedOptions) {
    super();
    this.options = options;
    this.address = addressOf(options);
    this.decoder = new Decoder((r) => this.onReply(r), {
      maxBulkLength: options.maxBulkLength,
      // A reply belongs to the oldest command in flight: that command says how to decode it.
      buffers: () => {
        const head = this.inflight.peek();
        if (head === undefined) return options.returnBuffers;
        return head.batch === null ? head.buffers : head.batch.buffersOfNext;
      },
      onPush: (frame) => this.onPushFrame(frame),
      pushBuffers: options.returnBuffers,
    });
    if (options.sentinel !== null) attachSentinel(this, options.sentinel, (o) => new Connection(o));
  }

  /**
   * Drops the socket now (the server it talks to is no longer the one wanted): what was in
   * flight rejects, what is sent next waits for a new connection.
   */
  reset(reason: string): void {
    const err = new ConnectionError(`connection to ${this.address} reset: ${reason}`);
    // While connecting, the attempt fails with it (and what waits for it): nothing was in flight.
    if (this.abortAttempt !== null) this.abortAttempt(err);
    else this.resetSocket(err);
  }

  /**
   * Milliseconds the handshake of the connection being made (AUTH, HELLO, SELECT) has waited
   * for its answers; 0 when none is waiting. A backend's watchdog resets a connection whose
   * server took the TCP connection but does not answer (a SIGSTOPped process).
   */
  get handshakeWaited(): number {
    return this.handshakeSince < 0 ? 0 : performance.now() - this.handshakeSince;
  }

  /** util.inspect shows a summary: the internals hold commands in flight, AUTH's password among them. */
  [inspect.custom](): string {
    return `Connection { ${this.address}, ${this.state}, ${this.pendingCount} pending }`;
  }

  get isReady(): boolean {
    return this.state === 'ready';
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  /** Commands sent or queued and not yet answered. */
  get pendingCount(): number {
    return this.inflight.length + this.offline.length;
  }

  /** Lets a layer above (pub/sub) take replies that answer no command. */
  setPushHandler(handler: PushHandler | null): void {
    this.pushHandler = handler;
  }

  /**
   * The protocol the socket speaks: 3 once HELLO 3 was answered, else 2 (before the first
   * connect, with `protocol: 2`, or when the server refused RESP3).
   */
  get protocol(): 2 | 3 {
    return this.shaper !== null ? 3 : 2;
  }

  /**
   * Calls `listener` with every RESP3 push frame that a subscriber layer did not take, such as
   * CLIENT TRACKING's invalidations, in RESP2's shapes. A push frame is never a command's reply;
   * with no listener it is dropped. What a listener throws becomes a process warning. Returns
   * the function that removes the listener.
   */
  onPush(listener: PushListener): () => void {
    if (typeof listener !== 'function') throw new TypeError('onPush: the listener must be a function');
    this.pushListeners.push(listener);
    return () => {
      const i = this.pushListeners.indexOf(listener);
      if (i >= 0) this.pushListeners.splice(i, 1);
    };
  }

  /** Sends one command; resolves with its reply, rejects with ReplyError and friends. */
  send(args: readonly unknown[], opts?: SendOptions): Promise<Reply> {
    return this.request(args, opts, null) as Promise<Reply>;
  }

  /**
   * Sends one command and resolves with `shape(reply)`: the shaping runs as the reply is
   * matched, so the caller's promise is the only one (no `.then` hop per command). A shape
   * that throws rejects the promise.
   */
  sendShaped<T>(args: readonly unknown[], opts: SendOptions | undefined, shape: (reply: Reply) => T): Promise<T> {
    return this.request(args, opts, shape) as Promise<T>;
  }

  /**
   * Sends one command and calls back instead of returning a promise: for a caller that settles
   * one promise of its own for several commands (a write to every node of a RedisCopy).
   * Returns where the command's bytes are when it was written into the batch at once (valid
   * until this connection is sent another command), so the next node can be handed the same
   * bytes as `encoded` instead of encoding it again.
   */
  sendWithCallbacks(
    args: readonly unknown[], opts: SendOptions | undefined, shape: ReplyShape | null,
    resolve: Settle<unknown>, reject: Settle<Error>,
    encoded: EncodedCommand | null = null,
    /** Passed back to resolve / reject, so one pair of callbacks can serve several commands. */
    slot = -1,
  ): EncodedCommand | null {
    const o = this.options;
    const timeout = opts?.timeout !== undefined ? opts.timeout : o.socketTimeout;
    const p = new Pending(args, opts?.name ?? String(args[0]), opts?.buffers ?? o.returnBuffers, timeout, shape, resolve, reject, slot);
    return this.enqueue(p, encoded) ? this.writer.lastCommand() : null;
  }

  private request(args: readonly unknown[], opts: SendOptions | undefined, shape: ReplyShape | null): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => this.sendWithCallbacks(args, opts, shape, resolve, reject));
  }


  /**
   * Sends several commands in order and resolves once, when all are answered, with one slot
   * per command: its (shaped) reply, or the Error it failed with. No promise per command.
   */
  sendBatch(commands: readonly BatchCommand[]): Promise<unknown[]> {
    return new Promise<unknown[]>((resolve) => {
      const results = new Array<unknown>(commands.length);
      let left = commands.length;
      if (left === 0) {
        resolve(results);
        return;
      }
      const o = this.options;
      // One callback for every command: the slot says which one it answers.
      const put = (value: unknown, i: number): void => {
        results[i] = value;
        if (--left === 0) resolve(results);
      };
      if (this.state === 'ready') {
        this.writeBatch(commands, put);
        return;
      }
      for (let i = 0; i < commands.length; i++) {
        const c = commands[i]!;
        this.enqueue(new Pending(c.argv, batchCommandName(c), c.buffers ?? o.returnBuffers, o.socketTimeout, c.reply ?? null, put, put, i));
      }
    });
  }

  /**
   * Writes a run of commands at once, answered through one in-flight entry. A command with a
   * bad argument gets its TypeError in its slot and is not sent; the others are.
   */
  private writeBatch(commands: readonly BatchCommand[], put: Settle<unknown>): void {
    let slots: number[] | null = null;
    for (let i = 0; i < commands.length; i++) {
      const c = commands[i]!;
      try {
        // The writer checks the arguments (and appends nothing on a bad one); a name of one
        // word is the first argument, which it names by itself.
        this.writer.write(c.argv, c.words === undefined || c.words === 1 ? undefined : batchCommandName(c));
      } catch (err) {
        slots ??= Array.from({ length: i }, (_, k) => k);
        put(err, i);
        continue;
      }
      slots?.push(i);
      if (this.writer.size >= EARLY_WRITE_BYTES) this.flush();
    }
    if (slots !== null && slots.length === 0) return;
    const o = this.options;
    const entry = new Pending([], `a pipeline of ${commands.length} commands`, o.returnBuffers, o.socketTimeout, null, put, put);
    entry.batch = new BatchReplies(commands, slots, put, o.returnBuffers);
    // Never written again after a timeout: which of its commands ran is unknown.
    entry.retried = true;
    // Queued after the writing: no reply can arrive before this turn ends.
    this.enqueueInflight(entry);
    this.scheduleFlush();
  }

  /** Writes (or queues, while not ready) one command; true when it went into the batch now. */
  private enqueue(p: Pending, encoded: EncodedCommand | null = null): boolean {
    if (this.state === 'closed') {
      p.reject(new ConnectionError(`connection to ${this.address} is closed`));
      return false;
    }
    if (this.state === 'ready') {
      try {
        if (encoded !== null) this.writer.writeEncoded(encoded);
        else this.writer.write(p.args, p.name);
      } catch (err) {
        p.reject(err as Error);
        return false;
      }
      this.enqueueInflight(p);
      if (this.writer.size >= EARLY_WRITE_BYTES) this.flush();
      else this.scheduleFlush();
      return true;
    } else {
      // Validate now, so bad input fails before any waiting.
      try {
        validateArgs(p.args, p.name);
      } catch (err) {
        p.reject(err as Error);
        return false;
      }
      if (this.offline.length >= this.options.offlineQueueLimit) {
        p.reject(unsent(new ConnectionError(`connection to ${this.address} is not ready and its offline queue is full (${this.options.offlineQueueLimit} commands)`)));
        return false;
      }
      this.offline.push(p);
      if (this.state === 'disconnected' && this.reconnectTimer === null) void this.connect().catch(() => {});
      return false;
    }
  }

  /** Opens the connection (also done on demand by send). Resolves when it is ready. */
  connect(): Promise<void> {
    if (this.state === 'ready') return Promise.resolve();
    if (this.state === 'closed') return Promise.reject(new ConnectionError(`connection to ${this.address} is closed`));
    if (this.connecting) return this.connecting;
    if (this.reconnectTimer !== null) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
    }
    this.state = 'connecting';
    const attempt = this.open();
    this.connecting = attempt;
    attempt.then(
      () => {
        this.connecting = null;
      },
      (err: Error) => {
        this.connecting = null;
        this.onConnectFailed(err);
      },
    );
    return attempt;
  }

  private open(located = false): Promise<void> {
    if (this.locate !== null && !located) {
      return this.locate().then((target) => {
        if (this.state === 'closed') throw new ConnectionError(`connection to ${this.address} is closed`);
        this.target = target;
        this.address = target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
        return this.open(true);
      });
    }
    if (this.options.tls && tlsModule === null) {
      return import('node:tls').then((loaded) => {
        tlsModule = loaded;
        // close() came while node:tls loaded: open nothing.
        if (this.state === 'closed') throw new ConnectionError(`connection to ${this.address} is closed`);
        return this.open(located);
      });
    }
    return new Promise<void>((resolve, reject) => {
      const o = this.options;
      const host = this.target?.host ?? o.host;
      const port = this.target?.port ?? o.port;
      let settled = false;
      // Node, given onread, emits no 'data' events; workerd (Cloudflare Workers' nodejs_compat)
      // ignores onread and emits 'data' events; TLS sockets take no onread. Whichever way bytes
      // arrive first is the one this socket is read from, so no runtime feeds a chunk twice.
      let readVia: 'onread' | 'data' | null = o.tls ? 'data' : null;
      const readFrom = (via: 'onread' | 'data'): net.Socket | null => {
        readVia ??= via;
        return readVia === via ? socket : null;
      };
      const socket: net.Socket = o.tls
        ? tls().connect({ ...o.tls, ...(o.path !== null ? { path: o.path } : { host, port }) })
        : o.path !== null
          ? net.connect({ path: o.path, onread: this.reader(() => readFrom('onread')) })
          : net.connect({ host, port, onread: this.reader(() => readFrom('onread')) });
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 30_000);
      this.socket = socket;
      this.decoder.reset();
      this.shaper = null;

      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        this.abortAttempt = null;
        this.handshakeSince = -1;
        clearTimeout(connectTimer);
        // Detach first, so the close event of this socket is not taken for a lost connection.
        if (this.socket === socket) this.socket = null;
        socket.destroy();
        reject(err);
      };
      const started = performance.now();
      let connectTimer = setTimeout(() => {
        fail(new TimeoutError(`connecting to ${this.address} timed out after ${o.connectTimeout} ms`));
      }, o.connectTimeout);
      connectTimer.unref();
      this.abortAttempt = fail;

      socket.once(o.tls ? 'secureConnect' : 'connect', () => {
        if (settled) return;
        // The handshake's commands wait for their replies no longer than any command
        // (socket_timeout), within what is left of the connect timeout.
        const left = o.connectTimeout - (performance.now() - started);
        if (o.socketTimeout !== null && o.socketTimeout < left) {
          clearTimeout(connectTimer);
          connectTimer = setTimeout(() => {
            fail(new TimeoutError(`connecting to ${this.address} timed out: the handshake got no answer within ${o.socketTimeout} ms`));
          }, o.socketTimeout);
          connectTimer.unref();
        }
        this.handshakeSince = performance.now();
        this.handshake().then(
          () => {
            if (settled) return;
            // close() came while the handshake ran: the connection must not come back to life.
            if (this.state === 'closed') {
              fail(new ConnectionError(`connection to ${this.address} is closed`));
              return;
            }
            settled = true;
            this.abortAttempt = null;
            this.handshakeSince = -1;
            clearTimeout(connectTimer);
            this.state = 'ready';
            this.failures = 0;
            this.emit('ready');
            this.flushOffline();
            resolve();
          },
          (err: Error) => fail(err),
        );
      });
      socket.on('data', (chunk: Buffer) => this.onData(readFrom('data'), chunk));
      socket.on('error', (err: Error) => {
        if (!settled) fail(new ConnectionError(`cannot connect to ${this.address}: ${err.message}`));
        else this.onSocketGone(socket, new ConnectionError(`connection to ${this.address} failed: ${err.message}`));
      });
      socket.on('close', () => {
        if (!settled) fail(new ConnectionError(`connection to ${this.address} closed while connecting`));
        else this.onSocketGone(socket, new ConnectionError(`connection to ${this.address} closed`));
      });
    });
  }

  /**
   * The handshake of the protocol asked for (a server that refuses RESP3 gets RESP2's), then
   * the layer above's step (onHandshake), which may depend on the protocol the server took.
   */
  private handshake(): Promise<void> {
    const greeted = this.options.protocol === 3 ? this.handshake3() : this.handshake2();
    const hook = this.onHandshake;
    if (hook === null) return greeted;
    const socket = this.socket;
    // The hook may wait before it sends: whatever it sends must go on this socket or nowhere,
    // never into a later socket's queue of replies.
    const send: HandshakeSend = (args, name) => {
      if (this.socket !== socket || socket === null) return Promise.reject(new ConnectionError(`connection to ${this.address} was lost while connecting`));
      const reply = this.sendNow(args as unknown[], name);
      this.flush();
      return reply;
    };
    return greeted.then(() => hook(send));
  }

  /**
   * HELLO 3 (with AUTH for a user name, and SETNAME) and SELECT, written together: one round
   * trip. A password without a user name goes in AUTH's own form, written just before HELLO:
   * HELLO's AUTH needs a user, and the default user of a server without a password takes any,
   * where AUTH refuses it (as in RESP2). When the server does not know HELLO (before Redis 6,
   * or renamed away) or refuses protocol 3 (NOPROTO), RESP2's handshake follows, and a warning
   * says so, once per server.
   */
  private async handshake3(): Promise<void> {
    const o = this.options;
    const none = Promise.resolve(null);
    const auth = o.password !== null && o.username === null ? this.sendNow(['AUTH', o.password], 'AUTH') : none;
    const hello: unknown[] = ['HELLO', 3];
    if (o.password !== null && o.username !== null) hello.push('AUTH', o.username, o.password);
    if (o.name !== null) hello.push('SETNAME', o.name);
    const greeted = this.sendNow(hello, 'HELLO');
    const selected = o.db !== 0 ? this.sendNow(['SELECT', o.db], 'SELECT') : none;
    this.flush();
    // They are answered together: every outcome is known before any is acted on.
    const [authed, greeting, selection] = await Promise.allSettled([auth, greeted, selected]);
    if (authed.status === 'rejected') throw this.authError(authed.reason as Error);
    if (greeting.status === 'rejected') {
      const err = greeting.reason as Error;
      if (err instanceof ReplyError && (err.code === 'NOPROTO' || /^ERR unknown command/i.test(err.message))) {
        this.warnRefused(err);
        return this.handshake2();
      }
      // Without a password, NOAUTH is the server's answer to the commands, as in RESP2.
      if (!(err instanceof ReplyError) || o.password === null) throw err;
      throw this.authError(err);
    }
    this.shaper = new Resp3Shaper();
    if (selection.status === 'rejected') throw selection.reason;
  }

  /** The one warning that a server speaks RESP2 although RESP3 was asked for. */
  private warnRefused(err: ReplyError): void {
    if (refusedResp3.has(this.address)) return;
    refusedResp3.add(this.address);
    const why = err.code === 'NOPROTO' ? 'it does not support protocol 3' : 'it does not know HELLO';
    process.emitWarning(`redisdb: ${this.address} is spoken to in RESP2, though protocol 3 was asked for: ${why}`, {
      type: 'RedisProtocolWarning', code: 'REDISDB_RESP3_REFUSED',
    });
  }

  /** AUTH's (or HELLO's) refusal, named for the user but never showing the password. */
  private authError(err: Error): AuthError {
    const o = this.options;
    // The server's message should not contain the password (though one echoing HELLO's
    // arguments would); ours must not either.
    const why = err instanceof ReplyError ? (o.password !== null && o.password !== '' ? err.message.split(o.password).join('***') : err.message) : 'no reply';
    return new AuthError(`authentication to ${this.address} failed${o.username !== null ? ` for user '${o.username}'` : ''}: ${why}`);
  }

  /** AUTH, SELECT and CLIENT SETNAME, written together before any queued command. */
  private handshake2(): Promise<void> {
    const o = this.options;
    const steps: Array<Promise<Reply>> = [];
    if (o.password !== null) {
      const auth = o.username !== null ? ['AUTH', o.username, o.password] : ['AUTH', o.password];
      steps.push(
        this.sendNow(auth, 'AUTH').catch((err: Error) => {
          throw this.authError(err);
        }),
      );
    }
    if (o.db !== 0) steps.push(this.sendNow(['SELECT', o.db], 'SELECT'));
    if (o.name !== null) steps.push(this.sendNow(['CLIENT', 'SETNAME', o.name], 'CLIENT SETNAME'));
    if (steps.length === 0) return Promise.resolve();
    this.flush();
    return Promise.all(steps).then(() => undefined);
  }

  /** Writes a command on the socket being set up, bypassing the ready check. */
  private sendNow(args: unknown[], name: string): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      this.writer.write(args, name);
      this.enqueueInflight(new Pending(args, name, false, null, null, resolve as (r: unknown) => void, reject));
    });
  }

  private onConnectFailed(err: Error): void {
    if (this.state === 'closed') return;
    this.state = 'disconnected';
    this.socket = null;
    this.failures++;
    this.failInflight(err);
    // Commands that waited for this attempt fail now rather than wait an unknown time; none
    // of them was written anywhere.
    // A copy of the error: the one the commands in flight got must not say they were never sent.
    const never = err instanceof ConnectionError ? unsent(Object.assign(Object.create(Object.getPrototypeOf(err) as object) as ConnectionError, err, { message: err.message, stack: err.stack })) : err;
    for (const p of this.offline.drain()) {
      // A command waiting for its retry was written once: it may have run.
      p.reject(p.retried ? new TimeoutError(`${p.name} to ${this.address} timed out, and its retry found no connection: ${err.message}`) : never);
    }
    this.emit('connect-failed', err);
  }

  private flushOffline(): void {
    for (let p = this.offline.shift(); p !== undefined; p = this.offline.shift()) {
      this.writer.write(p.args, p.name);
      this.enqueueInflight(p);
    }
    this.flush();
  }

  private enqueueInflight(p: Pending): void {
    if (p.timeout !== null) {
      p.deadline = performance.now() + p.timeout;
      // Deadlines usually come in order; a shorter timeout than the armed one re-aims the timer.
      if (this.timer === null) this.armTimer(p.deadline);
      else if (p.deadline < this.timerAt) {
        clearTimeout(this.timer);
        this.armTimer(p.deadline);
      }
    }
    this.inflight.push(p);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    process.nextTick(this.flushBound);
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.writer.empty || this.socket === null) return;
    const out = this.writer.take();
    const socket = this.socket;
    if (!Array.isArray(out)) {
      socket.write(out);
    } else {
      socket.cork();
      for (const chunk of out) socket.write(chunk);
      socket.uncork();
    }
    // Usually the kernel took every byte at once: nothing refers to the writer's slab now.
    if (socket.writableLength === 0) this.writer.recycle();
  }

  /**
   * Reads into one buffer per connection, reused for every read, instead of a fresh buffer
   * per read that only the garbage collector frees. The decoder copies whatever it keeps.
   */
  private reader(socketOf: () => net.Socket | null): net.OnReadOpts {
    this.readBuffer ??= Buffer.allocUnsafe(READ_BUFFER_BYTES);
    const buffer = this.readBuffer;
    return {
      buffer,
      // The bytes are in the buffer the callback is given: Node gives this one back, workerd
      // reads through a stream that detaches it and gives the one it read into.
      callback: (bytes: number, into: Uint8Array = buffer): boolean => {
        this.onData(socketOf(), Buffer.from(into.buffer, into.byteOffset, bytes));
        return true;
      },
    };
  }

  private onData(socket: net.Socket | null, chunk: Buffer): void {
    if (socket === null || socket !== this.socket) return;
    try {
      this.decoder.feed(chunk);
    } catch (err) {
      const e = err instanceof ProtocolError ? err : new ProtocolError(String(err));
      this.resetSocket(e);
    }
  }

  private onReply(reply: Reply): void {
    if (this.pushHandler !== null && this.pushHandler(reply)) return;
    this.settleReply(reply);
  }

  /**
   * A RESP3 push frame: a subscriber layer's message or confirmation (a confirmation it leaves
   * is its command's reply, as in RESP2), else given to the push listeners. Never matched to
   * a command otherwise.
   */
  private onPushFrame(frame: Reply[]): void {
    const handler = this.pushHandler;
    if (handler !== null) {
      if (handler(frame)) return;
      if (CONFIRMATIONS.has(frameKind(frame))) {
        this.settleReply(frame);
        return;
      }
    }
    for (const listener of this.pushListeners.slice()) {
      try {
        listener(frame);
      } catch (thrown) {
        // The listener's failure is not the protocol's: the connection and the frames after it go on.
        const why = thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown);
        process.emitWarning(`redisdb: a push listener of ${this.address} threw: ${why}`, { type: 'RedisPushListenerWarning' });
      }
    }
  }

  /** Matches a reply to the oldest command in flight. */
  private settleReply(reply: Reply): void {
    const head = this.inflight.peek();
    if (head !== undefined && head.batch !== null) {
      if (head.batch.answer(reply, this.shaper)) {
        this.inflight.shift();
        if (this.inflight.length === 0 && this.drainWaiter !== null) this.drainWaiter();
      }
      return;
    }
    const p = this.inflight.shift();
    if (p === undefined) {
      throw new ProtocolError(`unexpected reply from ${this.address} with no command waiting`);
    }
    if (this.shaper !== null) reply = this.shaper.shape(p.args, reply);
    if (reply instanceof ReplyError) {
      reply.command = p.name;
      p.reject(reply);
    } else if (p.shape === null) {
      p.resolve(reply);
    } else {
      let shaped: unknown;
      let failed = false;
      try {
        shaped = p.shape(reply);
      } catch (err) {
        failed = true;
        p.reject(err as Error);
      }
      if (!failed) p.resolve(shaped);
    }
    if (this.inflight.length === 0 && this.drainWaiter !== null) this.drainWaiter();
  }

  private armTimer(at: number): void {
    this.timerAt = at;
    this.timer = setTimeout(this.onTimerBound, Math.max(0, at - performance.now()));
    this.timer.unref();
  }

  /**
   * One timer per connection, aimed at the earliest deadline it knows of. Replies come in
   * order, so any command past its deadline means the connection is stuck: it is reset.
   */
  private onTimer(): void {
    this.timer = null;
    this.timerAt = Infinity;
    const head = this.inflight.peek();
    if (head === undefined) return;
    const now = performance.now();
    let expired: Pending | null = head.deadline <= now ? head : null;
    let earliest = Infinity;
    if (expired === null) {
      // Deadlines need not be in order (explicit timeouts, commands with none): look at all.
      this.inflight.forEach((p) => {
        if (p.deadline <= now) expired ??= p;
        else if (p.deadline < earliest) earliest = p.deadline;
      });
    }
    if (expired !== null) {
      const err = new TimeoutError(`${expired.name} to ${this.address} timed out after ${expired.timeout} ms`);
      this.resetSocket(err, expired);
      return;
    }
    if (earliest !== Infinity) this.armTimer(earliest);
  }

  /**
   * Drops the socket after a timeout or protocol error: replies still in transit could
   * otherwise be matched to the wrong commands.
   */
  private resetSocket(err: Error, timedOut?: Pending): void {
    const socket = this.socket;
    if (socket === null) return;
    this.socket = null;
    socket.destroy();
    this.afterLoss(err, timedOut);
  }

  private onSocketGone(socket: net.Socket, err: Error): void {
    if (socket !== this.socket) return;
    this.socket = null;
    this.afterLoss(err);
  }

  private afterLoss(err: Error, timedOut?: Pending): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.decoder.reset();
    this.writer.take(); // whatever was not written belongs to a dead socket
    const retry: Pending[] = [];
    const lost = this.inflight.drain();
    for (const p of lost) {
      if (err instanceof TimeoutError && this.options.retryOnTimeout && !p.retried && p.timeout !== null && this.state !== 'closed') {
        p.retried = true;
        retry.push(p);
      } else {
        p.reject(p === timedOut || !(err instanceof TimeoutError) ? err : new TimeoutError(`${p.name} to ${this.address} was cut off by another command's timeout on the same connection`));
      }
    }
    if (this.state === 'closed') return;
    this.state = 'disconnected';
    this.emit('disconnect', err);
    if (retry.length > 0) {
      const pendingOffline = this.offline.drain();
      for (const p of retry) this.offline.push(p);
      for (const p of pendingOffline) this.offline.push(p);
    }
    if (this.offline.length > 0) this.scheduleReconnect();
  }

  private failInflight(err: Error): void {
    for (const p of this.inflight.drain()) p.reject(err);
    this.writer.take();
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer !== null || this.connecting !== null || this.state === 'closed') return;
    const base = Math.min(this.options.maxReconnectDelay, 25 * 2 ** Math.min(this.failures, 10));
    const delay = this.failures === 0 ? 0 : base / 2 + Math.random() * (base / 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.state === 'disconnected') void this.connect().catch(() => {});
    }, delay);
    this.reconnectTimer.unref();
  }

  /**
   * Ends the connection; later sends reject. Graceful (the default): the commands already sent
   * are answered first, for at most socket_timeout (CLOSE_GRACE_MS without one), and those
   * still unanswered then reject with ConnectionError. Not graceful: everything pending
   * rejects at once, which is what a blocking command with no timeout needs. A later call,
   * graceful or not, settles with the first; a call that is not graceful cuts its wait short.
   */
  close(graceful = true): Promise<void> {
    if (this.closing !== null) {
      if (!graceful) this.drainWaiter?.();
      return this.closing;
    }
    if (this.state === 'closed') return Promise.resolve(); // destroyed
    this.closing = this.shutDown(graceful);
    return this.closing;
  }

  private async shutDown(graceful: boolean): Promise<void> {
    const socket = this.socket;
    this.state = 'closed';
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const closed = new ConnectionError(`connection to ${this.address} is closed`);
    for (const p of this.offline.drain()) p.reject(unsent(new ConnectionError(closed.message)));
    this.emit('close');
    if (socket !== null) {
      this.flush();
      if (graceful && this.inflight.length > 0) {
        let grace: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          this.drainWaiter = resolve;
          socket.once('close', () => resolve());
          grace = setTimeout(resolve, this.options.socketTimeout ?? CLOSE_GRACE_MS);
          grace.unref();
        });
        clearTimeout(grace);
        this.drainWaiter = null;
      }
      this.socket = null;
      const answered = this.inflight.length === 0;
      this.failInflight(closed);
      await new Promise<void>((resolve) => {
        if (socket.destroyed) return resolve();
        socket.once('close', () => resolve());
        // A polite goodbye only to a server that answers; a hung one would not read it.
        if (answered) socket.end();
        else socket.destroy();
        setTimeout(() => socket.destroy(), 1000).unref();
      });
    }
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /**
   * Ends the socket but not the connection: once the commands already sent are answered the
   * socket closes, and the next command connects again (a cache that Django closes after
   * every request stays usable).
   */
  async release(): Promise<void> {
    const socket = this.socket;
    if (this.state !== 'ready' || socket === null) return;
    while (this.inflight.length > 0) {
      await new Promise<void>((resolve) => {
        this.drainWaiter = resolve;
        socket.once('close', () => resolve());
      });
      this.drainWaiter = null;
      if (this.socket !== socket || this.state !== 'ready') return; // lost or closed meanwhile
    }
    // Nothing in flight, and nothing between this check and the state change: a command sent
    // from now on waits for a new socket.
    this.socket = null;
    this.state = 'disconnected';
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
    // Not a 'disconnect' (nothing failed), but the server forgets this connection's state.
    this.emit('released');
    await new Promise<void>((resolve) => {
      if (socket.destroyed) return resolve();
      socket.once('close', () => resolve());
      socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
    });
  }

  /** Drops the socket at once; everything pending rejects. */
  destroy(): void {
    const closed = new ConnectionError(`connection to ${this.address} was destroyed`);
    const wasClosed = this.state === 'closed';
    this.state = 'closed';
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    if (this.timer !== null) clearTimeout(this.timer);
    this.reconnectTimer = null;
    this.timer = null;
    const socket = this.socket;
    this.socket = null;
    socket?.destroy();
    this.failInflight(closed);
    for (const p of this.offline.drain()) p.reject(unsent(new ConnectionError(closed.message)));
    this.drainWaiter?.();
    if (!wasClosed) this.emit('close');
  }
}
