// Inputs shared by every generator: node lists and the keys to place.

/** [host, port, weight]; libmemcached and twemproxy name a node "host:port", or "host" on port 11211. */
const hosts = (prefix, count, port = 6379) =>
  Array.from({ length: count }, (_, i) => [`${prefix}${i + 1}`, port, 1]);

export const KETAMA_CASES = [
  { id: 'equal-2', servers: [['127.0.0.1', 6379, 1], ['127.0.0.1', 6380, 1]] },
  { id: 'equal-3', servers: hosts('10.0.0.', 3) },
  // Port 11211 makes libmemcached use the bare host as the name: explicit names.
  { id: 'equal-4-named', servers: ['redis-a', 'redis-b', 'redis-c', 'redis-d'].map((h) => [h, 11211, 1]) },
  { id: 'equal-5', servers: Array.from({ length: 5 }, (_, i) => ['192.168.1.10', 7000 + i, 1]) },
  // float32 gives 160 points here where double arithmetic would give 156.
  { id: 'equal-7', servers: hosts('cache-', 7) },
  // float32 gives 156 points per node here.
  { id: 'equal-25', servers: hosts('10.1.0.', 25) },
  { id: 'single', servers: [['10.9.9.9', 6379, 1]] },
  { id: 'weighted-1-2-3', servers: [['10.0.1.1', 6379, 1], ['10.0.1.2', 6379, 2], ['10.0.1.3', 6379, 3]] },
  {
    id: 'weighted-100-250-50-600',
    servers: [['10.0.2.1', 6379, 100], ['10.0.2.2', 6379, 250], ['10.0.2.3', 6379, 50], ['10.0.2.4', 6379, 600]],
  },
  // float32 gives the heavy node 640 points where double arithmetic gives 636.
  { id: 'weighted-7-one-heavy', servers: [...hosts('10.0.3.', 6), ['10.0.3.7', 6379, 8]] },
  // md5("10.20.115.70:6379-0") and md5("10.20.157.239:6379-0") share a
  // 32-bit word, so both nodes claim point 3596398895: who owns it?
  { id: 'shared-point', servers: [['10.20.115.70', 6379, 1], ['10.20.157.239', 6379, 1]] },
  { id: 'shared-point-reversed', servers: [['10.20.157.239', 6379, 1], ['10.20.115.70', 6379, 1]] },
  // Rebuilt without some nodes, as after an ejection; indices stay those of the full list.
  { id: 'without-1-of-4', servers: hosts('10.0.4.', 4), exclude: [1] },
  {
    id: 'without-2-of-4-weighted',
    servers: [['10.0.5.1', 6379, 3], ['10.0.5.2', 6379, 1], ['10.0.5.3', 6379, 2], ['10.0.5.4', 6379, 5]],
    exclude: [0, 2],
  },
];

export const HASH_RING_CASES = [
  { id: 'equal-2', weights: [1, 1] },
  { id: 'equal-3', weights: [1, 1, 1] },
  { id: 'equal-4', weights: [1, 1, 1, 1] },
  { id: 'equal-5', weights: [1, 1, 1, 1, 1] },
  { id: 'single', weights: [1] },
  { id: 'weighted-1-2-3', weights: [1, 2, 3] },
  { id: 'weighted-100-250-50-600', weights: [100, 250, 50, 600] },
  { id: 'weighted-fractional', weights: [0.5, 1.5, 1] },
  // Nodes 313 and 396 share point 3960841790 (digests "313-*" and "396-23").
  { id: 'shared-point-397', weights: Array.from({ length: 397 }, () => 1) },
  { id: 'without-1-of-4', weights: [1, 1, 1, 1], exclude: [1] },
  { id: 'without-2-of-5-weighted', weights: [3, 1, 2, 5, 4], exclude: [0, 3] },
];

export const FIXED_KEYS = [
  '',
  'a',
  'foo',
  'bar',
  'user:123456',
  'session:5f2b9c1e',
  'ключ',
  'ключ:42',
  '键',
  '键值',
  '🔑',
  'emoji 🎉 key',
  'café',
  'key with spaces',
  'tab\tkey',
  'x'.repeat(300),
  'é'.repeat(120),
];

/** Keys exercising hash tags; without tags they are just more keys. */
export const TAGGED_KEYS = [
  'user:{42}:name',
  'user:{42}:mail',
  '{42}',
  '{42}:x',
  'user:{}:empty',
  '{}',
  'a{b}c{d}',
  '{{nested}}',
  'open{only',
  'close}only',
  'rev}x{y}',
  '{ключ}:1',
  '{ключ}:2',
  'order:{🎉}:1',
  '$tag$:dollar',
  'x$y$z',
  '$$empty',
];

export const NUMBERED_KEYS = Array.from({ length: 200 }, (_, i) => `key:${i}`);

/** Candidates searched for keys that hash past the last point or before the first. */
export const PROBE_KEYS = Array.from({ length: 100000 }, (_, i) => `probe:${i}`);
