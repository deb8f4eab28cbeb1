import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RedisCopy, RedisRing } from '../../src/backends/index.ts';
import { ConfigError } from '../../src/errors.ts';

// Nothing here connects: construction validates and builds clients lazily.
describe('backend configuration', () => {
  it('accepts the reference form: LOCATION and { DB, OPTIONS }', async () => {
    const ring = new RedisRing(['localhost:6390', '127.0.0.1:6391', '[::1]:6392', 'redis://127.0.0.1:6393/4'], {
      DB: 2, OPTIONS: { socket_timeout: 5, socket_connect_timeout: 3 },
    });
    assert.deepEqual(ring.addresses, ['localhost:6390', '127.0.0.1:6391', '[::1]:6392', '127.0.0.1:6393']);
    assert.equal(ring.nodes.length, 4);
    assert.equal(ring.nodes[0]!.options.db, 2);
    assert.equal(ring.nodes[0]!.options.socketTimeout, 5000);
    assert.equal(ring.nodes[0]!.options.connectTimeout, 3000);
    assert.equal(ring.nodes[2]!.options.host, '::1');
    // A node's own URL says which database it uses.
    assert.equal(ring.nodes[3]!.options.db, 4);
    assert.deepEqual(ring.continuum.nodes.map((n) => n.name), ring.addresses);
    assert.equal(ring.hashing, 'ketama');
    await ring.close();
  });

  it('accepts a Django-style LOCATION string and ignores cache-level settings', async () => {
    const copy = new RedisCopy('127.0.0.1:6390;127.0.0.1:6391', { TIMEOUT: 300, KEY_PREFIX: 'p', VERSION: 1 });
    assert.deepEqual(copy.addresses, ['127.0.0.1:6390', '127.0.0.1:6391']);
    await copy.close();
  });

  it('accepts the idiomatic form with per-node options, weights and names', async () => {
    const ring = new RedisRing({
      nodes: ['127.0.0.1:6390', { host: '127.0.0.1', port: 6391, weight: 2, name: 'big', password: 'pw' }, { path: '/tmp/r.sock' }],
      db: 1,
      socketTimeout: 250,
      hashing: 'ketama',
      hash_tag: null,
    });
    assert.deepEqual(ring.continuum.nodes, [
      { name: '127.0.0.1:6390', weight: 1 }, { name: 'big', weight: 2 }, { name: '/tmp/r.sock', weight: 1 },
    ]);
    assert.equal(ring.continuum.hashTag, null);
    assert.equal(ring.nodes[1]!.options.password, 'pw');
    assert.equal(ring.nodes[0]!.options.password, null);
    assert.equal(ring.nodes[2]!.options.path, '/tmp/r.sock');
    assert.equal(ring.nodes[2]!.options.socketTimeout, 250);
    // 4 * floor(w / Σw * 160 / 4 * N): weights 1, 2, 1 over three nodes.
    assert.deepEqual(ring.continuum.pointsPerNode(), [120, 240, 120]);
    await ring.close();
  });

  it('defaults hash tags to {} for ketama and to none for hash_ring', async () => {
    const k = new RedisRing(['127.0.0.1:6390']);
    const h = new RedisRing(['127.0.0.1:6390'], { OPTIONS: { hashing: 'hash_ring' } });
    assert.equal(k.continuum.hashTag, '{}');
    assert.equal(h.continuum.hashTag, null);
    assert.equal(h.continuum.mode, 'hash_ring');
    await Promise.all([k.close(), h.close()]);
  });

  const bad: Array<[string, unknown, unknown, RegExp]> = [
    ['port out of range', ['127.0.0.1:6390', 'host:99999'], undefined, /node 1 \('host:99999'\): port 99999 is out of range \(1-65535\)/],
    ['no port', ['nohost'], undefined, /node 0 \('nohost'\): no port; expected 'host:port' such as 'nohost:6379'/],
    ['empty address', [''], undefined, /LOCATION is empty/],
    ['empty entry among others', ['127.0.0.1:6390', ''], undefined, /node 1 \(''\): the address is empty/],
    ['empty list', [], undefined, /LOCATION is empty; give at least one node address/],
    ['unbracketed IPv6', ['::1:6379'], undefined, /IPv6 address in brackets/],
    ['duplicate node', ['127.0.0.1:6390', '127.0.0.1:6391', '127.0.0.1:6390'], undefined, /node 2 \('127.0.0.1:6390', db 0\) is the same as node 0/],
    ['duplicate through a URL', ['127.0.0.1:6390', 'redis://127.0.0.1:6390/0'], undefined, /node 1 .* is the same as node 0/],
    ['duplicate names', [{ host: 'a', port: 1, name: 'x' }, { host: 'b', port: 1, name: 'x' }], undefined, /nodes 0 and 1 are both named 'x'/],
    ['bad weight', [{ host: 'a', port: 1, weight: 0 }], undefined, /weight must be a positive number, got 0/],
    ['unknown option', ['127.0.0.1:6390'], { OPTIONS: { socket_timout: 5 } }, /unknown option 'socket_timout' \(did you mean 'socket_timeout'\?\)/],
    ['unknown param', ['127.0.0.1:6390'], { DBS: 1 }, /unknown option 'DBS' \(did you mean 'DB'\?\)/],
    ['bad hashing', ['127.0.0.1:6390'], { OPTIONS: { hashing: 'crc16' } }, /hashing must be 'ketama' or 'hash_ring'/],
    ['bad hash tag', ['127.0.0.1:6390'], { OPTIONS: { hash_tag: '{' } }, /hash tag must be null or a string of two characters/],
    ['bad URL', ['http://127.0.0.1:6390'], undefined, /expected a redis:\/\/, rediss:\/\/ or unix:\/\/ URL/],
    ['bad DB', ['127.0.0.1:6390'], { DB: -1 }, /db must be an integer/],
  ];
  for (const [what, location, params, message] of bad) {
    it(`rejects ${what} with a ConfigError`, () => {
      assert.throws(() => new RedisRing(location as string[], params as never), (err: unknown) => {
        assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
        assert.match(err.message, message);
        return true;
      });
    });
  }

  it('rejects arguments of the wrong type with a TypeError', () => {
    assert.throws(() => new RedisCopy(42 as never), TypeError);
    assert.throws(() => new RedisCopy([null] as never), /node 0 must be an address string or an object, got null/);
    assert.throws(() => new RedisCopy(['127.0.0.1:6390'], 'DB=0' as never), TypeError);
    assert.throws(() => new RedisCopy({ nodes: ['127.0.0.1:6390'] } as never, {} as never), /either \(options\) or \(location, params\)/);
    assert.throws(() => new RedisCopy({ db: 0 } as never), /'nodes' is required/);
  });
});
