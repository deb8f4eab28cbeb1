/**
 * The reference's calling conventions: keyword arguments as a trailing options object, mappings
 * as plain objects, optional positional arguments, and the reply shapes it documents.
 *
 * This is the only list of command names in the client, and it exists for these conventions
 * alone: every command not listed here still works, with its arguments sent as given and its
 * reply returned as Redis sends it.
 */
import type { Reply } from '../resp/decode.ts';
import { isPlainObject } from '../util/options.ts';
import {
  okToTrue, parseClientList, parseDebugObject, parseInfo, parseScan, parseSlowlog, text,
  toBoolean, toFloat, toObject, toScorePairs,
} from './replies.ts';

export type ReplyTransform = (reply: Reply) => unknown;

/** A command ready to send: full argv (command words first) and how to shape its reply. */
export interface CommandSpec {
  argv: unknown[];
  /** How many leading argv entries name the command ('CLIENT', 'LIST' → 2). */
  words: number;
  reply: ReplyTransform | null;
  buffers?: boolean;
  /**
   * For commands that block on the server: milliseconds they may legitimately wait
   * (null: forever), so the client neither times them out early nor runs them on a
   * shared connection.
   */
  blockFor?: number | null;
  /**
   * Set for commands that change what their connection answers (WATCH, SUBSCRIBE, CLIENT
   * REPLY...): why they need a connection of their own. The shared connection refuses them.
   */
  exclusive?: string;
  /** EVALSHA of a script: its text, sent with EVAL instead when the server answers NOSCRIPT. */
  script?: string;
}

type Convention = (args: unknown[], method: string) => CommandSpec;

/** The command's name for messages: 'SET', 'CLIENT KILL'. */
export function commandName(spec: CommandSpec): string {
  return spec.words === 1 ? String(spec.argv[0]) : spec.argv.slice(0, spec.words).map(String).join(' ');
}


/** Flattens one level of arrays: mget(['a', 'b'], 'c') → a b c. */
export function flat(args: readonly unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const a of args) {
    if (Array.isArray(a)) for (const x of a) out.push(x);
    else out.push(a);
  }
  return out;
}

/** Takes a trailing options object off the arguments and checks its keys. */
function takeOptions(method: string, args: unknown[], allowed: readonly string[]): Record<string, unknown> {
  const last = args[args.length - 1];
  if (!isPlainObject(last)) return {};
  args.pop();
  for (const key of Object.keys(last)) {
    if (!allowed.includes(key)) {
      throw new TypeError(`${method}: unknown option '${key}'; expected one of: ${allowed.join(', ')}`);
    }
  }
  return last;
}

/** Drops trailing undefined arguments: they stand for the reference's optional parameters. */
function trimOptional(args: unknown[]): unknown[] {
  let n = args.length;
  while (n > 0 && args[n - 1] === undefined) n--;
  return n === args.length ? args : args.slice(0, n);
}

function mappingPairs(method: string, mapping: Record<string, unknown>): unknown[] {
  const out: unknown[] = [];
  for (const [k, v] of Object.entries(mapping)) out.push(k, v);
  if (out.length === 0) throw new TypeError(`${method}: the mapping is empty`);
  return out;
}

function toSeconds(method: string, when: unknown): unknown {
  if (when instanceof Date) return Math.floor(when.getTime() / 1000);
  return when;
}

function toMillis(method: string, when: unknown): unknown {
  if (when instanceof Date) return when.getTime();
  return when;
}

function spec(words: string[], rest: unknown[], reply: ReplyTransform | null = null): CommandSpec {
  return { argv: [...words, ...rest], words: words.length, reply };
}

/** Same arguments, shaped reply. */
function shaped(command: string, reply: ReplyTransform): Convention {
  const words = command.split(' ');
  return (args) => spec(words, trimOptional(args), reply);
}

/** Arguments flattened (arrays or varargs), optional shaped reply. */
function flattened(command: string, reply: ReplyTransform | null = null): Convention {
  const words = command.split(' ');
  return (args) => spec(words, flat(args), reply);
}

/** Arguments with defaults for missing trailing positions (incr(name, amount = 1)). */
function defaults(command: string, values: unknown[], reply: ReplyTransform | null = null): Convention {
  const words = command.split(' ');
  return (args) => {
    const a = trimOptional(args).slice();
    for (let i = a.length; i < values.length; i++) if (values[i] !== undefined) a[i] = values[i];
    return spec(words, a, reply);
  };
}

const scorePairs: ReplyTransform = (r) => toScorePairs(r);

function scoreCast(opts: Record<string, unknown>): ReplyTransform {
  const cast = opts['score_cast_func'] ?? opts['scoreCastFunc'];
  if (cast === undefined) return scorePairs;
  if (typeof cast !== 'function') throw new TypeError('score_cast_func must be a function');
  return (r) => toScorePairs(r, (s) => (cast as (s: string) => unknown)(text(s)));
}

function blockingSeconds(timeout: unknown): number | null {
  const t = Number(timeout);
  return Number.isFinite(t) && t > 0 ? t * 1000 : null;
}

/** blpop(keys, timeout = 0): the keys may be one array or several arguments. */
function blockingPop(command: string, reply: ReplyTransform | null): Convention {
  return (args) => {
    const a = trimOptional(args);
    let timeout: unknown = 0;
    let keys: unknown[];
    if (a.length >= 2 && !Array.isArray(a[a.length - 1]) && (typeof a[a.length - 1] === 'number')) {
      timeout = a[a.length - 1];
      keys = flat(a.slice(0, -1));
    } else {
      keys = flat(a);
    }
    return { ...spec([command], [...keys, timeout], reply), blockFor: blockingSeconds(timeout) };
  };
}

/** SET's reply: true for OK, null when NX / XX prevented the write. */
const setReply: ReplyTransform = (r) => (r === null ? null : okToTrue(r));

const SET_OPTIONS = ['ex', 'px', 'exat', 'pxat', 'nx', 'xx', 'keepttl', 'get'] as const;

function zsetRange(command: string, reversed: boolean): Convention {
  return (args, method) => {
    const a = args.slice();
    const o = takeOptions(method, a, ['desc', 'withscores', 'score_cast_func', 'scoreCastFunc', 'start', 'num']);
    const [name, lo, hi] = a;
    const rest: unknown[] = [name, lo, hi];
    let cmd = command;
    if (o['desc'] === true && !reversed && command === 'ZRANGE') cmd = 'ZREVRANGE';
    if (o['start'] !== undefined || o['num'] !== undefined) {
      if (o['start'] === undefined || o['num'] === undefined) throw new TypeError(`${method}: start and num must be given together`);
      rest.push('LIMIT', o['start'], o['num']);
    }
    if (o['withscores'] === true) {
      rest.splice(3, 0, 'WITHSCORES');
      return spec([cmd], rest, scoreCast(o));
    }
    return spec([cmd], rest);
  };
}

/**
 * zinterstore(dest, keys, aggregate = None): `keys` is a list of names or a { name: weight }
 * mapping, so only an object after it can hold the keyword `aggregate`.
 */
function zsetStore(command: string): Convention {
  return (args, method) => {
    const a = args.slice();
    const o = a.length > 2 ? takeOptions(method, a, ['aggregate']) : {};
    const [dest, keys, aggregate] = a;
    const rest: unknown[] = [dest];
    if (isPlainObject(keys)) {
      const names = Object.keys(keys);
      rest.push(names.length, ...names, 'WEIGHTS', ...Object.values(keys));
    } else {
      const names = flat([keys]);
      rest.push(names.length, ...names);
    }
    const agg = aggregate ?? o['aggregate'];
    if (agg !== undefined) rest.push('AGGREGATE', agg);
    return spec([command], rest);
  };
}

function scanConvention(command: string, hasKey: boolean, reply: ReplyTransform): Convention {
  return (args, method) => {
    const a = args.slice();
    const o = takeOptions(method, a, ['match', 'count', 'type', '_type', 'score_cast_func', 'scoreCastFunc', 'novalues']);
    const key = hasKey ? [a.shift()] : [];
    const cursor = a[0] ?? 0;
    const rest: unknown[] = [...key, cursor];
    if (o['match'] !== undefined) rest.push('MATCH', o['match']);
    if (o['count'] !== undefined) rest.push('COUNT', o['count']);
    const type = o['type'] ?? o['_type'];
    if (type !== undefined) rest.push('TYPE', type);
    if (o['novalues'] === true) rest.push('NOVALUES');
    const cast = o['score_cast_func'] ?? o['scoreCastFunc'];
    return spec([command], rest, cast !== undefined ? (r) => {
      const [c, items] = parseScan(r);
      return [c, toScorePairs(items, (s) => (cast as (s: string) => unknown)(text(s)))];
    } : reply);
  };
}

function mapping(command: string, reply: ReplyTransform | null): Convention {
  return (args, method) => {
    const rest = args.length === 1 && isPlainObject(args[0]) ? mappingPairs(method, args[0]) : flat(args);
    return spec([command], rest, reply);
  };
}

const CONVENTIONS = new Map<string, Convention>([
  // strings and keys
  ['set', (args, method) => {
    // set(name, value), by far the most common call: no options to look at.
    if (args.length === 2 && !isPlainObject(args[1])) return { argv: ['SET', args[0], args[1]], words: 1, reply: setReply };
    const a = args.slice();
    const o = takeOptions(method, a, SET_OPTIONS);
    if (a.length !== 2) throw new TypeError(`${method}: expected (name, value, options?), got ${a.length} positional arguments`);
    const rest: unknown[] = [a[0], a[1]];
    if (o['ex'] !== undefined && o['ex'] !== null) rest.push('EX', o['ex']);
    if (o['px'] !== undefined && o['px'] !== null) rest.push('PX', o['px']);
    if (o['exat'] !== undefined && o['exat'] !== null) rest.push('EXAT', toSeconds(method, o['exat']));
    if (o['pxat'] !== undefined && o['pxat'] !== null) rest.push('PXAT', toMillis(method, o['pxat']));
    if (o['nx'] === true) rest.push('NX');
    if (o['xx'] === true) rest.push('XX');
    if (o['keepttl'] === true) rest.push('KEEPTTL');
    if (o['get'] === true) {
      rest.push('GET');
      return spec(['SET'], rest);
    }
    return spec(['SET'], rest, setReply);
  }],
  ['setex', shaped('SETEX', okToTrue)],
  ['psetex', shaped('PSETEX', okToTrue)],
  ['setnx', shaped('SETNX', toBoolean)],
  ['mset', mapping('MSET', okToTrue)],
  ['msetnx', mapping('MSETNX', toBoolean)],
  ['getbit', shaped('GETBIT', toBoolean)],
  ['setbit', (args) => spec(['SETBIT'], [args[0], args[1], typeof args[2] === 'boolean' ? (args[2] ? 1 : 0) : args[2]], toBoolean)],
  ['exists', (args) => {
    const names = flat(args);
    return spec(['EXISTS'], names, args.length === 1 && !Array.isArray(args[0]) ? toBoolean : null);
  }],
  ['expire', shaped('EXPIRE', toBoolean)],
  ['pexpire', shaped('PEXPIRE', toBoolean)],
  ['expireat', (args, m) => spec(['EXPIREAT'], [args[0], toSeconds(m, args[1]), ...args.slice(2)], toBoolean)],
  ['pexpireat', (args, m) => spec(['PEXPIREAT'], [args[0], toMillis(m, args[1]), ...args.slice(2)], toBoolean)],
  ['persist', shaped('PERSIST', toBoolean)],
  ['move', shaped('MOVE', toBoolean)],
  ['rename', shaped('RENAME', okToTrue)],
  ['renamenx', shaped('RENAMENX', toBoolean)],
  ['delete', flattened('DEL')],
  ['del', flattened('DEL')],
  ['unlink', flattened('UNLINK')],
  ['touch', flattened('TOUCH')],
  ['mget', flattened('MGET')],
  ['incr', defaults('INCRBY', [undefined, 1])],
  ['incrby', defaults('INCRBY', [undefined, 1])],
  ['decr', defaults('DECRBY', [undefined, 1])],
  ['decrby', defaults('DECRBY', [undefined, 1])],
  ['incrbyfloat', defaults('INCRBYFLOAT', [undefined, 1.0], toFloat)],
  ['substr', defaults('SUBSTR', [undefined, undefined, -1])],
  ['bitop', flattened('BITOP')],
  ['dump', (args) => ({ ...spec(['DUMP'], args), buffers: true })],
  ['restore', (args, method) => {
    const a = args.slice();
    const o = takeOptions(method, a, ['replace', 'absttl', 'idletime', 'frequency']);
    const rest = [...a];
    if (o['replace'] === true) rest.push('REPLACE');
    if (o['absttl'] === true) rest.push('ABSTTL');
    if (o['idletime'] !== undefined) rest.push('IDLETIME', o['idletime']);
    if (o['frequency'] !== undefined) rest.push('FREQ', o['frequency']);
    return spec(['RESTORE'], rest, okToTrue);
  }],
  ['keys', defaults('KEYS', ['*'])],
  ['object', (args) => spec(['OBJECT'], args)],
  ['sort', (args, method) => {
    const a = args.slice();
    const o = takeOptions(method, a, ['start', 'num', 'by', 'get', 'desc', 'alpha', 'store', 'groups']);
    const rest: unknown[] = [a[0]];
    if (o['by'] !== undefined) rest.push('BY', o['by']);
    if (o['start'] !== undefined || o['num'] !== undefined) {
      if (o['start'] === undefined || o['num'] === undefined) throw new TypeError(`${method}: start and num must be given together`);
      rest.push('LIMIT', o['start'], o['num']);
    }
    const gets = o['get'] === undefined ? [] : flat([o['get']]);
    for (const g of gets) rest.push('GET', g);
    if (o['desc'] === true) rest.push('DESC');
    if (o['alpha'] === true) rest.push('ALPHA');
    if (o['store'] !== undefined) rest.push('STORE', o['store']);
    if (o['groups'] === true) {
      if (gets.length < 2) throw new TypeError(`${method}: groups needs at least two 'get' patterns`);
      return spec(['SORT'], rest, (r) => {
        const items = r as Reply[];
        const out: Reply[][] = [];
        for (let i = 0; i < items.length; i += gets.length) out.push(items.slice(i, i + gets.length));
        return out;
      });
    }
    return spec(['SORT'], rest);
  }],
  // server
  ['ping', (args) => spec(['PING'], trimOptional(args), args[0] === undefined ? (r) => text(r) === 'PONG' : null)],
  ['time', shaped('TIME', (r) => (r as Reply[]).map((x) => Number(text(x))))],
  ['lastsave', shaped('LASTSAVE', (r) => new Date(Number(r) * 1000))],
  ['info', shaped('INFO', parseInfo)],
  ['config_get', defaults('CONFIG GET', ['*'], toObject)],
  ['config_set', shaped('CONFIG SET', okToTrue)],
  ['config_resetstat', shaped('CONFIG RESETSTAT', okToTrue)],
  ['config_rewrite', shaped('CONFIG REWRITE', okToTrue)],
  ['client_list', shaped('CLIENT LIST', parseClientList)],
  ['client_setname', shaped('CLIENT SETNAME', okToTrue)],
  ['client_kill', shaped('CLIENT KILL', okToTrue)],
  ['flushall', (args, m) => flushConvention('FLUSHALL', args, m)],
  ['flushdb', (args, m) => flushConvention('FLUSHDB', args, m)],
  ['save', shaped('SAVE', okToTrue)],
  ['bgsave', shaped('BGSAVE', () => true)],
  ['bgrewriteaof', shaped('BGREWRITEAOF', () => true)],
  ['slowlog_get', shaped('SLOWLOG GET', parseSlowlog)],
  ['slowlog_reset', shaped('SLOWLOG RESET', okToTrue)],
  ['script_exists', flattened('SCRIPT EXISTS', (r) => (r as Reply[]).map(toBoolean))],
  ['script_flush', shaped('SCRIPT FLUSH', okToTrue)],
  ['script_kill', shaped('SCRIPT KILL', okToTrue)],
  ['debug_object', shaped('DEBUG OBJECT', parseDebugObject)],
  ['slaveof', (args) => spec(['SLAVEOF'], args[0] === undefined ? ['NO', 'ONE'] : trimOptional(args), okToTrue)],
  ['replicaof', (args) => spec(['REPLICAOF'], args[0] === undefined ? ['NO', 'ONE'] : trimOptional(args), okToTrue)],
  ['watch', flattened('WATCH', okToTrue)],
  ['unwatch', shaped('UNWATCH', okToTrue)],
  ['eval', flattened('EVAL')],
  ['evalsha', flattened('EVALSHA')],
  ['select', shaped('SELECT', okToTrue)],
  ['sentinel_get_master_addr_by_name', shaped('SENTINEL GET-MASTER-ADDR-BY-NAME', (r) => (Array.isArray(r) ? [text(r[0]), Number(text(r[1]))] : null))],
  ['sentinel_master', shaped('SENTINEL MASTER', toObject)],
  ['sentinel_masters', shaped('SENTINEL MASTERS', (r) => (r as Reply[]).map(toObject))],
  ['sentinel_slaves', shaped('SENTINEL SLAVES', (r) => (r as Reply[]).map(toObject))],
  ['sentinel_sentinels', shaped('SENTINEL SENTINELS', (r) => (r as Reply[]).map(toObject))],
  ['sentinel_monitor', shaped('SENTINEL MONITOR', okToTrue)],
  ['sentinel_remove', shaped('SENTINEL REMOVE', okToTrue)],
  ['sentinel_set', shaped('SENTINEL SET', okToTrue)],
  ['scan', scanConvention('SCAN', false, parseScan)],
  // hashes
  ['hset', (args, method) => {
    if (args.length === 2 && isPlainObject(args[1])) return spec(['HSET'], [args[0], ...mappingPairs(method, args[1])]);
    return spec(['HSET'], flat(args));
  }],
  ['hmset', (args, method) => {
    if (!isPlainObject(args[1])) throw new TypeError(`${method}: expected (name, mapping)`);
    return spec(['HMSET'], [args[0], ...mappingPairs(method, args[1])], okToTrue);
  }],
  ['hgetall', shaped('HGETALL', toObject)],
  ['hexists', shaped('HEXISTS', toBoolean)],
  ['hincrby', defaults('HINCRBY', [undefined, undefined, 1])],
  ['hincrbyfloat', defaults('HINCRBYFLOAT', [undefined, undefined, 1.0], toFloat)],
  ['hmget', flattened('HMGET')],
  ['hdel', flattened('HDEL')],
  ['hscan', scanConvention('HSCAN', true, (r) => {
    const [c, items] = parseScan(r);
    return [c, toObject(items)];
  })],
  // lists
  ['blpop', blockingPop('BLPOP', null)],
  ['brpop', blockingPop('BRPOP', null)],
  ['brpoplpush', (args) => {
    const timeout = args[2] ?? 0;
    return { ...spec(['BRPOPLPUSH'], [args[0], args[1], timeout]), blockFor: blockingSeconds(timeout) };
  }],
  ['blmove', (args) => {
    const timeout = args[4] ?? 0;
    return { ...spec(['BLMOVE'], [args[0], args[1], args[2], args[3], timeout]), blockFor: blockingSeconds(timeout) };
  }],
  ['lpush', flattened('LPUSH')],
  ['rpush', flattened('RPUSH')],
  ['lset', shaped('LSET', okToTrue)],
  ['ltrim', shaped('LTRIM', okToTrue)],
  // sets
  ['sadd', flattened('SADD')],
  ['srem', flattened('SREM')],
  ['sismember', shaped('SISMEMBER', toBoolean)],
  ['smove', shaped('SMOVE', toBoolean)],
  ['sdiff', flattened('SDIFF')],
  ['sinter', flattened('SINTER')],
  ['sunion', flattened('SUNION')],
  ['sdiffstore', flattened('SDIFFSTORE')],
  ['sinterstore', flattened('SINTERSTORE')],
  ['sunionstore', flattened('SUNIONSTORE')],
  ['sscan', scanConvention('SSCAN', true, parseScan)],
  // sorted sets
  ['zadd', (args, method) => {
    const a = args.slice();
    const name = a.shift();
    const rest: unknown[] = [name];
    let pairs: unknown[] = [];
    let opts: Record<string, unknown> = {};
    if (isPlainObject(a[0])) {
      for (const [member, score] of Object.entries(a[0])) pairs.push(score, member);
      if (a.length > 1) opts = takeOptions(method, a, ['nx', 'xx', 'ch', 'incr', 'gt', 'lt']);
    } else {
      // score1, member1, ... optionally followed by a { member: score } mapping
      const last = a[a.length - 1];
      if (isPlainObject(last)) {
        a.pop();
        for (const [m, s] of Object.entries(last)) a.push(s, m);
      }
      if (a.length % 2 !== 0) throw new TypeError(`${method}: expected score, member pairs or a { member: score } mapping`);
      pairs = a;
    }
    for (const flag of ['nx', 'xx', 'gt', 'lt', 'ch', 'incr']) if (opts[flag] === true) rest.push(flag.toUpperCase());
    rest.push(...pairs);
    return spec(['ZADD'], rest, opts['incr'] === true ? toFloat : null);
  }],
  ['zrange', zsetRange('ZRANGE', false)],
  ['zrevrange', zsetRange('ZREVRANGE', true)],
  ['zrangebyscore', zsetRange('ZRANGEBYSCORE', false)],
  ['zrevrangebyscore', zsetRange('ZREVRANGEBYSCORE', true)],
  ['zrangebylex', zsetRange('ZRANGEBYLEX', false)],
  ['zrevrangebylex', zsetRange('ZREVRANGEBYLEX', true)],
  ['zincrby', (args) => spec(['ZINCRBY'], [args[0], args[2] ?? 1, args[1]], toFloat)],
  ['zscore', shaped('ZSCORE', toFloat)],
  ['zrem', flattened('ZREM')],
  ['zinterstore', zsetStore('ZINTERSTORE')],
  ['zunionstore', zsetStore('ZUNIONSTORE')],
  ['zscan', scanConvention('ZSCAN', true, (r) => {
    const [c, items] = parseScan(r);
    return [c, toScorePairs(items)];
  })],
  ['zpopmin', shaped('ZPOPMIN', scorePairs)],
  ['zpopmax', shaped('ZPOPMAX', scorePairs)],
  ['bzpopmin', blockingPop('BZPOPMIN', (r) => (Array.isArray(r) ? [r[0], r[1], toFloat(r[2] as Reply)] : r))],
  ['bzpopmax', blockingPop('BZPOPMAX', (r) => (Array.isArray(r) ? [r[0], r[1], toFloat(r[2] as Reply)] : r))],
  // hyperloglog
  ['pfadd', flattened('PFADD')],
  ['pfcount', flattened('PFCOUNT')],
  ['pfmerge', flattened('PFMERGE', okToTrue)],
]);

function flushConvention(command: string, args: unknown[], method: string): CommandSpec {
  const a = args.slice();
  const o = takeOptions(method, a, ['asynchronous']);
  return spec([command], o['asynchronous'] === true ? ['ASYNC'] : trimOptional(a), okToTrue);
}

/**
 * The reference's method signatures, as Python declares them: `name=default` is optional,
 * `*name` takes the rest (a list or several arguments), `&name` may be a mapping (an object in
 * that position is the mapping, never keywords), and a trailing `**` hands every keyword that
 * is not a parameter to the command's own options (set's ex / nx, zrange's withscores, ...).
 * Methods of the client itself (pipeline, lock, transaction, ...) are not commands: not here.
 */
const SIGNATURES: Record<string, string> = {
  append: 'key value', bgrewriteaof: '', bgsave: '', bitcount: 'key start= end=',
  bitop: 'operation dest *keys', bitpos: 'key bit start= end=',
  blpop: '*keys timeout=0', brpop: '*keys timeout=0', brpoplpush: 'src dst timeout=0',
  client_getname: '', client_kill: 'address', client_list: '', client_setname: 'name',
  config_get: 'pattern=*', config_resetstat: '', config_rewrite: '', config_set: 'name value',
  dbsize: '', debug_object: 'key', decr: 'name amount=1', decrby: 'name amount=1', delete: '*names',
  dump: 'name', echo: 'value', eval: 'script numkeys *keys_and_args', evalsha: 'sha numkeys *keys_and_args',
  exists: 'name', expire: 'name time', expireat: 'name when', flushall: '**', flushdb: '**',
  get: 'name', getbit: 'name offset', getrange: 'key start end', getset: 'name value',
  hdel: 'name *keys', hexists: 'name key', hget: 'name key', hgetall: 'name',
  hincrby: 'name key amount=1', hincrbyfloat: 'name key amount=1', hkeys: 'name', hlen: 'name',
  hmget: 'name keys *args', hmset: 'name &mapping', hscan: 'name cursor=0 **', hset: 'name &key value',
  hsetnx: 'name key value', hvals: 'name', incr: 'name amount=1', incrby: 'name amount=1',
  incrbyfloat: 'name amount=1', info: 'section=', keys: 'pattern=*', lastsave: '',
  lindex: 'name index', linsert: 'name where refvalue value', llen: 'name', lpop: 'name',
  lpush: 'name *values', lpushx: 'name value', lrange: 'name start end', lrem: 'name count value',
  lset: 'name index value', ltrim: 'name start end', mget: 'keys *args', move: 'name db',
  object: 'infotype key', persist: 'name', pexpire: 'name time', pexpireat: 'name when',
  pfadd: 'name *values', pfcount: '*sources', pfmerge: 'dest *sources', ping: '',
  psetex: 'name time_ms value', pttl: 'name', publish: 'channel message', randomkey: '',
  rename: 'src dst', renamenx: 'src dst', restore: 'name ttl value **', rpop: 'name',
  rpoplpush: 'src dst', rpush: 'name *values', rpushx: 'name value', sadd: 'name *values', save: '',
  scan: 'cursor=0 **', scard: 'name', script_exists: '*args', script_flush: '', script_kill: '',
  script_load: 'script', sdiff: 'keys *args', sdiffstore: 'dest keys *args', sentinel: '*args',
  sentinel_get_master_addr_by_name: 'service_name', sentinel_master: 'service_name',
  sentinel_masters: '', sentinel_monitor: 'name ip port quorum', sentinel_remove: 'name',
  sentinel_sentinels: 'service_name', sentinel_set: 'name option value', sentinel_slaves: 'service_name',
  set: 'name value **', setbit: 'name offset value', setex: 'name time value', setnx: 'name value',
  setrange: 'name offset value', shutdown: '', sinter: 'keys *args', sinterstore: 'dest keys *args',
  sismember: 'name value', slaveof: 'host= port=', slowlog_get: 'num=', slowlog_len: '',
  slowlog_reset: '', smembers: 'name', smove: 'src dst value', sort: 'name **', spop: 'name',
  srandmember: 'name number=', srem: 'name *values', sscan: 'name cursor=0 **', strlen: 'name',
  substr: 'name start end=-1', sunion: 'keys *args', sunionstore: 'dest keys *args', time: '',
  ttl: 'name', type: 'name', unwatch: '', watch: '*names', zcard: 'name', zcount: 'name min max',
  zincrby: 'name value amount=1', zinterstore: 'dest &keys aggregate=', zlexcount: 'name min max',
  zrange: 'name start end **', zrangebylex: 'name min max **', zrangebyscore: 'name min max **',
  zrank: 'name value', zrem: 'name *values', zremrangebylex: 'name min max',
  zremrangebyrank: 'name min max', zremrangebyscore: 'name min max', zrevrange: 'name start end **',
  zrevrangebyscore: 'name max min **', zrevrank: 'name value', zscan: 'name cursor=0 **',
  zscore: 'name value', zunionstore: 'dest &keys aggregate=',
};

interface Parameter {
  name: string;
  /** undefined: required (or a rest parameter); null: optional with no value (Python's None). */
  default: unknown;
  rest: boolean;
  mapping: boolean;
}

interface Signature {
  params: Parameter[];
  /** Parameter index by keyword, snake_case and camelCase (time_ms, timeMs). */
  index: Map<string, number>;
  /** Index of the `*rest` parameter, or -1. */
  rest: number;
  /** Other keywords go to the command's own options. */
  passOn: boolean;
}

function parseSignature(text: string): Signature {
  const params: Parameter[] = [];
  const index = new Map<string, number>();
  let passOn = false;
  for (const word of text.split(' ').filter((w) => w !== '')) {
    if (word === '**') {
      passOn = true;
      continue;
    }
    const rest = word.startsWith('*');
    const mapping = word.startsWith('&');
    const [bare, dflt] = word.replace(/^[*&]/, '').split('=') as [string, string | undefined];
    const value = dflt === undefined ? undefined : dflt === '' ? null : /^-?\d+$/.test(dflt) ? Number(dflt) : dflt;
    index.set(bare, params.length);
    index.set(bare.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), params.length);
    params.push({ name: bare, default: value, rest, mapping });
  }
  return { params, index, rest: params.findIndex((p) => p.rest), passOn };
}

/**
 * Python's keyword arguments, as a trailing object: each named parameter goes to its position
 * (after the rest of the arguments when it follows a `*rest` that was given positionally),
 * skipped optional positions take their defaults, and what is left is the command's options.
 */
function placeKeywords(method: string, sig: Signature, args: unknown[]): unknown[] {
  const last = args.length - 1;
  if (last < 0 || !isPlainObject(args[last]) || sig.params[last]?.mapping === true) return args;
  const keywords = args[last] as Record<string, unknown>;
  const out = args.slice(0, last);
  const given = out.length;
  const tail: Array<[number, unknown]> = [];
  let options: Record<string, unknown> | null = null;
  for (const [key, value] of Object.entries(keywords)) {
    const i = sig.index.get(key);
    if (i === undefined) {
      if (!sig.passOn) {
        const names = sig.params.map((p) => p.name);
        throw new TypeError(`${method}: unknown keyword '${key}'; ${names.length > 0 ? `expected one of: ${names.join(', ')}` : 'it takes no arguments'}`);
      }
      (options ??= {})[key] = value;
      continue;
    }
    if (value === undefined) continue;
    if (sig.rest >= 0 && i > sig.rest && given > sig.rest) tail.push([i, value]);
    else if (i < given) throw new TypeError(`${method}: got multiple values for argument '${sig.params[i]!.name}'`);
    else out[i] = value;
  }
  for (let i = given; i < out.length; i++) {
    if (out[i] !== undefined) continue;
    const p = sig.params[i]!;
    if (p.rest) out[i] = [];
    else if (p.default !== undefined) out[i] = p.default ?? undefined;
    else throw new TypeError(`${method}: missing argument '${p.name}'`);
  }
  // Required parameters neither given nor named (past a rest parameter given positionally,
  // nothing can be told missing).
  if (sig.rest < 0 || given <= sig.rest) {
    for (let i = out.length; i < sig.params.length; i++) {
      const p = sig.params[i]!;
      if (!p.rest && p.default === undefined && !tail.some(([t]) => t === i)) throw new TypeError(`${method}: missing argument '${p.name}'`);
    }
  }
  tail.sort((x, y) => x[0] - y[0]);
  for (const [, value] of tail) out.push(value);
  if (options !== null) out.push(options);
  return out;
}

/** A command the reference names but shapes no differently: its arguments flattened, as sent. */
function plain(key: string): Convention {
  const words = key.split('_').map((w) => w.toUpperCase());
  return (args) => {
    const s = spec(words, flat(args));
    const blockFor = blockingTimeout(words[0]!, s.argv);
    if (blockFor !== undefined) s.blockFor = blockFor;
    return s;
  };
}

function withKeywords(sig: Signature, convention: Convention): Convention {
  return (args, method) => convention(placeKeywords(method, sig, args), method);
}

/**
 * Every method the reference names or shapes, its keyword arguments placed first; made when a
 * method is first called (parsing every signature at load would cost start-up), null when the
 * reference has none.
 */
const METHODS = new Map<string, Convention | null>();

/**
 * The reference's parameters for a method key ('incr' → name, amount), if it names them; a
 * rest parameter is marked `*`, one that may be a mapping `&`.
 */
export function referenceParameters(key: string): readonly string[] | undefined {
  const text = SIGNATURES[key];
  return text === undefined ? undefined : parseSignature(text).params.map((p) => (p.rest ? '*' : p.mapping ? '&' : '') + p.name);
}

/** The convention for a method key ('zrange', 'client_list'), if the reference documents one. */
export function conventionFor(key: string): Convention | undefined {
  let convention = METHODS.get(key);
  if (convention === undefined) {
    const text = Object.hasOwn(SIGNATURES, key) ? SIGNATURES[key] : undefined;
    convention = text !== undefined ? withKeywords(parseSignature(text), CONVENTIONS.get(key) ?? plain(key)) : CONVENTIONS.get(key) ?? null;
    METHODS.set(key, convention);
  }
  return convention ?? undefined;
}

/** Server-side blocking for commands whose timeout is not their last argument. */
export function blockingTimeout(command: string, argv: readonly unknown[]): number | null | undefined {
  switch (command) {
    case 'BLMPOP':
    case 'BZMPOP':
      return blockingSeconds(argv[1]);
    case 'XREAD':
    case 'XREADGROUP': {
      for (let i = 1; i < argv.length - 1; i++) {
        if (String(argv[i]).toUpperCase() === 'BLOCK') {
          const ms = Number(argv[i + 1]);
          return Number.isFinite(ms) && ms > 0 ? ms : null;
        }
        if (String(argv[i]).toUpperCase() === 'STREAMS') break;
      }
      return undefined;
    }
    case 'BLPOP':
    case 'BRPOP':
    case 'BRPOPLPUSH':
    case 'BLMOVE':
    case 'BZPOPMIN':
    case 'BZPOPMAX':
      return blockingSeconds(argv[argv.length - 1]);
    case 'WAIT':
    case 'WAITAOF': {
      const ms = Number(argv[argv.length - 1]);
      return Number.isFinite(ms) && ms > 0 ? ms : null;
    }
    default:
      return undefined;
  }
}
