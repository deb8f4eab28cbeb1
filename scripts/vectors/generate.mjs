// Regenerates test/hash/vectors/*.json from implementations that are not
// ours: libmemcached and nutcracker (twemproxy) for ketama, and a Python
// hashlib/bisect rendering of the hash_ring package for hash_ring.
// See README.md for the system packages this needs.

import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { FIXED_KEYS, HASH_RING_CASES, KETAMA_CASES, NUMBERED_KEYS, PROBE_KEYS, TAGGED_KEYS } from './cases.mjs';
import { nutcrackerVersion, routeWithTwemproxy } from './twemproxy.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = resolve(here, '../../test/hash/vectors');
const MAX_HASH = 0xffffffff;
const PLAIN_KEYS = [...FIXED_KEYS, ...TAGGED_KEYS, ...NUMBERED_KEYS];
const LIBMEMCACHED_KEYS = PLAIN_KEYS.filter((key) => key !== '');

function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** Hashes worth asking about: the ends of the range and points, and their neighbours. */
function interestingHashes(points) {
  const picks = new Set([0, 1, MAX_HASH - 1, MAX_HASH]);
  const around = (p) => [p - 1, p, p + 1].forEach((h) => h >= 0 && h <= MAX_HASH && picks.add(h));
  around(points[0]);
  around(points[points.length - 1]);
  const step = Math.max(1, Math.floor(points.length / 24));
  for (let i = step; i < points.length - 1; i += step) around(points[i]);
  // Points claimed by more than one node.
  for (let i = 1; i < points.length; i++) if (points[i] === points[i - 1]) around(points[i]);
  return [...picks].sort((a, b) => a - b);
}

/** Probe keys hashing past the last point (they wrap) or before the first one. */
function edgeProbes(id, probeResults, points) {
  const last = points[points.length - 1];
  const first = points[0];
  const wrapping = probeResults.filter((r) => r.hash > last).slice(0, 8);
  const below = probeResults.filter((r) => r.hash < first).slice(0, 4);
  check(wrapping.length > 0, `${id}: no probe key wraps around the continuum`);
  return [...wrapping, ...below];
}

/**
 * The continuum itself, or for big ones its size and an MD5 checksum of the
 * lines "<point> <owner>\n" in order, to keep the files small.
 */
function continuumEntry(points, owners) {
  if (points.length <= 5000) return { points, owners };
  const text = points.map((p, i) => `${p} ${owners[i]}\n`).join('');
  return { pointCount: points.length, pointsMd5: createHash('md5').update(text).digest('hex') };
}

// ---- ketama via libmemcached ------------------------------------------------

function libmemcachedName([host, port]) {
  return port === 11211 ? host : `${host}:${port}`;
}

function runLibmemcached(binary, servers, commands) {
  const input = [...servers.map(([h, p, w]) => `S ${h} ${p} ${w}`), ...commands, ''].join('\n');
  const result = spawnSync(binary, { input, maxBuffer: 1 << 28 });
  check(result.status === 0, `libmemcached helper failed: ${result.stderr}`);
  return result.stdout.toString('latin1').trim().split('\n');
}

function ketamaCase(binary, spec) {
  const exclude = spec.exclude ?? [];
  const liveIndices = spec.servers.map((_, i) => i).filter((i) => !exclude.includes(i));
  const live = liveIndices.map((i) => spec.servers[i]);
  // memcached refuses empty keys, and twemproxy hashes them to 0 rather than
  // md5(""), so the empty key is covered by the twemproxy vectors only.
  const keys = [...LIBMEMCACHED_KEYS, ...PROBE_KEYS];
  const hex = (key) => Buffer.from(key, 'utf8').toString('hex');
  const lines = runLibmemcached(binary, live, ['D', ...keys.map((k) => `K ${hex(k)}`)]);

  const points = [];
  const owners = [];
  const results = [];
  for (const line of lines) {
    const parts = line.split(' ');
    if (parts[0] === 'P') {
      points.push(Number(parts[1]));
      owners.push(liveIndices[Number(parts[2])]);
    } else if (parts[0] === 'K') {
      results.push({ hash: Number(parts[2]), index: liveIndices[Number(parts[3])] });
    }
  }
  check(results.length === keys.length, `${spec.id}: expected ${keys.length} key answers`);
  const keyed = keys.map((key, i) => ({ key, ...results[i] }));

  const hashes = interestingHashes(points);
  const rawLines = runLibmemcached(binary, live, hashes.map((h) => `H ${h}`));
  const raw = rawLines.map((line) => {
    const [, h, index] = line.split(' ');
    return [Number(h), liveIndices[Number(index)]];
  });
  check(raw.length === hashes.length, `${spec.id}: expected ${hashes.length} hash answers`);

  const pointsPerNode = spec.servers.map((_, i) => owners.filter((o) => o === i).length);
  const plain = keyed.slice(0, LIBMEMCACHED_KEYS.length);
  const probes = edgeProbes(spec.id, keyed.slice(LIBMEMCACHED_KEYS.length), points);
  return {
    id: spec.id,
    nodes: spec.servers.map((s) => ({ name: libmemcachedName(s), weight: s[2] })),
    exclude,
    pointsPerNode,
    ...continuumEntry(points, owners),
    keys: [...plain, ...probes].map((r) => [r.key, r.hash, r.index]),
    hashes: raw,
  };
}

// ---- ketama via twemproxy ---------------------------------------------------

async function twemproxyCases(libmemcachedCases) {
  const byId = new Map(libmemcachedCases.map((c) => [c.id, c]));
  const plan = [
    { from: 'equal-3', hashTag: '{}' },
    { from: 'equal-4-named', hashTag: '{}' },
    { from: 'weighted-100-250-50-600', hashTag: '{}' },
    { from: 'weighted-7-one-heavy', hashTag: '$$' },
    { from: 'equal-25', hashTag: null },
  ];
  const out = [];
  for (const { from, hashTag } of plan) {
    const base = byId.get(from);
    const nodes = base.nodes.map((n) => ({ name: n.name, weight: n.weight }));
    const { names, indices } = await routeWithTwemproxy({ nodes, hashTag, keys: PLAIN_KEYS });
    // Keys twemproxy hashes whole must land where libmemcached put them.
    const libIndex = new Map(base.keys.map(([key, , index]) => [key, index]));
    PLAIN_KEYS.forEach((key, i) => {
      const tagged = hashTag !== null && taggedPart(key, hashTag) !== key;
      if (!tagged && key !== '') check(indices[i] === libIndex.get(key), `twemproxy and libmemcached disagree on ${JSON.stringify(key)}`);
    });
    out.push({
      id: `${from}${hashTag === null ? '' : ` tag ${hashTag}`}`,
      nodes: names.map((name, i) => ({ name, weight: nodes[i].weight })),
      hashTag,
      keys: PLAIN_KEYS.map((key, i) => [key, indices[i]]),
    });
  }
  // Twemproxy's own "host:port" naming, with the ports the backends got.
  const implicit = await routeWithTwemproxy({
    nodes: [{ name: null, weight: 1 }, { name: null, weight: 2 }, { name: null, weight: 1 }],
    hashTag: '{}',
    keys: PLAIN_KEYS,
  });
  out.push({
    id: 'implicit-names tag {}',
    nodes: implicit.names.map((name, i) => ({ name, weight: [1, 2, 1][i] })),
    hashTag: '{}',
    keys: PLAIN_KEYS.map((key, i) => [key, implicit.indices[i]]),
  });
  return out;
}

// Only used to decide which keys the cross-check may compare; the vectors
// themselves record what twemproxy did.
function taggedPart(key, tag) {
  const start = key.indexOf(tag[0]);
  if (start < 0) return key;
  const end = key.indexOf(tag[1], start + 1);
  return end > start + 1 ? key.slice(start + 1, end) : key;
}

// ---- hash_ring via Python ---------------------------------------------------

function runPython(cases) {
  const result = spawnSync('python3', [join(here, 'hash_ring_reference.py')], {
    input: JSON.stringify({ cases }),
    maxBuffer: 1 << 28,
  });
  check(result.status === 0, `python failed: ${result.stderr}`);
  return JSON.parse(result.stdout.toString('utf8'));
}

function hashRingCases() {
  const keys = [...PLAIN_KEYS, ...PROBE_KEYS];
  const specs = HASH_RING_CASES.map((spec) => {
    const exclude = spec.exclude ?? [];
    const live = spec.weights.map((_, i) => i).filter((i) => !exclude.includes(i));
    return { spec, exclude, live };
  });
  const first = runPython(
    specs.map(({ spec, live }) => ({ labels: live.map(String), weights: live.map((i) => spec.weights[i]), keys, hashes: [] })),
  );
  const pointsOf = first.results.map((r) => r.points.map(([p]) => p));
  const second = runPython(
    specs.map(({ spec, live }, c) => ({
      labels: live.map(String),
      weights: live.map((i) => spec.weights[i]),
      keys: [],
      hashes: interestingHashes(pointsOf[c]),
    })),
  );
  const cases = specs.map(({ spec, exclude }, c) => {
    const r = first.results[c];
    const keyed = r.keys.map(([key, hash, label]) => ({ key, hash, index: Number(label) }));
    const points = r.points.map(([p]) => p);
    // A point listed twice has the same (dict) owner both times: list it once.
    const ring = r.points.filter(([p], i) => i === 0 || p !== r.points[i - 1][0]);
    return {
      id: spec.id,
      nodes: spec.weights.map((weight, i) => ({ name: `redis-${i}:6379`, weight })),
      exclude,
      ...continuumEntry(
        ring.map(([p]) => p),
        ring.map(([, label]) => Number(label)),
      ),
      keys: [...keyed.slice(0, PLAIN_KEYS.length), ...edgeProbes(spec.id, keyed.slice(PLAIN_KEYS.length), points)].map((k) => [
        k.key,
        k.hash,
        k.index,
      ]),
      hashes: second.results[c].hashes.map(([h, label]) => [h, Number(label)]),
    };
  });
  return { python: first.python, cases };
}

// ---- output -----------------------------------------------------------------

/** JSON with one array element per line, and arrays of numbers on a single line. */
function format(value, indent = '') {
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v !== 'object' || v === null)) return JSON.stringify(value);
    if (value.every((v) => Array.isArray(v) && v.every((x) => typeof x !== 'object'))) {
      return `[\n${value.map((v) => inner + JSON.stringify(v)).join(',\n')}\n${indent}]`;
    }
    return `[\n${value.map((v) => inner + format(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    if (Object.values(value).every((v) => typeof v !== 'object' || v === null)) return JSON.stringify(value);
    const entries = Object.entries(value).map(([k, v]) => `${inner}${JSON.stringify(k)}: ${format(v, inner)}`);
    return `{\n${entries.join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

function write(name, data) {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, name), `${format(data)}\n`);
  console.log(`wrote ${join(outDir, name)}`);
}

function packageVersion(name) {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', name]).toString().trim();
  } catch {
    return 'unknown';
  }
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'redisdb-vectors-'));
  try {
    const binary = join(work, 'ketama-libmemcached');
    execFileSync('cc', ['-O2', '-o', binary, join(here, 'ketama-libmemcached.c'), '-lmemcached', '-lhashkit'], {
      stdio: 'inherit',
    });
    const ketama = KETAMA_CASES.map((spec) => ketamaCase(binary, spec));
    write('ketama-libmemcached.json', {
      source: `libmemcached ${packageVersion('libmemcached11')}, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED`,
      about:
        'points/owners: the sorted continuum as libmemcached built it (owner = index into nodes; ' +
        'a point two nodes share is listed once per node); ' +
        'keys: [key, md5 key hash, node index] from memcached_generate_hash_value / memcached_generate_hash, whole keys hashed; ' +
        'hashes: [hash, node index] dispatched by libmemcached itself.',
      cases: ketama,
    });

    const twemproxy = await twemproxyCases(ketama);
    write('ketama-twemproxy.json', {
      source: `nutcracker ${await nutcrackerVersion()} (distribution: ketama, hash: md5)`,
      about: 'keys: [key, index of the node nutcracker routed GET <key> to]; hashTag is the pool hash_tag (null: none).',
      cases: twemproxy,
    });

    const hashRing = hashRingCases();
    write('hash-ring.json', {
      source: `hash_ring algorithm in Python ${hashRing.python} (hashlib md5, bisect)`,
      about:
        'Node i is labelled "i" as django-redisdb does; names are informational. points/owners: sorted distinct ' +
        'points with the dict owner of each; big rings give pointCount and pointsMd5 (MD5 of "<point> <owner>\\n" ' +
        'lines) instead; keys: [key, hash, node index]; hashes: [hash, node index]; no hash tags.',
      cases: hashRing.cases,
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
