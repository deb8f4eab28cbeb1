/**
 * What a backend needs to know to route a command, learned from the server's own command table
 * (COMMAND / COMMAND INFO) rather than from a list of names: where its keys are, whether it
 * writes, and whether keys on several nodes may be split (Redis 7 request/response policy tips).
 *
 * Cost: the first command a backend runs waits for one `COMMAND` round trip (every command's
 * description at once: about 40 KB of payload from Redis 7.0, a few milliseconds to fetch and
 * parse); a name missing from it (a module loaded later) costs one `COMMAND INFO` round trip
 * the first time. Everything is remembered per backend, so afterwards routing is a map lookup.
 */
import { type CommandTable, keyPositions, type CommandInfo } from '../client/command-table.ts';
import type { CommandSpec } from '../client/conventions.ts';
import type { NodeClient } from '../client/node-client.ts';
import { ConnectionError, ReplyError } from '../errors.ts';
import type { Reply } from '../resp/decode.ts';

/** How the replies of a read whose keys were split across nodes are combined. */
export type Merge = 'ordered' | 'sum' | 'min' | 'max' | 'and' | 'or';

export interface Route {
  /** Lower-case name as the server knows it ('get', 'object|freq'); '' when unknown. */
  readonly name: string;
  /** Writes go to every node of a RedisCopy. */
  readonly writes: boolean;
  /**
   * - 'none': never takes keys (PING, DBSIZE): every node is asked.
   * - 'fixed': one key, always at argv[keyIndex] (GET, SET): the fast path.
   * - 'search': follow the server's key specs on each call (MGET, EVAL, LMPOP).
   * - 'first': the server cannot tell, so the first argument is taken as the key.
   * - 'channel': no key, but a channel at argv[keyIndex] (PUBLISH, SPUBLISH): it goes to the
   *   node the channel's name hashes to, where its subscribers are.
   */
  readonly keys: 'none' | 'fixed' | 'search' | 'first' | 'channel';
  readonly keyIndex: number;
  readonly info: CommandInfo | null;
  /** Keys on several nodes may be sent to each node separately (MGET, MSET, DEL...). */
  readonly splittable: boolean;
  /** Arguments per key in a splittable command (2 for MSET's key value pairs). */
  readonly keyStep: number;
  readonly merge: Merge;
  /** Routes of a container's subcommands (OBJECT FREQ), by lower-case subcommand name. */
  readonly subcommands: ReadonlyMap<string, Route> | null;
  /** Its effect may differ from one server to the next (SPOP, XADD *): `nondeterministic_output`. */
  readonly nondeterministic: boolean;
}

/** When the server cannot describe a command: first argument is the key, and it may write. */
const FALLBACK: Route = Object.freeze({
  name: '', writes: true, keys: 'first', keyIndex: 1, info: null, splittable: false, keyStep: 1, merge: 'ordered', subcommands: null,
  nondeterministic: false,
});

/**
 * Servers before Redis 7 give no tips. These are the multi-key commands Redis 7 tags
 * request_policy:multi_shard (its tags win when present); MSETNX is left out on purpose.
 */
const MULTI_SHARD_BEFORE_7: ReadonlyMap<string, Merge> = new Map<string, Merge>([
  ['mget', 'ordered'], ['mset', 'ordered'], ['del', 'sum'], ['unlink', 'sum'], ['exists', 'sum'], ['touch', 'sum'],
]);

const MERGE_TIPS: ReadonlyMap<string, Merge> = new Map<string, Merge>([
  ['response_policy:agg_sum', 'sum'], ['response_policy:agg_min', 'min'], ['response_policy:agg_max', 'max'],
  ['response_policy:agg_logical_and', 'and'], ['response_policy:agg_logical_or', 'or'],
]);

/** Commands that name a channel where others name a key. */
const CHANNEL_COMMANDS = new Set(['publish', 'spublish']);

/** Builds the route of one described command (and of its subcommands). */
export function routeOf(info: CommandInfo | null): Route {
  if (info === null) return FALLBACK;
  if (CHANNEL_COMMANDS.has(info.name)) {
    return Object.freeze({
      name: info.name, writes: false, keys: 'channel', keyIndex: 1, info, splittable: false, keyStep: 1, merge: 'ordered', subcommands: null,
      nondeterministic: false,
    });
  }
  let subcommands: Map<string, Route> | null = null;
  if (info.subcommands !== null && info.subcommands.size > 0) {
    subcommands = new Map();
    for (const [full, sub] of info.subcommands) subcommands.set(full.slice(full.indexOf('|') + 1), routeOf(sub));
  }
  const { keys, keyIndex, keyStep } = keyLayout(info);
  const hasTips = info.tips.length > 0 || info.keySpecs.length > 0;
  let merge: Merge = 'ordered';
  let multiShard: boolean;
  if (hasTips) {
    multiShard = info.tips.includes('request_policy:multi_shard');
    for (const tip of info.tips) merge = MERGE_TIPS.get(tip) ?? merge;
  } else {
    const known = MULTI_SHARD_BEFORE_7.get(info.name);
    multiShard = known !== undefined;
    if (known !== undefined) merge = known;
  }
  // A write combined by min / logical and (MSETNX) promises all-or-nothing across its keys;
  // sent in parts it could set some keys and not others, so its keys must share a node.
  const allOrNothing = info.writes && (merge === 'min' || merge === 'and');
  const splittable = multiShard && !allOrNothing && keys === 'search' && keyStep > 0;
  return Object.freeze({
    name: info.name, writes: info.writes, keys, keyIndex, info, splittable, keyStep, merge, subcommands,
    nondeterministic: info.tips.includes('nondeterministic_output'),
  });
}

function keyLayout(info: CommandInfo): { keys: Route['keys']; keyIndex: number; keyStep: number } {
  const specs = info.keySpecs;
  if (specs.length === 1) {
    const { begin, find } = specs[0]!;
    if (begin.type === 'index' && find.type === 'range') {
      if (find.lastKey === 0) return { keys: 'fixed', keyIndex: begin.index, keyStep: 1 };
      return { keys: 'search', keyIndex: begin.index, keyStep: find.keyStep };
    }
    return { keys: 'search', keyIndex: 0, keyStep: 0 };
  }
  if (specs.length > 1) return { keys: 'search', keyIndex: 0, keyStep: 0 };
  if (info.flags.has('movablekeys')) return { keys: 'first', keyIndex: 1, keyStep: 0 };
  if (info.firstKey <= 0) return { keys: 'none', keyIndex: 0, keyStep: 0 };
  if (info.lastKey === info.firstKey) return { keys: 'fixed', keyIndex: info.firstKey, keyStep: 1 };
  return { keys: 'search', keyIndex: info.firstKey, keyStep: info.step > 0 ? info.step : 1 };
}

/**
 * Positions in argv of a command's keys (argv[0] is the command): a number for the common
 * one-key case, so it allocates nothing, and an array otherwise (empty when there are none).
 */
export function keysOf(route: Route, spec: CommandSpec): number | number[] {
  const argv = spec.argv;
  switch (route.keys) {
    case 'fixed':
    case 'channel':
      return route.keyIndex < argv.length ? route.keyIndex : NO_KEYS;
    case 'first':
      return spec.words < argv.length ? spec.words : NO_KEYS;
    case 'search':
      return keyPositions(route.info!, argv);
    default:
      return NO_KEYS;
  }
}

/** The key arguments themselves (see keysOf), in order; empty when there are none. */
export function keyArgs(route: Route, spec: CommandSpec): unknown[] {
  const at = keysOf(route, spec);
  return typeof at === 'number' ? [spec.argv[at]] : at.map((p) => spec.argv[p]);
}

const NO_KEYS: number[] = [];
Object.freeze(NO_KEYS);

/** Sends a command to whichever node answers; what a route table learns from. */
export type AskAny = (argv: string[]) => Promise<Reply>;

/** A backend's routes, learned once from whichever node answers first. */
export class RouteTable {
  private readonly routes = new Map<string, Route>();
  private learned: Promise<void> | null = null;

  private readonly table: CommandTable;
  private readonly ask: AskAny;
  /**
   * @param table the command table the backend's builder shares: learned once, used by both
   * @param ask sends COMMAND to the first node that answers
   */
  constructor(
    table: CommandTable,
    ask: AskAny,
  ) {
    this.table = table;
    this.ask = ask;
  }

  /** The route of a built command: synchronous once known. */
  routeFor(spec: CommandSpec): Route | Promise<Route> {
    const name = spec.argv[0];
    const key = typeof name === 'string' ? name : String(name);
    const hit = this.routes.get(key);
    if (hit !== undefined) return hit.subcommands === null ? hit : subRoute(hit, spec);
    return this.learn(key).then((route) => (route.subcommands === null ? route : subRoute(route, spec)));
  }

  /** The route for a command name, learning it if needed. */
  async learn(name: string): Promise<Route> {
    const known = this.routes.get(name);
    if (known !== undefined) return known;
    await this.learnAll();
    let info = this.table.peek(name);
    if (info === undefined) info = await this.table.get(name);
    const route = routeOf(info);
    this.routes.set(name, route);
    return route;
  }

  private learnAll(): Promise<void> {
    if (this.learned === null) {
      const attempt = this.ask(['COMMAND']).then(
        (reply) => this.table.learnAll(reply),
        (err: unknown) => {
          // Refused (renamed, ACL): fall back to COMMAND INFO per name, which may work, or to
          // the default route. Unreachable: try again on the next command.
          if (!(err instanceof ReplyError)) {
            this.learned = null;
            throw err;
          }
        },
      );
      this.learned = attempt;
    }
    return this.learned;
  }
}

/**
 * Sends to the first node that answers; connection failures move on to the next node.
 * Each try is bounded even without socket_timeout (by the connect timeout then), so a hung
 * node delays the first command rather than stalling the whole backend.
 */
export async function askAnyNode(nodes: readonly Pick<NodeClient, 'options' | 'connection'>[], argv: string[]): Promise<Reply> {
  const failures: string[] = [];
  const name = argv.length > 1 ? `${argv[0]} ${argv[1]}` : argv[0]!;
  for (const node of nodes) {
    try {
      const timeout = node.options.socketTimeout ?? node.options.connectTimeout;
      return await node.connection.send(argv, { name, timeout });
    } catch (err) {
      if (!(err instanceof ConnectionError)) throw err;
      failures.push(err.message);
    }
  }
  throw new ConnectionError(`no node answered ${argv.slice(0, 2).join(' ')}: ${failures.join('; ')}`);
}

function subRoute(container: Route, spec: CommandSpec): Route {
  const sub = spec.argv[1];
  if (sub === undefined) return container;
  return container.subcommands!.get(String(sub).toLowerCase()) ?? container;
}
