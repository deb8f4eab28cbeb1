/**
 * Pipelines: commands queued through the same `prepare` as direct calls (so the reference's
 * conventions and reply shapes apply), sent in one batch, answered in order. With
 * `transaction` the batch is wrapped in MULTI / EXEC and runs atomically.
 */
import { Buffer } from 'node:buffer';
import type { Connection } from '../connection/connection.ts';
import { ReplyError, WatchError } from '../errors.ts';
import type { Reply } from '../resp/decode.ts';
import { CommandQueue, pipelineProxy, type LoadableScript, type PipelineOf } from './command-queue.ts';
import { commandName, type CommandSpec } from './conventions.ts';
import type { NodeClient } from './node-client.ts';

export { pipelineProxy, type ExecOptions, type LoadableScript, type PipelineOf } from './command-queue.ts';

export interface PipelineOptions {
  /** Wrap the commands in MULTI / EXEC (default true, as in the reference). */
  transaction?: boolean;
  /** Accepted for compatibility with the reference; one node needs no hint. */
  shard_hint?: unknown;
  shardHint?: unknown;
}

/**
 * Checks a prepared command before it is sent (a backend refusing keys of another node);
 * throws to refuse it.
 */
export type SpecCheck = (spec: CommandSpec) => void | Promise<void>;

const ignore = (): void => {};

export class PipelineBase extends CommandQueue {
  readonly client: NodeClient;
  /** A connection of its own (a watched transaction), else the client's shared one. */
  protected readonly connection: Connection | null;
  /** Run on every command at exec(), before anything is sent. */
  protected readonly checkSpec: SpecCheck | null;
  /**
   * Send ASKING right before MULTI (a cluster node importing the block's slot, named by an ASK).
   * The server keeps the flag while the client is in MULTI, so it covers the block up to EXEC.
   */
  asking = false;
  constructor(
    client: NodeClient,
    transaction: boolean,
    connection: Connection | null = null,
    checkSpec: SpecCheck | null = null,
  ) {
    super(client.builder, transaction);
    this.client = client;
    this.connection = connection;
    this.checkSpec = checkSpec;
  }

  protected async send(specs: CommandSpec[], scripts: readonly LoadableScript[]): Promise<unknown[]> {
    if (this.checkSpec !== null) for (const spec of specs) await this.checkSpec(spec);
    if (scripts.length > 0) await this.loadScripts(scripts);
    // Its reads go to the server; its writes drop what the near cache keeps for their keys.
    this.client.nearCache?.noteWrites(specs);
    return this.transaction ? this.execTransaction(specs) : this.execBatch(specs);
  }

  /** Loads the scripts the server does not know yet, so EVALSHA cannot miss inside the batch. */
  private async loadScripts(scripts: readonly LoadableScript[]): Promise<void> {
    const conn = this.connection ?? this.client.connection;
    const exists = (await conn.send(['SCRIPT', 'EXISTS', ...scripts.map((s) => s.sha)], { name: 'SCRIPT EXISTS' })) as Reply[];
    await Promise.all(scripts.map((s, i) => (exists[i] === 1 ? null : conn.send(['SCRIPT', 'LOAD', s.script], { name: 'SCRIPT LOAD' }))));
  }

  /** Without MULTI: every command written in the same tick, each answer in its own slot. */
  private async execBatch(specs: CommandSpec[]): Promise<unknown[]> {
    const conn = this.connection;
    // On the shared connection: one batch, one promise for all the replies.
    if (conn === null && !specs.some((s) => s.blockFor !== undefined)) return this.client.connection.sendBatch(specs);
    const sent = specs.map((spec) => (conn === null ? this.client.dispatch(spec) : sendSpec(conn, spec)));
    const settled = await Promise.allSettled(sent);
    return settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error)));
  }

  /**
   * MULTI, the commands and EXEC, written together (send() only buffers, so nothing from
   * another caller can come between them). Replies are shaped once EXEC answers.
   */
  private async execTransaction(specs: CommandSpec[]): Promise<unknown[]> {
    const conn = this.connection ?? this.client.connection;
    const buffers = specs.some((s) => s.buffers === true);
    // In the same tick as MULTI: nothing of another caller's can come between them.
    if (this.asking) conn.send(['ASKING'], { name: 'ASKING' }).catch(ignore);
    const multi = conn.send(['MULTI']);
    const queued = specs.map((spec) => conn.send(spec.argv, { name: commandName(spec) }));
    const exec = conn.send(['EXEC'], { buffers });
    const [multiResult, execResult, ...queuedResults] = await Promise.allSettled([multi, exec, ...queued]);
    if (multiResult!.status === 'rejected') throw multiResult!.reason;
    if (execResult!.status === 'rejected') {
      const err = execResult!.reason as Error;
      // EXECABORT: a command was refused while queuing; its own error says which and why.
      if (err instanceof ReplyError && err.code === 'EXECABORT') {
        const index = queuedResults.findIndex((r) => r.status === 'rejected');
        if (index >= 0) {
          const cause = (queuedResults[index] as PromiseRejectedResult).reason as Error;
          cause.message = `command #${index + 1} (${commandName(specs[index]!)}) of the transaction was refused, nothing ran: ${cause.message}`;
          throw cause;
        }
      }
      throw err;
    }
    const replies = execResult!.value;
    if (replies === null) throw new WatchError('transaction aborted: a watched key changed before EXEC');
    if (!Array.isArray(replies)) throw new ReplyError(`ERR unexpected EXEC reply: ${String(replies)}`);
    return specs.map((spec, i) => shapeReply(spec, replies[i] ?? null, buffers && spec.buffers !== true && !this.client.options.returnBuffers));
  }
}

/** The shaped reply of one slot: errors stay errors, transforms that throw become errors. */
function shapeReply(spec: CommandSpec, reply: Reply, asText: boolean): unknown {
  if (reply instanceof ReplyError) {
    reply.command = commandName(spec);
    return reply;
  }
  const r = asText ? buffersToText(reply) : reply;
  if (spec.reply === null) return r;
  try {
    return spec.reply(r);
  } catch (err) {
    return err as Error;
  }
}

/** EXEC read with Buffers for one command's sake: the others get their strings back. */
function buffersToText(r: Reply): Reply {
  if (Buffer.isBuffer(r)) return r.toString();
  if (Array.isArray(r)) return r.map(buffersToText);
  return r;
}


/**
 * Sends a prepared command on a given connection (a dedicated one) and shapes its reply.
 * Blocking commands may wait their server-side timeout, plus socket_timeout for the answer.
 */
export async function sendSpec(conn: Connection, spec: CommandSpec): Promise<unknown> {
  let timeout: number | null | undefined;
  if (spec.blockFor !== undefined) {
    const st = conn.options.socketTimeout;
    timeout = spec.blockFor === null || st === null ? null : spec.blockFor + st;
  }
  const reply = await conn.send(spec.argv, { buffers: spec.buffers, name: commandName(spec), timeout });
  return spec.reply === null ? reply : spec.reply(reply);
}

/** A pipeline on one node. */
export type Pipeline = PipelineOf<PipelineBase>;

/** A new pipeline on a client: `client.pipeline({ transaction: false })`. */
export function createPipeline(client: NodeClient, options: PipelineOptions = {}, connection: Connection | null = null): Pipeline {
  if (typeof options !== 'object' || options === null) throw new TypeError('pipeline: options must be an object');
  for (const key of Object.keys(options)) {
    if (key !== 'transaction' && key !== 'shard_hint' && key !== 'shardHint') {
      throw new TypeError(`pipeline: unknown option '${key}'; expected transaction or shard_hint`);
    }
  }
  const transaction = options.transaction ?? true;
  if (typeof transaction !== 'boolean') throw new TypeError(`pipeline: transaction must be true or false, got ${String(transaction)}`);
  return pipelineProxy(new PipelineBase(client, transaction, connection));
}
