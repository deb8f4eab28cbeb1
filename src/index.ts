/**
 * redisdb: one Redis server (ConstRedis), a ketama-sharded ring of servers (RedisRing), or
 * client-side master/master copies (RedisCopy), used as a cache and a database.
 */
export { ConstRedis, ConstRedisBase, commandProxy } from './client/const-redis.js';
export type { ConstRedisConstructor } from './client/const-redis.js';
export type { CommandMethod, ReferenceCommands, SetOptions, RangeOptions, ScanOptions, SortOptions, ScorePair, Bulk, Key, Value, Mapping } from './client/types.js';
export type { CommandSpec } from './client/conventions.js';
export { CommandTable, keyPositions, type CommandInfo } from './client/command-table.js';
export { Connection, type SendOptions } from './connection/connection.js';
export { parseRedisUrl, resolveOptions, type ClientOptions, type ResolvedOptions, type TlsOptions } from './connection/options.js';
export { Decoder, type Reply, type DecoderOptions } from './resp/decode.js';
export { RequestWriter, encodeCommand, type CommandArg } from './resp/encode.js';
export {
  RedisError, ReplyError, ProtocolError, ConnectionError, TimeoutError, AuthError, WatchError,
  CrossNodeError, NodeDownError, LockError, ConfigError,
} from './errors.js';
