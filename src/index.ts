/**
 * redisdb: one Redis server (ConstRedis), a ketama-sharded ring of servers (RedisRing), or
 * client-side master/master copies (RedisCopy), used as a cache and a database.
 */
export { ConstRedis, ConstRedisBase, clientProxy as commandProxy } from './client/const-redis.ts';
export type { ConstRedisConstructor, StrictRedis } from './client/const-redis.ts';
export type { RedisCommands, BackendCommands, PerNodeCommandName } from './client/commands.ts';
export type { CoreCommands, WriteCommandName, KeylessCommandName } from './client/commands.generated.ts';
export type { CommandMethod, ReferenceCommands, SetOptions, RangeOptions, ScanOptions, SortOptions, ScorePair, Bulk, Key, Value, Mapping, ResponseCallback } from './client/types.ts';
export type { CommandSpec } from './client/conventions.ts';
export { CommandTable, keyPositions, type CommandInfo } from './client/command-table.ts';
export { Connection, type SendOptions, type BatchCommand, type ReplyShape, type PushListener } from './connection/connection.ts';
export { parseRedisUrl, resolveOptions, type ClientOptions, type ResolvedOptions, type TlsOptions } from './connection/options.ts';
export { NearCache, type NearCacheStats } from './client/near-cache/near-cache.ts';
export { NEAR_CACHE_DEFAULTS, type NearCacheOptions, type NearCacheSettings, type NearCacheMode } from './connection/near-cache-options.ts';
export { Decoder, type Reply, type DecoderOptions } from './resp/decode.ts';
export { RequestWriter, encodeCommand, validateArgs, numberToArg, type CommandArg } from './resp/encode.ts';
export {
  RedisError, ReplyError, ProtocolError, ConnectionError, TimeoutError, AuthError, WatchError,
  CrossNodeError, CrossSlotError, NodeDownError, LockError, ConfigError,
  SentinelUnreachableError, UnknownServiceError, MasterUnreachableError,
} from './errors.ts';

// Pipelines, transactions, pub/sub, scripts, locks, scans (one node).
export { PipelineBase, type Pipeline, type PipelineOf, type PipelineOptions, type ExecOptions, type LoadableScript } from './client/pipeline.ts';
export { WatchedPipelineBase, type WatchedPipeline, type TransactionOptions, type TransactionFunction } from './client/transaction.ts';
export { PubSub, type PubSubMessage, type PubSubOptions, type MessageHandler } from './client/pubsub.ts';
export { Lock, type LockOptions, type AcquireOptions } from './client/lock.ts';
export type { Script, ScriptArg } from './client/script.ts';
export type { ScanIterOptions } from './client/scan.ts';

// Backends: a ring of shards and client-side copies.
export {
  RedisRing, RedisRingBase, RedisCopy, RedisCopyBase, RedisCluster, RedisClusterBase, SlotPlacement, Backend, NodesFailedError,
  ClusterRefreshError, TooManyRedirectionsError,
  type RedisClusterConstructor, type StrictCluster, type ClusterOptionsInput, type ClusterConstructorOptions, type ClusterParams, type ReadFrom,
  type RedisRingConstructor, type RedisCopyConstructor, type BackendMethod, type StrictRing, type StrictCopy,
  type BackendOptions, type NodeOptions, type NodeSpec, type PlacementOptions, type ReferenceParams, type Hashing,
} from './backends/index.ts';
export { BackendPipelineBase, type BackendPipeline } from './backends/pipeline.ts';
export { migrate, verifyMigration, type MigrateProgress, type MigrateOptions, type VerifyResult, type MigrateEnd } from './backends/migrate.ts';
export { NodeHealth, type NodeState } from './backends/health.ts';
export type { HealthOptions, NodeHealthOptions, WriteQuorum, CopyWriteOptions } from './backends/config.ts';
export { HintStore } from './backends/hints.ts';
export { WriteQuorumError, type WriteOutcome } from './backends/replicate.ts';
export { ResyncError, type ResyncProgress, type ResyncOptions } from './backends/resync.ts';
export { BackendPubSub } from './backends/pubsub.ts';
export { Redlock } from './backends/redlock.ts';
export {
  Continuum, md5, md5Hex, hashTagged, crc16, slotOf, SLOT_COUNT,
  type ContinuumNode, type ContinuumOptions, type DistributionMode, type EmptyKeyHash, type KeyPlacement,
} from './hash/index.ts';

// The cache facade and Django-style configuration.
// Importing the cache layer also gives every client and backend its `.cache` facade.
export {
  Cache, KeyNotFoundError, jsonSerializer, DEFAULT_TIMEOUT_SECONDS, defaultKeyFunction,
  RedisdbKeyvStore, redisdbKeyvStore,
  type CacheOptions, type KeyFunction, type Serializer, type CacheBackend, type ResolvedCacheOptions,
  type KeyvEntry, type KeyvStoreOptions,
} from './cache/index.ts';
export {
  createCaches, closeAll, attachCache, cachesFromEnv, readCachesFile, parseLocation, CACHES_ENV,
  type Caches, type CacheConfig, type CachesConfig, type ConfiguredBackend,
} from './config/index.ts';
