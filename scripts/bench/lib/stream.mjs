/**
 * A prepared RESP2 reply stream for the decoder scenario: a deterministic mix of what a cache
 * client reads (OK, integers, short and long bulk strings, nulls, MGET-like arrays,
 * score pairs, a few errors), some of it non-ASCII.
 */

/** A small deterministic PRNG (mulberry32), so every run decodes the same bytes. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['user', 'session', 'cart', 'héllo', 'wörld', 'price', 'token', '✓ done', 'key', 'value'];

export function makeStream(targetBytes) {
  const rand = prng(42);
  const parts = [];
  let size = 0;
  let replies = 0;
  const bulk = (s) => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
  const shortText = () => {
    let s = WORDS[Math.floor(rand() * WORDS.length)];
    const n = 1 + Math.floor(rand() * 6);
    for (let i = 0; i < n; i++) s += ':' + Math.floor(rand() * 1e6);
    return s;
  };
  const long = 'x'.repeat(16 * 1024);
  while (size < targetBytes) {
    const r = rand();
    let reply;
    if (r < 0.2) reply = '+OK\r\n';
    else if (r < 0.35) reply = `:${Math.floor(rand() * 1e9) - 1e8}\r\n`;
    else if (r < 0.65) reply = bulk(shortText());
    else if (r < 0.7) reply = '$-1\r\n';
    else if (r < 0.85) {
      reply = '*10\r\n';
      for (let i = 0; i < 10; i++) reply += rand() < 0.1 ? '$-1\r\n' : bulk(shortText());
    } else if (r < 0.9) {
      reply = '*4\r\n' + bulk(shortText()) + bulk(String(rand() * 100)) + bulk(shortText()) + bulk(String(rand() * 100));
    } else if (r < 0.91) {
      reply = bulk(long.slice(0, 1024 + Math.floor(rand() * 15 * 1024)));
    } else if (r < 0.99) {
      reply = bulk(shortText());
    } else {
      reply = '-ERR wrong number of arguments\r\n';
    }
    parts.push(reply);
    size += Buffer.byteLength(reply);
    replies++;
  }
  return { buffer: Buffer.from(parts.join('')), replies };
}
