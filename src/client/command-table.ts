/**
 * The server's own description of its commands (COMMAND / COMMAND INFO): arity, flags, which
 * arguments are keys (Redis 7 key specs, or the older first/last/step triple), and request /
 * response policy tips. Learned from the server, so module commands and commands newer than
 * this library are understood as well as built-in ones.
 */
import { Buffer } from 'node:buffer';
import { ReplyError } from '../errors.ts';
import type { Reply } from '../resp/decode.ts';

export interface BeginSearch {
  type: 'index' | 'keyword' | 'unknown';
  index: number;
  keyword: string;
  startFrom: number;
}

export interface FindKeys {
  type: 'range' | 'keynum' | 'unknown';
  lastKey: number;
  keyStep: number;
  limit: number;
  keyNumIndex: number;
  firstKey: number;
}

export interface KeySpec {
  flags: ReadonlySet<string>;
  begin: BeginSearch;
  find: FindKeys;
}

export interface CommandInfo {
  /** Lower case; subcommands as 'container|sub'. */
  readonly name: string;
  readonly arity: number;
  readonly flags: ReadonlySet<string>;
  readonly firstKey: number;
  readonly lastKey: number;
  readonly step: number;
  readonly tips: readonly string[];
  readonly keySpecs: readonly KeySpec[];
  /** null when the server does not describe subcommands (before Redis 7). */
  readonly subcommands: ReadonlyMap<string, CommandInfo> | null;
  /** True for commands flagged `write` (and for those that cannot be described). */
  readonly writes: boolean;
}

function str(r: Reply | undefined): string {
  if (typeof r === 'string') return r;
  if (Buffer.isBuffer(r)) return r.toString();
  return String(r ?? '');
}

function num(r: Reply | undefined): number {
  return typeof r === 'number' ? r : Number(str(r));
}

/** Reads a flat [k1, v1, k2, v2, ...] reply into a Map. */
function pairs(r: Reply | undefined): Map<string, Reply> {
  const m = new Map<string, Reply>();
  if (Array.isArray(r)) for (let i = 0; i + 1 < r.length; i += 2) m.set(str(r[i]), r[i + 1] as Reply);
  return m;
}

function parseKeySpec(r: Reply): KeySpec {
  const m = pairs(r);
  const flags = new Set((Array.isArray(m.get('flags')) ? (m.get('flags') as Reply[]) : []).map(str));
  const bs = pairs(m.get('begin_search'));
  const bspec = pairs(bs.get('spec'));
  const bt = str(bs.get('type'));
  const begin: BeginSearch = {
    type: bt === 'index' || bt === 'keyword' ? bt : 'unknown',
    index: num(bspec.get('index')),
    keyword: str(bspec.get('keyword')),
    startFrom: num(bspec.get('startfrom')),
  };
  const fk = pairs(m.get('find_keys'));
  const fspec = pairs(fk.get('spec'));
  const ft = str(fk.get('type'));
  const find: FindKeys = {
    type: ft === 'range' || ft === 'keynum' ? ft : 'unknown',
    lastKey: num(fspec.get('lastkey')),
    keyStep: num(fspec.get('keystep')) || 1,
    limit: num(fspec.get('limit')),
    keyNumIndex: num(fspec.get('keynumidx')),
    firstKey: num(fspec.get('firstkey')),
  };
  return { flags, begin, find };
}

/** Parses one entry of a COMMAND / COMMAND INFO reply (null for unknown commands). */
export function parseCommandInfo(r: Reply): CommandInfo | null {
  if (!Array.isArray(r) || r.length < 6) return null;
  const flags = new Set((Array.isArray(r[2]) ? r[2] : []).map(str));
  const tips = Array.isArray(r[7]) ? r[7].map(str) : [];
  const keySpecs = Array.isArray(r[8]) ? r[8].map(parseKeySpec).filter((k) => !k.flags.has('not_key')) : [];
  let subcommands: Map<string, CommandInfo> | null = null;
  if (r.length >= 10) {
    subcommands = new Map();
    for (const sub of Array.isArray(r[9]) ? r[9] : []) {
      const info = parseCommandInfo(sub);
      if (info !== null) subcommands.set(info.name, info);
    }
  }
  return {
    name: str(r[0]).toLowerCase(),
    arity: num(r[1]),
    flags,
    firstKey: num(r[3]),
    lastKey: num(r[4]),
    step: num(r[5]),
    tips,
    keySpecs,
    subcommands,
    writes: flags.has('write') || !flags.has('readonly'),
  };
}

/**
 * Positions (indexes into argv, where argv[0] is the command name) of the key arguments.
 * Follows the key specs when the server gives them, else the first/last/step triple.
 */
export function keyPositions(info: CommandInfo, argv: readonly unknown[]): number[] {
  const out: number[] = [];
  if (info.keySpecs.length > 0) {
    for (const spec of info.keySpecs) collectSpec(spec, argv, out);
    if (out.length > 1) out.sort((a, b) => a - b);
    return dedupe(out);
  }
  if (info.firstKey <= 0) return out;
  const last = info.lastKey < 0 ? argv.length + info.lastKey : info.lastKey;
  const step = info.step > 0 ? info.step : 1;
  for (let i = info.firstKey; i <= last && i < argv.length; i += step) out.push(i);
  return out;
}

function collectSpec(spec: KeySpec, argv: readonly unknown[], out: number[]): void {
  let start: number;
  const b = spec.begin;
  if (b.type === 'index') {
    start = b.index;
  } else if (b.type === 'keyword') {
    const kw = b.keyword.toLowerCase();
    start = -1;
    if (b.startFrom >= 0) {
      for (let i = b.startFrom; i < argv.length; i++) if (String(argv[i]).toLowerCase() === kw) { start = i + 1; break; }
    } else {
      for (let i = argv.length + b.startFrom; i > 0; i--) if (String(argv[i]).toLowerCase() === kw) { start = i + 1; break; }
    }
    if (start < 0) return;
  } else {
    return;
  }
  if (start >= argv.length) return;
  const f = spec.find;
  if (f.type === 'range') {
    let last: number;
    if (f.lastKey >= 0) last = start + f.lastKey;
    else if (f.limit > 1) last = start + Math.floor((argv.length - 1 - start) / f.limit);
    else last = argv.length + f.lastKey;
    for (let i = start; i <= last && i < argv.length; i += f.keyStep) out.push(i);
  } else if (f.type === 'keynum') {
    const n = Number(argv[start + f.keyNumIndex]);
    if (!Number.isInteger(n) || n <= 0) return;
    const first = start + f.firstKey;
    for (let k = 0, i = first; k < n && i < argv.length; k++, i += f.keyStep) out.push(i);
  }
}

function dedupe(sorted: number[]): number[] {
  let w = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[w++] = sorted[i]!;
  sorted.length = w;
  return sorted;
}

/** Fetches COMMAND INFO for some names: one round trip for all of them. */
export type CommandInfoFetcher = (names: string[]) => Promise<Reply>;

/**
 * A per-server cache of command descriptions. Lookups for names not yet known are batched
 * into one COMMAND INFO round trip; misses (unknown commands) are remembered too.
 */
export class CommandTable {
  private readonly known = new Map<string, CommandInfo | null>();
  private readonly waiting = new Map<string, Promise<CommandInfo | null>>();
  private batch: string[] | null = null;
  /**
   * Set when the server refused COMMAND (renamed, an ACL user without it): descriptions then
   * come from `fallback`, the table shipped with redisdb, so routing and reply shapes do not
   * depend on whether the server would say.
   */
  unavailable = false;
  /** Set once the full COMMAND reply is known: a name not in it is not asked for again. */
  private complete = false;

  private readonly fetch: CommandInfoFetcher;
  private readonly fallback: (name: string) => CommandInfo | null;
  constructor(
    fetch: CommandInfoFetcher,
    fallback: (name: string) => CommandInfo | null = () => null,
  ) {
    this.fetch = fetch;
    this.fallback = fallback;
  }

  /** Whether every command's description is known (a full COMMAND reply was stored). */
  get isComplete(): boolean {
    return this.complete;
  }

  /** Synchronous view of what is already known: undefined when it must be fetched. */
  peek(name: string): CommandInfo | null | undefined {
    return this.known.get(name.toLowerCase());
  }

  get(name: string): Promise<CommandInfo | null> {
    const key = name.toLowerCase();
    const hit = this.known.get(key);
    if (hit !== undefined) return Promise.resolve(hit);
    if (this.complete) {
      this.known.set(key, null); // the full table has no such command: nothing to ask
      return Promise.resolve(null);
    }
    if (this.unavailable) return Promise.resolve(this.fallback(key));
    const pending = this.waiting.get(key);
    if (pending) return pending;
    if (this.batch === null) {
      const batch: string[] = [];
      this.batch = batch;
      // Names asked for in the same tick go out in one COMMAND INFO.
      queueMicrotask(() => {
        this.batch = null;
        void this.load(batch);
      });
    }
    this.batch.push(key);
    const p = new Promise<CommandInfo | null>((resolve, reject) => {
      this.resolvers.set(key, { resolve, reject });
    });
    this.waiting.set(key, p);
    return p;
  }

  private readonly resolvers = new Map<string, { resolve: (info: CommandInfo | null) => void; reject: (err: unknown) => void }>();

  private async load(names: string[]): Promise<void> {
    let reply: Reply = null;
    let failure: unknown = null;
    try {
      reply = await this.fetch(names);
    } catch (err) {
      // A refusal (COMMAND renamed or forbidden) is final: everything falls back to defaults.
      // A lost connection is not: the callers see its error, and the names are asked again.
      if (err instanceof ReplyError) this.unavailable = true;
      else failure = err;
    }
    const entries = Array.isArray(reply) ? reply : [];
    names.forEach((name, i) => {
      this.waiting.delete(name);
      const waiter = this.resolvers.get(name);
      this.resolvers.delete(name);
      if (failure !== null) {
        waiter?.reject(failure);
        return;
      }
      if (this.unavailable) {
        waiter?.resolve(this.fallback(name));
        return;
      }
      const info = parseCommandInfo(entries[i] ?? null);
      this.known.set(name, info);
      waiter?.resolve(info);
    });
  }

  /** Stores a full COMMAND reply (every command at once). */
  learnAll(reply: Reply): void {
    if (!Array.isArray(reply)) return;
    this.complete = true;
    for (const entry of reply) {
      const info = parseCommandInfo(entry);
      if (info !== null) this.known.set(info.name, info);
    }
  }
}
