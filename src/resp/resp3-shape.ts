/**
 * The one place where a RESP3 reply whose structure differs from RESP2's is given RESP2's.
 *
 * The decoder already writes RESP3's types in RESP2's shapes (a map as its flat pairs, a
 * double as its text...), which is all most commands need. A few commands answer RESP3 with
 * another structure, and are turned back here, per command, by looking at the reply itself
 * (so a reply already in RESP2's shape passes unchanged):
 *   - XREAD, XREADGROUP: a map of key → entries, where RESP2 gave [[key, entries], ...];
 *   - the sorted-set reads WITHSCORES (ZRANGE, ZRANGEBYSCORE, ZPOPMIN with a count, ZUNION,
 *     ZRANDMEMBER...) and HRANDFIELD WITHVALUES: [[member, score], ...], where RESP2 gave
 *     a flat [member, score, member, score, ...].
 * A connection speaking RESP3 passes each reply through one Resp3Shaper, in order, which
 * also follows MULTI: the replies in EXEC's array are shaped as their own commands'.
 */
import { Buffer } from 'node:buffer';
import { ReplyError } from '../errors.ts';
import { isMap, type Reply } from './decode.ts';

/** Commands whose pairs RESP3 nests: [[a, b], ...] becomes [a, b, ...]. */
const NESTED_PAIRS = new Set([
  'ZRANGE', 'ZRANGEBYSCORE', 'ZREVRANGE', 'ZREVRANGEBYSCORE', 'ZRANGEBYLEX', 'ZREVRANGEBYLEX',
  'ZPOPMIN', 'ZPOPMAX', 'ZRANDMEMBER', 'ZUNION', 'ZINTER', 'ZDIFF', 'HRANDFIELD',
]);

/** Commands whose map RESP3 gives where RESP2 gave an array of [key, value] pairs. */
const MAP_OF_PAIRS = new Set(['XREAD', 'XREADGROUP']);

/** The command's name, upper case ('' when argv[0] is not text). */
function commandName(argv: readonly unknown[]): string {
  const first = argv[0];
  if (typeof first === 'string') return first.toUpperCase();
  if (first instanceof Uint8Array) return Buffer.from(first.buffer, first.byteOffset, first.byteLength).toString('latin1').toUpperCase();
  return '';
}

/** A status reply read as a Buffer (a connection that returns Buffers). */
function isStatus(reply: Reply, text: string): boolean {
  return Buffer.isBuffer(reply) && reply.length === text.length && reply.toString('latin1') === text;
}

/** One command's reply in RESP2's structure. */
export function resp2Shape(argv: readonly unknown[], reply: Reply): Reply {
  if (!Array.isArray(reply) || reply.length === 0) return reply;
  const name = commandName(argv);
  if (NESTED_PAIRS.has(name)) {
    if (!Array.isArray(reply[0])) return reply;
    const flat: Reply[] = [];
    for (const pair of reply) {
      if (Array.isArray(pair)) for (const item of pair) flat.push(item);
      else flat.push(pair);
    }
    return flat;
  }
  if (MAP_OF_PAIRS.has(name) && isMap(reply)) {
    const pairs: Reply[] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) pairs.push([reply[i]!, reply[i + 1]!]);
    return pairs;
  }
  return reply;
}

/**
 * Shapes the replies of one RESP3 connection, in the order they arrive. Stateful only across
 * MULTI ... EXEC, whose queued commands it remembers to shape EXEC's replies.
 */
export class Resp3Shaper {
  /** The commands queued since MULTI was answered, or null outside a transaction. */
  private queued: Array<readonly unknown[]> | null = null;

  shape(argv: readonly unknown[], reply: Reply): Reply {
    const queued = this.queued;
    if (queued !== null) {
      if (reply === 'QUEUED' || isStatus(reply, 'QUEUED')) {
        queued.push(argv);
        return reply;
      }
      const name = commandName(argv);
      if (name === 'EXEC' || name === 'DISCARD') {
        this.queued = null;
        if (name === 'EXEC' && Array.isArray(reply)) return reply.map((r, i) => (r instanceof ReplyError || queued[i] === undefined ? r : resp2Shape(queued[i]!, r)));
        return reply;
      }
      // A command refused while queuing (its error) stays out of EXEC's replies.
      if (reply instanceof ReplyError) return reply;
    }
    if ((reply === 'OK' || isStatus(reply, 'OK')) && argv.length === 1 && commandName(argv) === 'MULTI') {
      this.queued = [];
      return reply;
    }
    return resp2Shape(argv, reply);
  }

  /** Forgets a transaction cut off (the connection was lost). */
  reset(): void {
    this.queued = null;
  }
}
