import { Buffer } from 'node:buffer';
/**
 * Method names → command words: `zadd` → ZADD, `client_getname` / `clientGetname` →
 * CLIENT GETNAME, `getBuffer` → GET with a Buffer reply. Names with a dot or a space
 * (`'json.get'`, `'CLIENT GETNAME'`) are taken as written.
 */
export interface MethodName {
  /** Lower-case words, e.g. ['client', 'getname']. */
  readonly words: readonly string[];
  /** The words joined with '_': the key of the reference's conventions. */
  readonly key: string;
  /** Set for names ending in Buffer / _buffer: bulk replies come back as Buffers. */
  readonly buffers: boolean;
  /** Upper-case command word when the name is a single word (the common, synchronous case). */
  readonly single: string | null;
  /** Taken as written (dot or space): no resolution against the server. */
  readonly literal: boolean;
}

const cache = new Map<string, MethodName>();

export function parseMethodName(name: string): MethodName {
  let hit = cache.get(name);
  if (hit === undefined) {
    hit = parse(name);
    if (cache.size < 10_000) cache.set(name, hit);
  }
  return hit;
}

function parse(name: string): MethodName {
  let base = name;
  let buffers = false;
  const m = /^(.+?)(?:_buffer|Buffer)$/.exec(name);
  if (m !== null) {
    base = m[1]!;
    buffers = true;
  }
  if (base.includes('.') || base.includes(' ')) {
    const words = base.split(' ').filter((w) => w !== '').map((w) => w.toLowerCase());
    return { words, key: words.join('_'), buffers, single: words.length === 1 ? words[0]!.toUpperCase() : null, literal: true };
  }
  const words = (base.includes('_') ? base.split('_') : base.split(/(?=[A-Z])/))
    .filter((w) => w !== '')
    .map((w) => w.toLowerCase());
  return {
    words,
    key: words.join('_'),
    buffers,
    single: words.length === 1 ? words[0]!.toUpperCase() : null,
    literal: false,
  };
}
