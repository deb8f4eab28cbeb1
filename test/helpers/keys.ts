/**
 * Key names chosen for where a backend places them, so a test can put keys on the nodes it
 * means to (the placement itself is tested against vectors in test/hash).
 */

/** Anything that says which node a key belongs to: RedisRing, RedisCopy. */
export interface Placing {
  nodeIndexFor(key: string): number;
}

/** Two keys, `${prefix}:a` and another `${prefix}:<n>`, on different nodes of `backend`. */
export function apart(backend: Placing, prefix: string): [string, string] {
  const a = `${prefix}:a`;
  for (let i = 0; ; i++) if (backend.nodeIndexFor(`${prefix}:${i}`) !== backend.nodeIndexFor(a)) return [a, `${prefix}:${i}`];
}
