import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { RedisRing } from '../../src/backends/index.ts';
import { main } from '../../src/cli/main.ts';
import { parseArgs } from '../../src/cli/args.ts';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { useClients } from '../helpers/clients.ts';
import { useServers } from '../helpers/servers.ts';
import { eventually } from '../helpers/wait.ts';

/** Runs the tool in this process; returns its exit status and what it printed. */
async function run(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t) }, env);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('redisdb command line', () => {
  const servers = useServers(3);
  let ring: string;
  let raw: ConstRedis[];
  const dir = mkdtempSync(join(tmpdir(), 'redisdb-cli-'));

  useClients(() => {
    ring = servers.map((s) => s.address).join(',');
    raw = servers.map((s) => new ConstRedis(s.url));
    return raw;
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await Promise.all(raw.map((r) => r.flushdb()));
  });

  it('runs any command on a ring, routed to the key\'s node', async () => {
    assert.deepEqual(await run(['--ring', ring, 'set', 'user:1', 'Ada']), { code: 0, out: '1) OK', err: '' });
    assert.deepEqual(await run(['--ring', ring, 'get', 'user:1']), { code: 0, out: 'Ada', err: '' });
    const home = new RedisRing(servers.map((s) => s.address));
    try {
      assert.equal(await raw[home.nodeIndexFor('user:1')]!.get('user:1'), 'Ada');
    } finally {
      await home.close();
    }
    assert.equal((await run(['--ring', ring, 'get', 'nobody'])).out, '(nil)');
    assert.equal((await run(['--ring', ring, '--json', 'get', 'user:1'])).out, '"Ada"');
  });

  it('--copy writes every node; --url talks to one server', async () => {
    const copy = servers.slice(0, 2).map((s) => s.address).join(',');
    assert.equal((await run(['--copy', copy, 'set', 'k', 'v'])).out, '1) OK\n2) OK');
    assert.equal(await raw[0]!.get('k'), 'v');
    assert.equal(await raw[1]!.get('k'), 'v');
    assert.equal((await run(['--url', servers[2]!.url, 'rpush', 'l', 'a', 'b'])).out, '(integer) 2');
    assert.equal((await run(['--url', servers[2]!.address, 'lrange', 'l', '0', '-1'])).out, '1) a\n2) b');
  });

  it('which-node explains the placement: hash, ring point, node, holders', async () => {
    await run(['--ring', ring, 'set', '{user:1}:profile', 'x']);
    const { code, out } = await run(['--ring', ring, '--json', 'which-node', '{user:1}:profile']);
    assert.equal(code, 0);
    const w = JSON.parse(out) as { hashed: string; hash: number; point: number; index: number; node: string; holders: Array<{ node: string; exists: boolean }> };
    const home = new RedisRing(servers.map((s) => s.address));
    try {
      const placement = home.continuum.locate('{user:1}:profile');
      assert.equal(w.hashed, 'user:1');
      assert.equal(w.hash, placement.hash);
      assert.equal(w.point, placement.point);
      assert.equal(w.index, home.nodeIndexFor('{user:1}:profile'));
      assert.ok(w.point >= w.hash, 'ketama: the first point at or above the hash');
    } finally {
      await home.close();
    }
    assert.equal(w.node, servers[w.index]!.address);
    assert.deepEqual(w.holders.map((h) => h.exists), servers.map((_, i) => i === w.index));
    const text = (await run(['--ring', ring, 'which-node', '{user:1}:profile'])).out;
    assert.match(text, new RegExp(`node +${servers[w.index]!.address.replace(/\./g, '\\.')} \\(index ${w.index}\\)`));
    assert.match(text, /why +md5 of the hash tag 'user:1' gives \d+/);
  });

  it('stats counts keys and memory per node and says how evenly they spread', async () => {
    const r = new RedisRing(servers.map((s) => s.address));
    try {
      await Promise.all(Array.from({ length: 900 }, (_, i) => r.set(`key:${i}`, i)));
    } finally {
      await r.close();
    }
    const { code, out } = await run(['--ring', ring, '--json', 'stats']);
    assert.equal(code, 0);
    const s = JSON.parse(out) as { totalKeys: number; imbalance: number; nodes: Array<{ node: string; keys: number; usedMemory: number; share: number; expectedShare: number }> };
    assert.equal(s.totalKeys, 900);
    const actual = await Promise.all(raw.map((x) => x.dbsize()));
    assert.deepEqual(s.nodes.map((n) => n.keys), actual);
    for (const n of s.nodes) {
      assert.ok(n.usedMemory > 0);
      assert.ok(Math.abs(n.share - n.expectedShare) < 0.08, `${n.node}: ${n.share} vs ring share ${n.expectedShare}`);
    }
    assert.ok(Math.abs(s.nodes.reduce((a, n) => a + n.expectedShare, 0) - 1) < 1e-9, 'ring shares add up to 1');
    assert.ok(s.imbalance >= 1 && s.imbalance < 1.3, `imbalance ${s.imbalance}`);
    const text = (await run(['--ring', ring, 'stats'])).out;
    assert.match(text, /RedisRing: 900 keys on 3 nodes; largest node holds \d\.\d\dx the mean/);
  });

  it('stats shows what the servers track for near caches', async () => {
    const near = new ConstRedis({ port: servers[0]!.port, nearCache: true });
    try {
      await near.connect();
      await eventually(() => near.nearCache!.isTracking && near.commandTable.isComplete, 3000, 'tracking on');
      await near.get('cli:near');
      const s = JSON.parse((await run(['--ring', ring, '--json', 'stats'])).out) as { nodes: Array<{ tracking: { clients: number; keys: number } }> };
      assert.equal(s.nodes[0]!.tracking.clients, 1);
      assert.ok(s.nodes[0]!.tracking.keys >= 1);
      assert.equal(s.nodes[1]!.tracking.clients, 0);
      assert.match((await run(['--ring', ring, 'stats'])).out, /near caches \(CLIENT TRACKING\): \S+ 1 client, \d+ keys/);
    } finally {
      await near.close();
    }
  });

  it('uses an alias of REDISDB_CACHES or of a --config file', async () => {
    const setting = {
      default: { BACKEND: 'redisdb.backends.RedisRing', DB: 2, LOCATION: servers.map((s) => s.address), OPTIONS: { socket_timeout: 5 } },
      other: { BACKEND: 'redisdb.backends.ConstRedis', LOCATION: [servers[0]!.address] },
    };
    assert.equal((await run(['set', 'cfg', '1'], { REDISDB_CACHES: JSON.stringify(setting) })).code, 0);
    const inDb2 = await Promise.all(servers.map(async (s) => {
      const c = new ConstRedis({ url: s.url, db: 2 });
      try { return await c.get('cfg'); } finally { await c.close(); }
    }));
    assert.deepEqual(inDb2.filter((v) => v !== null), ['1']);
    const file = join(dir, 'caches.json');
    writeFileSync(file, JSON.stringify(setting));
    assert.equal((await run(['--config', file, '--alias', 'other', 'set', 'o', '2'])).out, 'OK');
    assert.equal(await raw[0]!.get('o'), '2');
    const bad = await run(['--config', file, '--alias', 'othr', 'get', 'o']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /has no alias 'othr' \(did you mean 'other'\?\)/);
  });

  it('server errors exit 1; usage and configuration errors exit 2', async () => {
    await raw[0]!.set('s', 'text');
    const wrong = await run(['--url', servers[0]!.address, 'incr', 's']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.err, /\(error\) ERR value is not an integer/);
    assert.equal((await run(['--ring', `${servers[0]!.address},127.0.0.1:99999`, 'get', 'x'])).code, 2);
    assert.match((await run(['--ring', `127.0.0.1:99999`, 'get', 'x'])).err, /port 99999 is out of range/);
    assert.match((await run(['--rnig', ring, 'get', 'x'])).err, /unknown option '--rnig' \(did you mean '--ring'\?\)/);
    assert.match((await run(['--ring', ring])).err, /no command given/);
    assert.match((await run(['--ring', ring, '--url', 'x:1', 'get', 'x'])).err, /only one of/);
    assert.match((await run(['get', 'x'])).err, /REDISDB_CACHES is not set/);
    assert.match((await run(['--ring', ring, 'which-node'])).err, /which-node takes one key/);
  });

  it('never prints a password, whatever characters it holds', async () => {
    for (const ch of ['#', '?', '/', '@', '&']) {
      const pw = `S3cr3t${ch}Tail9`;
      const runs = [
        // Valid when the password holds '@': then the server (which has no password) refuses AUTH.
        ['--url', `redis://:${pw}@${servers[0]!.address}/0`, 'ping'],
        ['--url', `redis://user:${pw}@127.0.0.1:99999`, 'ping'],
        ['--url', `redis://127.0.0.1:1/zero?password=${pw}`, 'ping'],
        ['--url', `:${pw}@127.0.0.1:1`, 'ping'],
        ['--ring', `${servers[0]!.address},redis://:${pw}@${servers[1]!.address}/x`, 'get', 'k'],
        ['--copy', `redis://:${pw}@127.0.0.1:70000`, 'get', 'k'],
      ];
      for (const argv of runs) {
        const { code, out, err } = await run(argv);
        assert.notEqual(code, 0, argv.join(' '));
        assert.ok(!/S3cr3t|Tail9/.test(out + err), `${argv.join(' ')}\n${out}${err}`);
      }
    }
  });

  it('a hung server ends the command with an error within --timeout', async () => {
    servers[1]!.pause();
    try {
      const started = Date.now();
      const { code, err } = await run(['--url', servers[1]!.address, '--timeout', '0.5', 'get', 'x']);
      assert.equal(code, 1);
      assert.match(err, /timed? ?out|timeout/i);
      assert.ok(Date.now() - started < 3000, 'well within the limit');
      const s = await run(['--ring', ring, '--timeout', '0.5', '--json', 'stats']);
      assert.equal(s.code, 1, 'a node that does not answer is reported');
      const nodes = (JSON.parse(s.out) as { nodes: Array<{ node: string; error?: string }> }).nodes;
      assert.deepEqual(nodes.map((n) => n.error !== undefined), [false, true, false]);
    } finally {
      servers[1]!.resume();
    }
  });

  it('--help and --version', async () => {
    const help = await run(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.out, /which-node KEY/);
    assert.match((await run(['--version'])).out, /^\d+\.\d+\.\d+/);
  });

  it('parses options in either form, and refuses contradictions', () => {
    const a = parseArgs(['--ring=a:1,b:2', '--db', '3', '--hashing', 'hash_ring', 'get', '--not-an-option'], {});
    assert.deepEqual(a.target, { kind: 'RedisRing', nodes: ['a:1', 'b:2'] });
    assert.equal(a.db, 3);
    assert.equal(a.hashing, 'hash_ring');
    assert.deepEqual(a.command, ['get', '--not-an-option']);
    assert.equal(parseArgs(['--url', 'x:1', 'ping'], { REDISDB_PASSWORD: 'pw' }).password, 'pw');
    assert.throws(() => parseArgs(['--db', '1', 'ping'], {}), /goes with --ring, --copy or --url/);
    assert.throws(() => parseArgs(['--url', 'x:1', '--timeout', '0', 'ping'], {}), /positive number/);
  });

  it('runs as a program (the bin entry), with its exit status', async () => {
    const exec = promisify(execFile);
    const { stdout } = await exec(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', '--url', servers[0]!.address, 'ping']);
    assert.equal(stdout, 'PONG\n');
  });
});
