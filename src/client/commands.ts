/**
 * The command methods a client or backend declares, put together from the reference's typed
 * methods (types.ts) and every core command of Redis (commands.generated.ts, from COMMAND DOCS).
 * Declared methods, unlike the index signature every client also has, are seen by
 * noUncheckedIndexedAccess and noPropertyAccessFromIndexSignature as always there.
 */
import type { CoreCommands, KeylessCommandName, WriteCommandName } from './commands.generated.ts';
import type { Bulk, ReferenceCommands } from './types.ts';

/** Every command as a method of one server's client; S is what a bulk reply becomes. */
export type RedisCommands<S extends Bulk = string> = ReferenceCommands<S> & Omit<CoreCommands, keyof ReferenceCommands>;

/**
 * The same method giving one result per node. Written for two signatures, so a method with two
 * overloads keeps both (one with a single signature matches as both).
 */
type PerNode<F> = F extends {
  (...args: infer A1): Promise<infer R1>;
  (...args: infer A2): Promise<infer R2>;
}
  ? { (...args: A1): Promise<R1[]>; (...args: A2): Promise<R2[]> }
  : F;

/** Commands that return one result per node on a backend: writes, and commands without keys. */
export type PerNodeCommandName = WriteCommandName | KeylessCommandName | 'delete';

/**
 * Every command as a method of RedisRing and RedisCopy: a read is typed as on ConstRedis; a
 * write, and a command without keys, gives one result per node it ran on.
 */
export type BackendCommands<S extends Bulk = string> = {
  [K in keyof RedisCommands<S>]: K extends PerNodeCommandName ? PerNode<RedisCommands<S>[K]> : RedisCommands<S>[K];
};
