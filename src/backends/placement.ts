/**
 * Keys (strings, numbers or raw bytes) to node indices on a continuum, and the order in which
 * other nodes stand in for a key's node (the next distinct owners going round the continuum).
 */
import { Buffer } from 'node:buffer';
import { Continuum, md5FirstWord } from '../hash/index.ts';

export class Placement {
  readonly continuum: Continuum;
  /** The tag's two characters as UTF-8, to find it in keys given as bytes. */
  private readonly tagBytes: [Buffer, Buffer] | null;

  constructor(continuum: Continuum) {
    this.continuum = continuum;
    const tag = continuum.hashTag;
    this.tagBytes = tag === null ? null : [Buffer.from(tag.charAt(0)), Buffer.from(tag.charAt(1))];
  }

  get size(): number {
    return this.continuum.nodes.length;
  }

  /** The 32-bit hash of a key (hash tags applied); bytes are hashed exactly as given. */
  hashOf(key: unknown): number {
    if (typeof key === 'string') return this.continuum.hashOf(key);
    if (key instanceof Uint8Array) return this.hashOfBytes(key);
    return this.continuum.hashOf(String(key));
  }

  /** Index (in LOCATION order) of the node a key belongs to. */
  nodeOf(key: unknown): number {
    if (typeof key === 'string') return this.continuum.nodeFor(key);
    return this.continuum.nodeForHash(this.hashOf(key));
  }

  private hashOfBytes(bytes: Uint8Array): number {
    if (bytes.length === 0) return this.continuum.hashOf('');
    const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (this.tagBytes !== null) {
      const [open, close] = this.tagBytes;
      const start = buf.indexOf(open);
      if (start >= 0) {
        const from = start + open.length;
        const end = buf.indexOf(close, from);
        // As with strings, an empty tag does not count.
        if (end > from) return md5FirstWord(buf.subarray(from, end));
      }
    }
    return md5FirstWord(buf);
  }

  /**
   * Every node, in the order they should serve a key with this hash: its own node first,
   * then each other node in the order its points follow round the continuum.
   */
  failoverOrder(hash: number): number[] {
    return this.continuum.ownersFrom(hash);
  }
}
