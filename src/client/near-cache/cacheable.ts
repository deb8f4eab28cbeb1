/**
 * What the near cache may keep, and what a command does to what it keeps: the one place that
 * decides, from the server's own description of the command (flags, tips, key specs), never
 * from a list of names (but for the few the table does not mark as time-dependent).
 *
 * A command's reply may be kept when it reads one key and depends on nothing but that key:
 * `readonly`, not blocking, no `nondeterministic_output` tip, exactly one key spec that reads
 * (RO) a key at a fixed position, no keys the server cannot find (movablekeys), and no
 * subcommands. A command that may change keys drops what is kept for them.
 */
import { keyPositions, type CommandInfo } from '../command-table.ts';

/**
 * Read-only, one key, and deterministic as the server's table says, but their replies change
 * with the clock or with access rather than with writes, so no invalidation would come.
 */
const TIME_DEPENDENT: ReadonlySet<string> = new Set(['ttl', 'pttl', 'expiretime', 'pexpiretime', 'object', 'dump', 'memory']);

/** What a command is to the near cache. */
export type NearRole =
  /** Its reply may be kept, under the key at argv[keyIndex]. */
  | { readonly kind: 'read'; readonly keyIndex: number }
  /** It may change the keys its key specs name (keyPositions): they are dropped before it is sent. */
  | { readonly kind: 'write'; readonly info: CommandInfo }
  /** It may change keys it does not name (FLUSHALL, SWAPDB, a command the server cannot describe): everything is dropped. */
  | { readonly kind: 'flush' }
  /** Neither: sent as it is. */
  | { readonly kind: 'none' };

const NONE: NearRole = Object.freeze({ kind: 'none' });
const FLUSH: NearRole = Object.freeze({ kind: 'flush' });

/** The role of a described command (for a container, of the subcommand it is given). */
export function nearRole(info: CommandInfo | null): NearRole {
  if (info === null) return FLUSH;
  const flags = info.flags;
  if (flags.has('readonly') && !flags.has('write')) {
    return cacheableKeyIndex(info) ?? NONE;
  }
  if (info.subcommands !== null && info.subcommands.size > 0) return NONE; // decided per subcommand
  const names = info.keySpecs.length > 0 || info.firstKey > 0 || flags.has('movablekeys');
  if (names) return { kind: 'write', info };
  // A write that names no key changes keys all the same (FLUSHDB, SWAPDB); the rest (PING,
  // CONFIG, CLIENT ...) change none.
  return flags.has('write') ? FLUSH : NONE;
}

function cacheableKeyIndex(info: CommandInfo): NearRole | null {
  const flags = info.flags;
  if (flags.has('blocking') || flags.has('movablekeys') || flags.has('may_replicate') || flags.has('pubsub')) return null;
  if (info.subcommands !== null && info.subcommands.size > 0) return null;
  if (TIME_DEPENDENT.has(info.name) || TIME_DEPENDENT.has(info.name.slice(0, info.name.indexOf('|') >>> 0))) return null;
  if (info.tips.some((t) => t === 'nondeterministic_output')) return null;
  if (info.keySpecs.length === 0) {
    // Before Redis 7: no key specs and no tips, but the first/last/step triple and 'random'.
    if (flags.has('random') || info.firstKey <= 0 || info.lastKey !== info.firstKey) return null;
    return { kind: 'read', keyIndex: info.firstKey };
  }
  if (info.keySpecs.length !== 1) return null;
  const { flags: keyFlags, begin, find } = info.keySpecs[0]!;
  if (!keyFlags.has('RO') || keyFlags.has('incomplete') || keyFlags.has('variable_flags')) return null;
  if (begin.type !== 'index' || find.type !== 'range' || find.lastKey !== 0) return null;
  return { kind: 'read', keyIndex: begin.index };
}

/** The argv positions of the keys a write names (see keyPositions). */
export function writtenKeys(info: CommandInfo, argv: readonly unknown[]): number[] {
  return keyPositions(info, argv);
}
