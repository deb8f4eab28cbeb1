/**
 * redisdb: one Redis server (ConstRedis), a ketama-sharded ring of servers (RedisRing), or
 * client-side master/master copies (RedisCopy), used as a cache and a database.
 */
export { ConstRedis, ConstRedisBase, clientProxy as commandProxy } from './client/const-redis.js';
export type { ConstRedisConstructor, StrictRedis } from './client/const-redis.js';
export type { RedisCommands, BackendCommands, PerNodeCommandName } from './client/commands.js';
export type { CoreCommands, WriteCommandName, KeylessCommandName } from './client/commands.generated.js';
export type { CommandMethod, ReferenceCommands, SetOptions, RangeOptions, ScanOptions, SortOptions, ScorePair, Bulk, Key, Value, Mapping, ResponseCallback } from './client/types.js';
export type { CommandSpec } from './client/conventions.js';
export { CommandTable, keyPositions, type CommandInfo } from './client/command-table.js';
export { Connection, type SendOptions, type BatchCommand, type ReplyShape } from './connection/connection.js';
export { parseRedisUrl, resolveOptions, type ClientOptions, type ResolvedOptions, type TlsOptions } from './connection/options.js';
export { Decoder, type Reply, type DecoderOptions } from './resp/decode.js';
export { RequestWriter, encodeCommand, validateArgs, numberToArg, type CommandArg } from './resp/encode.js';
export {
  RedisError, ReplyError, ProtocolError, ConnectionError, TimeoutError, AuthError, WatchError,
  CrossNodeError, NodeDownError, LockError, ConfigError,
} from './errors.js';

// Pipelines, transactions, pub/sub, scripts, locks, scans (one node).
export { PipelineBase, type Pipeline, type PipelineOf, type PipelineOptions, type ExecOptions, type LoadableScript } from './client/pipeline.js';
export { WatchedPipelineBase, type WatchedPipeline, type TransactionOptions, type TransactionFunction } from './client/transaction.js';
export { PubSub, type PubSubMessage, type PubSubOptions, type MessageHandler } from './client/pubsub.js';
export { Lock, type LockOptions, type AcquireOptions } from './client/lock.js';
export type { Script, ScriptArg } from './client/script.js';
export type { ScanIterOptions } from './client/scan.js';

// Backends: a ring of shards and client-side copies.
export {
  RedisRing, RedisRingBase, RedisCopy, RedisCopyBase, Backend, NodesFailedError,
  type RedisRingConstructor, type RedisCopyConstructor, type BackendMethod, type StrictRing, type StrictCopy,
  type BackendOptions, type NodeOptions, type NodeSpec, type PlacementOptions, type ReferenceParams, type Hashing,
} from './backends/index.js';
export { BackendPipelineBase, type BackendPipeline } from './backends/pipeline.js';
export { NodeHealth, type NodeState } from './backends/health.js';
export type { HealthOptions, NodeHealthOptions, WriteQuorum, CopyWriteOptions } from './backends/config.js';
export { HintStore } from './backends/hints.js';
export { WriteQuorumError, type WriteOutcome } from './backends/replicate.js';
export { ResyncError, type ResyncProgress, type ResyncOptions } from './backends/resync.js';
export { BackendPubSub } from './backends/pubsub.js';
export { Redlock } from './backends/redlock.js';
export {
  Continuum, md5, md5Hex, hashTagged,
  type ContinuumNode, type ContinuumOptions, type DistributionMode, type EmptyKeyHash, type KeyPlacement,
} from './hash/index.js';

// The cache facade and Django-style configuration.
// Importing the cache layer also gives every client and backend its `.cache` facade.
export {
  Cache, KeyNotFoundError, jsonSerializer, DEFAULT_TIMEOUT_SECONDS, defaultKeyFunction,
  RedisdbKeyvStore, redisdbKeyvStore,
  type CacheOptions, type KeyFunction, type Serializer, type CacheBackend, type ResolvedCacheOptions,
  type KeyvEntry, type KeyvStoreOptions,
} from './cache/index.js';
export {
  createCaches, closeAll, attachCache, cachesFromEnv, readCachesFile, parseLocation, CACHES_ENV,
  type Caches, type CacheConfig, type CachesConfig, type ConfiguredBackend,
} from './config/index.js';
