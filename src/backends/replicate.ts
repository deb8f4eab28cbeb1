/**
 * RedisCopy's one write path. Every write — a method, `call` / `execute_command`, a pipeline's
 * command, a MULTI block, `transaction(fn)`'s EXEC, a script, `eval` — reaches the nodes through
 * `Replicator.replicate` (or `replicateFrom`, for a write that must run on one node first), and
 * nothing else sends a write to a Copy node. Here it is sent, each node's outcome classified by
 * what happened on the wire, the quorum applied, and every node that missed it handed to the
 * repair (hints.ts, resync.ts).
 *
 * A node's outcome is one of:
 *   applied   it answered (a reply, or a MULTI block's replies);
 *   refused   it answered with an error (OOM, READONLY, WRONGTYPE...): it did not apply it;
 *   unsent    it was never sent (down, or the connection never got it): replayed later, exactly;
 *   unknown   sent, never answered: maybe applied. Its keys are copied from a node that holds them.
 *
 * The write then:
 *   - resolves, one result per node, when at least `write_quorum` nodes applied it; every node
 *     that did not apply it is repaired (a refusal while others applied it means the node
 *     missed it, whatever the error says);
 *   - rejects with WriteQuorumError (`outcome: 'partial'`) when some but too few applied it; the
 *     others are repaired, so the copies converge on the write;
 *   - rejects with NodesFailedError (`outcome: 'unknown'`) when none applied it but some never
 *     answered: those copy its keys back from a node that did not run it, so the copies
 *     converge on one value (the others are not taken out for it);
 *   - rejects (`outcome: 'rejected'`) when no node applied it and all answered or were never
 *     sent it: it was applied nowhere, and the hints kept for it are withdrawn, so it never is.
 */
import type { NodeClient } from '../client/node-client.ts';
import { ConnectionError, RedisError } from '../errors.ts';
import { validateArgs, type EncodedCommand } from '../resp/encode.ts';
import { NodesFailedError } from './errors.ts';
import type { NodeHealth } from './health.ts';
import { Hint, sendWrite, type HintStore } from './hints.ts';
import type { CopyWrite } from './plan.ts';
import { copyKeys } from './resync.ts';

/** One node's part in a write. */
export type WriteOutcome =
  | { readonly node: string; readonly ok: true; readonly value: unknown }
  | { readonly node: string; readonly ok: false; readonly error: Error; readonly hinted: boolean };

/** A write reached fewer nodes than `write_quorum`; `outcomes` holds every node's part. */
export class WriteQuorumError extends RedisError {
  override name = 'WriteQuorumError';
  /** Some nodes applied it: the copies converge on it, but fewer than asked took it. */
  readonly outcome = 'partial';
  readonly outcomes: readonly WriteOutcome[];
  readonly acknowledged: number;
  readonly quorum: number;

  constructor(what: string, outcomes: readonly WriteOutcome[], quorum: number) {
    const acknowledged = outcomes.filter((o) => o.ok).length;
    const detail = outcomes.map((o) => `${o.node}: ${o.ok ? 'ok' : `${o.error.message}${o.hinted ? ' (to be repaired)' : ''}`}`).join('; ');
    super(`${what} reached ${acknowledged} of the ${quorum} nodes write_quorum asks for (${detail})`);
    this.outcomes = Object.freeze(outcomes.slice());
    this.acknowledged = acknowledged;
    this.quorum = quorum;
  }
}

type Outcome = 'applied' | 'refused' | 'unsent' | 'unknown';

function outcomeOf(err: unknown): Outcome {
  if (err instanceof ConnectionError) return err.neverSent ? 'unsent' : 'unknown';
  return 'refused';
}

/** What the write path needs of RedisCopy. */
export interface ReplicaSet {
  readonly clients: readonly NodeClient[];
  readonly addresses: readonly string[];
  readonly health: NodeHealth;
  readonly hints: HintStore;
  /** Nodes that must apply a write for it to resolve. */
  readonly writeQuorum: number;
}

/** How the nodes after the first get a write that ran on one node first. */
export type Followers = 'same' | 'effect';

export class Replicator {
  /** Set while a write that runs on one node first is spreading: later writes wait behind it. */
  private barrier: Promise<void> | null = null;
  /** Writes issued and not yet concluded, and who waits for that to reach 0 (see `settled`). */
  private inFlight = 0;
  private onSettled: Array<() => void> = [];

  private readonly copy: ReplicaSet;
  constructor(copy: ReplicaSet) {
    this.copy = copy;
  }

  /** Sends a write to every node; see the file comment for how it resolves. */
  replicate(write: CopyWrite): Promise<unknown[]> {
    // A bad argument fails here, before anything is sent to any node.
    try {
      for (const spec of write.specs) validateArgs(spec.argv, write.name);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    if (this.barrier !== null) return this.barrier.then(() => this.replicate(write));
    if (write.nondeterministic && this.firstWritable() >= 0) {
      return this.replicateFrom(() => this.firstWritable(), (first) => sendWrite(this.copy.clients[first]!, write), write, 'effect');
    }
    return this.replicateNow(write);
  }

  /** The first node that takes writes now, or -1. */
  firstWritable(): number {
    for (let i = 0; i < this.copy.clients.length; i++) if (this.writable(i)) return i;
    return -1;
  }

  private writable(node: number): boolean {
    return this.copy.health.state(node) === 'up';
  }

  /**
   * Runs `fn` once every write before it has been issued, and holds later writes (and other
   * exclusive sections) until it is done: for writes whose effect must reach the other nodes
   * before anything else does, and for a repair's last round, which must read the healthy
   * node with no such write half-spread.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = (this.barrier ?? Promise.resolve()).then(fn);
    const barrier = run.then(() => undefined, () => undefined);
    this.barrier = barrier;
    void barrier.then(() => {
      if (this.barrier === barrier) this.barrier = null;
    });
    return run;
  }

  /**
   * Runs `fn` exclusively, once every write issued before it has concluded: each node's part
   * is then known, and every node that missed one is out of service. A repair's last round
   * reads its source here, so the source holds every write it acknowledged and no write it
   * will turn out to have missed (a refusal or a timeout still on its way) is copied as held.
   */
  settled<T>(fn: () => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      if (this.inFlight > 0) await new Promise<void>((resolve) => this.onSettled.push(resolve));
      return fn();
    });
  }

  private issue(): void {
    this.inFlight++;
  }

  private concluded(): void {
    if (--this.inFlight > 0 || this.onSettled.length === 0) return;
    const waiting = this.onSettled;
    this.onSettled = [];
    for (const resolve of waiting) resolve();
  }

  private replicateNow(write: CopyWrite): Promise<unknown[]> {
    const { clients, health } = this.copy;
    const count = clients.length;
    for (let i = 0; i < count; i++) if (!this.writable(i)) return this.replicateAround(write);
    this.issue();
    // The common case: every node takes the write directly. One promise for the caller, one
    // pair of callbacks for every node, and no bookkeeping unless a node fails.
    return new Promise<unknown[]>((resolve, reject) => {
      const fan = new FanOut(this, write, count, resolve, reject);
      if (write.atomic) {
        for (let i = 0; i < count; i++) {
          fan.noteSuspect(i, health.isSuspect(i));
          sendWrite(clients[i]!, write).then((v) => fan.applied(v, i), (e: unknown) => fan.missed(e, i));
        }
        return;
      }
      // Encoded once, by the first node's connection; the others copy its bytes.
      let encoded: EncodedCommand | null = null;
      const spec = write.specs[0]!;
      for (let i = 0; i < count; i++) {
        fan.noteSuspect(i, health.isSuspect(i));
        encoded = clients[i]!.dispatchWith(spec, fan.applied, fan.missed, encoded, i) ?? encoded;
      }
    });
  }

  /** A fan-out's last answer came: resolves it, or concludes it when a node missed it. @internal */
  fannedOut(fan: FanOut): void {
    if (!fan.failed) {
      this.concluded();
      fan.resolve(fan.values);
      return;
    }
    const outcomes = fan.values.map((v): Outcome => (v instanceof Error ? outcomeOf(v) : 'applied'));
    try {
      fan.resolve(this.conclude(fan.write, outcomes, fan.values, new Array<Hint | null>(fan.values.length).fill(null), -1));
    } catch (err) {
      fan.reject(err);
    } finally {
      this.concluded();
    }
  }

  /** A node answered a fan-out after failing lately: it is no longer suspect. @internal */
  answered(node: number): void {
    this.copy.health.succeeded(node);
  }

  /** A write while some node is away or being repaired: hints, gates and every outcome. */
  private async replicateAround(write: CopyWrite): Promise<unknown[]> {
    const count = this.copy.clients.length;
    const pending: Array<Promise<unknown> | null> = new Array<Promise<unknown> | null>(count);
    const held = new Array<Hint | null>(count).fill(null);
    this.issue();
    try {
      for (let i = 0; i < count; i++) pending[i] = this.sendOrHold(i, held, write, () => sendWrite(this.copy.clients[i]!, write));
      const { outcomes, values } = await settle(pending);
      return this.conclude(write, outcomes, values, held, -1);
    } finally {
      this.concluded();
    }
  }

  /**
   * Sends to a node that takes writes (or that waits at its repair's gate); keeps a pending
   * hint for one that is away, in the order of the writes, and returns null for it.
   */
  private sendOrHold(node: number, held: Array<Hint | null>, write: CopyWrite, send: () => Promise<unknown>): Promise<unknown> | null {
    if (this.writable(node)) return send();
    const gate = this.copy.hints.gate(node);
    // The node's repair is in its last round: this write follows it.
    if (gate !== null) return gate.then(send);
    const hint = new Hint(write, 'pending');
    if (this.copy.hints.add(node, hint)) held[node] = hint;
    return null;
  }

  /**
   * A write that runs on one node first (a transaction's EXEC under WATCH, a write whose effect
   * may differ per node): `runFirst` runs it there; only if it applied do the others get it,
   * the same commands (`'same'`) or its effect, its keys copied from the first node
   * (`'effect'`). The first node's refusal (a WatchError, a WRONGTYPE) is the write's own error.
   *
   * It runs exclusively: later writes wait until the others have been sent it (its effect
   * copied, for `'effect'`), so every node sees it in the same place among the writes around
   * it. With `'same'` the first node may run it on a connection of its own (WATCH), so a fence
   * (a PING on its shared connection) first makes sure every earlier write was applied there.
   */
  async replicateFrom(
    firstOf: number | (() => number), runFirst: (first: number) => Promise<unknown>, write: CopyWrite, followers: Followers,
  ): Promise<unknown[]> {
    // Counted as in flight from when it is issued (inside its exclusive section) to its end.
    let issued = false;
    try {
      return await this.spreadFrom(firstOf, runFirst, write, followers, () => {
        issued = true;
        this.issue();
      });
    } finally {
      if (issued) this.concluded();
    }
  }

  private async spreadFrom(
    firstOf: number | (() => number), runFirst: (first: number) => Promise<unknown>, write: CopyWrite, followers: Followers,
    issue: () => void,
  ): Promise<unknown[]> {
    const { clients } = this.copy;
    const count = clients.length;
    const held = new Array<Hint | null>(count).fill(null);
    let first = -1;
    type Spread =
      | { readonly kind: 'done'; readonly result: unknown[] }
      | { readonly kind: 'settled'; readonly settled: Settled }
      | { readonly kind: 'pending'; readonly pending: Array<Promise<unknown> | null> };
    const spread = await this.exclusive(async (): Promise<Spread> => {
      issue();
      first = typeof firstOf === 'number' ? firstOf : firstOf();
      const outcomes = new Array<Outcome>(count).fill('unsent');
      const values = new Array<unknown>(count).fill(null);
      try {
        if (followers === 'same') await clients[first]!.connection.send(['PING'], { name: 'PING (write fence)' });
        values[first] = await runFirst(first);
        outcomes[first] = 'applied';
      } catch (err) {
        values[first] = err instanceof Error ? err : new Error(String(err));
        outcomes[first] = outcomeOf(err);
      }
      if (outcomes[first] !== 'applied') {
        for (let i = 0; i < count; i++) if (i !== first) values[i] = new ConnectionError(`not sent to ${this.copy.addresses[i]}: ${clients[first]!.connection.address} did not apply it first`);
        return { kind: 'done', result: this.conclude(write, outcomes, values, held, first) };
      }
      const source = clients[first]!;
      const pending: Array<Promise<unknown> | null> = new Array<Promise<unknown> | null>(count).fill(null);
      for (let i = 0; i < count; i++) {
        if (i === first) continue;
        const send = followers === 'same'
          ? () => sendWrite(clients[i]!, write)
          : () => (write.keys === null ? Promise.reject(new RedisError('its keys are unknown')) : copyKeys(source, clients[i]!, write.keys).then(() => values[first]));
        pending[i] = this.sendOrHold(i, held, followers === 'same' ? write : { ...write, nondeterministic: false }, send);
      }
      pending[first] = Promise.resolve(values[first]);
      // An effect holds later writes until it is copied everywhere; the same commands only
      // until they are sent (each node's connection keeps them in order from then on).
      return followers === 'effect' ? { kind: 'settled', settled: await settle(pending) } : { kind: 'pending', pending };
    });
    if (spread.kind === 'done') return spread.result;
    const rest = spread.kind === 'settled' ? spread.settled : await settle(spread.pending);
    if (followers === 'effect') {
      // A node that missed the effect gets the keys copied, never the command run again.
      for (const hint of held) if (hint !== null) hint.decide('copy');
    }
    return this.conclude(write, rest.outcomes, rest.values, held, first);
  }

  /**
   * Records what each node missed and shapes the result (see the file comment). `held` are the
   * pending hints kept for nodes that were away; `first` the node a write ran on first (-1).
   */
  private conclude(write: CopyWrite, outcomes: readonly Outcome[], values: unknown[], held: readonly (Hint | null)[], first: number): unknown[] {
    const { hints, addresses, health } = this.copy;
    const count = outcomes.length;
    let applied = 0;
    let unknown = false;
    for (const o of outcomes) {
      if (o === 'applied') applied++;
      else if (o === 'unknown') unknown = true;
    }
    const report: WriteOutcome[] = new Array<WriteOutcome>(count);
    const appliedOn: number[] = [];
    for (let i = 0; i < count; i++) if (outcomes[i] === 'applied') appliedOn.push(i);
    let missed = false;
    for (let i = 0; i < count; i++) {
      const node = addresses[i]!;
      if (outcomes[i] === 'applied') {
        report[i] = { node, ok: true, value: values[i] };
        continue;
      }
      const hint = held[i] ?? null;
      if (!(values[i] instanceof Error)) values[i] = health.refusal(i) ?? new ConnectionError(`${node} was away`);
      // Applied somewhere: every node that did not apply it gets it, replayed exactly where it
      // was never sent, its keys copied where it may or may not have run. Applied nowhere, but
      // unanswered somewhere: those nodes copy their keys back from one that did not run it.
      const repair = applied > 0 || outcomes[i] === 'unknown';
      if (!repair) {
        hint?.decide('withdrawn');
      } else {
        const mode = outcomes[i] === 'unsent' && hint?.mode !== 'copy' ? 'replay' : 'copy';
        const owed = hint ?? new Hint(write, mode, applied > 0);
        owed.appliedOn = appliedOn;
        if (hint !== null) hint.decide(mode, applied > 0);
        else if (mode === 'copy' && write.keys === null) hints.markForResync(i);
        else hints.add(i, owed); // on overflow the node is marked for a full copy
        missed = true;
      }
      report[i] = { node, ok: false, error: values[i] as Error, hinted: repair };
    }
    if (missed) this.holdBackUnrepaired();
    if (applied >= this.copy.writeQuorum) return values;
    if (applied > 0) throw new WriteQuorumError(write.name, report, this.copy.writeQuorum);
    if (first >= 0 && !unknown && write.nondeterministic) throw new NodesFailedError([addresses[first]!], [values[first] as Error], write.name, 'rejected');
    if (first >= 0 && !unknown) throw values[first];
    throw new NodesFailedError(addresses, values as Error[], write.name, unknown ? 'unknown' : 'rejected');
  }

  /**
   * A node that missed a write serves no more reads until it is repaired: by its hints when
   * the write never reached it, by copying keys when it may not hold it. The repair starts as
   * soon as the node answers a PING.
   */
  private holdBackUnrepaired(): void {
    const { hints, health } = this.copy;
    for (let i = 0; i < this.copy.clients.length; i++) {
      if (health.state(i) === 'up' && (hints.needsResync(i) || hints.count(i) > 0)) health.markDown(i, 0);
    }
  }
}

/** A write sent to every node at once: each node's answer in its slot, the caller settled once. */
class FanOut {
  readonly values: unknown[];
  failed = false;
  readonly write: CopyWrite;
  readonly resolve: (values: unknown[]) => void;
  readonly reject: (err: unknown) => void;
  private readonly replicator: Replicator;
  private left: number;
  /** Nodes that had failed lately when it was sent: their answer clears that. */
  private suspects: boolean[] | null = null;

  constructor(
    replicator: Replicator, write: CopyWrite, count: number, resolve: (values: unknown[]) => void, reject: (err: unknown) => void,
  ) {
    this.replicator = replicator;
    this.write = write;
    this.resolve = resolve;
    this.reject = reject;
    this.values = new Array<unknown>(count);
    this.left = count;
  }

  noteSuspect(node: number, suspect: boolean): void {
    if (!suspect) return;
    this.suspects ??= new Array<boolean>(this.values.length).fill(false);
    this.suspects[node] = true;
  }

  readonly applied = (value: unknown, node: number): void => {
    if (this.suspects?.[node] === true) this.replicator.answered(node);
    this.values[node] = value;
    if (--this.left === 0) this.replicator.fannedOut(this);
  };

  readonly missed = (err: unknown, node: number): void => {
    this.values[node] = err instanceof Error ? err : new Error(String(err));
    this.failed = true;
    if (--this.left === 0) this.replicator.fannedOut(this);
  };
}

/** Each node's outcome and value once its send settled (null: never sent). */
interface Settled {
  readonly outcomes: Outcome[];
  readonly values: unknown[];
}

async function settle(pending: readonly (Promise<unknown> | null)[]): Promise<Settled> {
  const settled = await Promise.allSettled(pending);
  const outcomes: Outcome[] = [];
  const values: unknown[] = [];
  for (let i = 0; i < settled.length; i++) {
    const s = settled[i]!;
    if (pending[i] === null) {
      outcomes.push('unsent');
      values.push(null);
    } else if (s.status === 'fulfilled') {
      outcomes.push('applied');
      values.push(s.value);
    } else {
      outcomes.push(outcomeOf(s.reason));
      values.push(s.reason instanceof Error ? s.reason : new Error(String(s.reason)));
    }
  }
  return { outcomes, values };
}
