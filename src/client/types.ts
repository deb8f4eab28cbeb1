/**
 * Types of the reference's methods, so editors complete them; every other command is still
 * callable through the index signature and returns the reply as Redis sends it. Optional
 * parameters are typed as positions or keywords; every other parameter the reference names is
 * accepted as a keyword too (conventions.ts), though typed by position only.
 */
import { Buffer } from 'node:buffer';
import type { CommandArg } from '../resp/encode.ts';
import type { Reply } from '../resp/decode.ts';
import type { InfoValue, SlowlogEntry } from './replies.ts';

/**
 * A reply shape set with `set_response_callback(command, callback)`: called with the command's
 * reply as Redis sent it (before any shaping); its return value is the command's result.
 */
export type ResponseCallback = (reply: Reply) => unknown;

/** Any command: arguments as given (arrays are flattened one level), reply as sent. */
export type CommandMethod = (...args: Array<CommandArg | readonly CommandArg[]>) => Promise<Reply>;

export type Key = string | Uint8Array;
export type Value = CommandArg;
/** A bulk reply: string, or Buffer in buffers mode. */
export type Bulk = string | Buffer;
/** A (member, score) pair; the member is S (a string, or a Buffer in buffers mode). */
export type ScorePair<S extends Bulk = Bulk> = [S, number];
export type Mapping = Record<string, Value>;

export interface SetOptions {
  ex?: number | null;
  px?: number | null;
  exat?: number | Date | null;
  pxat?: number | Date | null;
  nx?: boolean;
  xx?: boolean;
  keepttl?: boolean;
  get?: boolean;
}

export interface RangeOptions {
  desc?: boolean;
  withscores?: boolean;
  start?: number;
  num?: number;
  score_cast_func?: (score: string) => unknown;
}

export interface ScanOptions {
  match?: string;
  count?: number;
  type?: string;
}

export interface SortOptions {
  start?: number;
  num?: number;
  by?: string;
  get?: string | string[];
  desc?: boolean;
  alpha?: boolean;
  store?: string;
  groups?: boolean;
}

type Keys = Key | readonly Key[];
/** An optional amount, positional or as the keyword `{ amount }`. */
type Amount = number | bigint | { amount?: number | bigint };
/** scan's optional cursor, positional or as a keyword beside match / count. */
type CursorOptions = ScanOptions & { cursor?: number };
type Aggregate = 'SUM' | 'MIN' | 'MAX' | 'sum' | 'min' | 'max';
type P<T> = Promise<T>;

/**
 * The reference's methods with their replies. S is what a bulk reply becomes: a string, or a
 * Buffer on a client made with `returnBuffers: true`. Counters (incr, decr, incrby, decrby) are
 * typed `number`: a value beyond 2^53 (about 9·10^15) arrives as a bigint at run time.
 */
export interface ReferenceCommands<S extends Bulk = string> {
  append(key: Key, value: Value): P<number>;
  bgrewriteaof(): P<true>;
  bgsave(): P<true>;
  bitcount(key: Key, start?: number | { start?: number; end?: number }, end?: number): P<number>;
  bitop(operation: string, dest: Key, ...keys: Key[]): P<number>;
  bitpos(key: Key, bit: 0 | 1, start?: number | { start?: number; end?: number }, end?: number): P<number>;
  blpop(keys: Keys, timeout?: number | { timeout?: number }): P<[S, S] | null>;
  blpop(...keysAndTimeout: Array<Key | number | { timeout?: number }>): P<[S, S] | null>;
  brpop(keys: Keys, timeout?: number | { timeout?: number }): P<[S, S] | null>;
  brpop(...keysAndTimeout: Array<Key | number | { timeout?: number }>): P<[S, S] | null>;
  brpoplpush(src: Key, dst: Key, timeout?: number | { timeout?: number }): P<S | null>;
  client_getname(): P<string | null>;
  clientGetname(): P<string | null>;
  client_kill(address: string): P<true>;
  client_list(): P<Array<Record<string, string | number>>>;
  clientList(): P<Array<Record<string, string | number>>>;
  client_setname(name: string): P<true>;
  clientSetname(name: string): P<true>;
  config_get(pattern?: string | { pattern?: string }): P<Record<string, S>>;
  configGet(pattern?: string | { pattern?: string }): P<Record<string, S>>;
  config_resetstat(): P<true>;
  config_rewrite(): P<true>;
  config_set(name: string, value: Value): P<true>;
  configSet(name: string, value: Value): P<true>;
  dbsize(): P<number>;
  debug_object(key: Key): P<Record<string, string | number>>;
  decr(name: Key, amount?: Amount): P<number>;
  decrby(name: Key, amount?: Amount): P<number>;
  delete(...names: Array<Key | readonly Key[]>): P<number>;
  del(...names: Array<Key | readonly Key[]>): P<number>;
  dump(name: Key): P<Buffer | null>;
  echo(value: Value): P<S>;
  eval(script: string, numkeys: number, ...keysAndArgs: Value[]): P<Reply>;
  evalsha(sha: string, numkeys: number, ...keysAndArgs: Value[]): P<Reply>;
  exists(name: Key): P<boolean>;
  exists(...names: Array<Key | readonly Key[]>): P<number>;
  expire(name: Key, time: number): P<boolean>;
  expireat(name: Key, when: number | Date): P<boolean>;
  flushall(options?: { asynchronous?: boolean }): P<true>;
  flushdb(options?: { asynchronous?: boolean }): P<true>;
  get(name: Key): P<S | null>;
  getBuffer(name: Key): P<Buffer | null>;
  getbit(name: Key, offset: number): P<boolean>;
  getrange(key: Key, start: number, end: number): P<S>;
  getset(name: Key, value: Value): P<S | null>;
  hdel(name: Key, ...keys: Array<Value | readonly Value[]>): P<number>;
  hexists(name: Key, key: Value): P<boolean>;
  hget(name: Key, key: Value): P<S | null>;
  hgetall(name: Key): P<Record<string, S>>;
  hincrby(name: Key, key: Value, amount?: number | { amount?: number }): P<number>;
  hincrbyfloat(name: Key, key: Value, amount?: number | { amount?: number }): P<number>;
  hkeys(name: Key): P<S[]>;
  hlen(name: Key): P<number>;
  hmget(name: Key, keys: Value | readonly Value[], ...args: Value[]): P<Array<S | null>>;
  hmset(name: Key, mapping: Mapping): P<true>;
  hscan(name: Key, cursor?: number | CursorOptions, options?: ScanOptions): P<[number, Record<string, S>]>;
  hset(name: Key, key: Value, value: Value): P<number>;
  hset(name: Key, mapping: Mapping): P<number>;
  hsetnx(name: Key, key: Value, value: Value): P<number>;
  hvals(name: Key): P<S[]>;
  incr(name: Key, amount?: Amount): P<number>;
  incrby(name: Key, amount?: Amount): P<number>;
  incrbyfloat(name: Key, amount?: number | { amount?: number }): P<number>;
  info(section?: string | { section?: string }): P<Record<string, InfoValue>>;
  keys(pattern?: string | { pattern?: string }): P<S[]>;
  lastsave(): P<Date>;
  lindex(name: Key, index: number): P<S | null>;
  linsert(name: Key, where: 'BEFORE' | 'AFTER' | 'before' | 'after', refvalue: Value, value: Value): P<number>;
  llen(name: Key): P<number>;
  lpop(name: Key): P<S | null>;
  lpush(name: Key, ...values: Array<Value | readonly Value[]>): P<number>;
  lpushx(name: Key, value: Value): P<number>;
  lrange(name: Key, start: number, end: number): P<S[]>;
  lrem(name: Key, count: number, value: Value): P<number>;
  lset(name: Key, index: number, value: Value): P<true>;
  ltrim(name: Key, start: number, end: number): P<true>;
  mget(keys: Keys, ...args: Array<Key | readonly Key[]>): P<Array<S | null>>;
  move(name: Key, db: number): P<boolean>;
  mset(mapping: Mapping): P<true>;
  msetnx(mapping: Mapping): P<boolean>;
  object(infotype: string, key: Key): P<Reply>;
  persist(name: Key): P<boolean>;
  pexpire(name: Key, time: number): P<boolean>;
  pexpireat(name: Key, when: number | Date): P<boolean>;
  pfadd(name: Key, ...values: Value[]): P<number>;
  pfcount(...sources: Key[]): P<number>;
  pfmerge(dest: Key, ...sources: Key[]): P<true>;
  ping(): P<boolean>;
  psetex(name: Key, timeMs: number, value: Value): P<true>;
  pttl(name: Key): P<number>;
  publish(channel: string, message: Value): P<number>;
  randomkey(): P<S | null>;
  rename(src: Key, dst: Key): P<true>;
  renamenx(src: Key, dst: Key): P<boolean>;
  restore(name: Key, ttl: number, value: Buffer, options?: { replace?: boolean; absttl?: boolean }): P<true>;
  rpop(name: Key): P<S | null>;
  rpoplpush(src: Key, dst: Key): P<S | null>;
  rpush(name: Key, ...values: Array<Value | readonly Value[]>): P<number>;
  rpushx(name: Key, value: Value): P<number>;
  sadd(name: Key, ...values: Array<Value | readonly Value[]>): P<number>;
  save(): P<true>;
  scan(cursor?: number | CursorOptions, options?: ScanOptions): P<[number, S[]]>;
  scard(name: Key): P<number>;
  script_exists(...shas: string[]): P<boolean[]>;
  script_flush(): P<true>;
  script_kill(): P<true>;
  script_load(script: string): P<string>;
  scriptLoad(script: string): P<string>;
  sdiff(keys: Keys, ...args: Key[]): P<S[]>;
  sdiffstore(dest: Key, keys: Keys, ...args: Key[]): P<number>;
  set(name: Key, value: Value, options?: SetOptions): P<true | null>;
  setbit(name: Key, offset: number, value: 0 | 1 | boolean): P<boolean>;
  setex(name: Key, time: number, value: Value): P<true>;
  setnx(name: Key, value: Value): P<boolean>;
  setrange(name: Key, offset: number, value: Value): P<number>;
  sinter(keys: Keys, ...args: Key[]): P<S[]>;
  sinterstore(dest: Key, keys: Keys, ...args: Key[]): P<number>;
  sismember(name: Key, value: Value): P<boolean>;
  slaveof(host?: string, port?: number): P<true>;
  slowlog_get(num?: number | { num?: number }): P<SlowlogEntry[]>;
  slowlog_len(): P<number>;
  slowlog_reset(): P<true>;
  smembers(name: Key): P<S[]>;
  smove(src: Key, dst: Key, value: Value): P<boolean>;
  sort(name: Key, options?: SortOptions): P<Reply>;
  spop(name: Key): P<S | null>;
  srandmember(name: Key, number?: number | { number?: number }): P<S | S[] | null>;
  srem(name: Key, ...values: Array<Value | readonly Value[]>): P<number>;
  sscan(name: Key, cursor?: number | CursorOptions, options?: ScanOptions): P<[number, S[]]>;
  strlen(name: Key): P<number>;
  substr(name: Key, start: number, end?: number | { end?: number }): P<S>;
  sunion(keys: Keys, ...args: Key[]): P<S[]>;
  sunionstore(dest: Key, keys: Keys, ...args: Key[]): P<number>;
  time(): P<[number, number]>;
  ttl(name: Key): P<number>;
  type(name: Key): P<string>;
  unwatch(): P<true>;
  watch(...names: Key[]): P<true>;
  zadd(name: Key, mapping: Record<string, number>, options?: { nx?: boolean; xx?: boolean; ch?: boolean; incr?: boolean; gt?: boolean; lt?: boolean }): P<number>;
  zadd(name: Key, ...scoreMembers: Array<number | string | Value>): P<number>;
  zcard(name: Key): P<number>;
  zcount(name: Key, min: number | string, max: number | string): P<number>;
  zincrby(name: Key, value: Value, amount?: number | { amount?: number }): P<number>;
  zinterstore(dest: Key, keys: Keys | Record<string, number>, aggregate?: Aggregate | { aggregate?: Aggregate }): P<number>;
  zlexcount(name: Key, min: string, max: string): P<number>;
  zrange(name: Key, start: number, end: number, options: RangeOptions & { withscores: true }): P<ScorePair<S>[]>;
  zrange(name: Key, start: number, end: number, options?: RangeOptions): P<S[]>;
  zrangebylex(name: Key, min: string, max: string, options?: { start?: number; num?: number }): P<S[]>;
  zrangebyscore(name: Key, min: number | string, max: number | string, options: RangeOptions & { withscores: true }): P<ScorePair<S>[]>;
  zrangebyscore(name: Key, min: number | string, max: number | string, options?: RangeOptions): P<S[]>;
  zrank(name: Key, value: Value): P<number | null>;
  zrem(name: Key, ...values: Array<Value | readonly Value[]>): P<number>;
  zremrangebylex(name: Key, min: string, max: string): P<number>;
  zremrangebyrank(name: Key, min: number, max: number): P<number>;
  zremrangebyscore(name: Key, min: number | string, max: number | string): P<number>;
  zrevrange(name: Key, start: number, end: number, options: RangeOptions & { withscores: true }): P<ScorePair<S>[]>;
  zrevrange(name: Key, start: number, end: number, options?: RangeOptions): P<S[]>;
  zrevrangebyscore(name: Key, max: number | string, min: number | string, options: RangeOptions & { withscores: true }): P<ScorePair<S>[]>;
  zrevrangebyscore(name: Key, max: number | string, min: number | string, options?: RangeOptions): P<S[]>;
  zrevrank(name: Key, value: Value): P<number | null>;
  zscan(name: Key, cursor?: number | CursorOptions, options?: ScanOptions): P<[number, ScorePair<S>[]]>;
  zscore(name: Key, value: Value): P<number | null>;
  zunionstore(dest: Key, keys: Keys | Record<string, number>, aggregate?: Aggregate | { aggregate?: Aggregate }): P<number>;
}
