import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { Cache } from '../../src/cache/cache.ts';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { cachesFromEnv, closeAll, createCaches, readCachesFile, type CachesConfig } from '../../src/config/index.ts';
import { ConfigError } from '../../src/errors.ts';
import { useServers } from '../helpers/servers.ts';

function expectConfigError(config: unknown, ...patterns: RegExp[]): void {
  assert.throws(() => createCaches(config as CachesConfig), (e: unknown) => {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

describe('createCaches: configuration errors name the alias and the key', () => {
  const ok = { BACKEND: 'redisdb.backends.ConstRedis', LOCATION: ['127.0.0.1:1'] };

  it('missing LOCATION', () => {
    expectConfigError({ main: { BACKEND: 'ConstRedis' } }, /CACHES\['main'\]: LOCATION is missing/);
  });
  it('missing BACKEND', () => {
    expectConfigError({ main: { LOCATION: ['a:1'] } }, /CACHES\['main'\]: BACKEND is missing/);
  });
  it('unknown BACKEND, with a suggestion', () => {
    expectConfigError({ main: { ...ok, BACKEND: 'redisdb.backends.ConstRedsi' } }, /CACHES\['main'\]\.BACKEND: unknown backend 'redisdb\.backends\.ConstRedsi' \(did you mean 'redisdb\.backends\.ConstRedis'\?\)/);
    expectConfigError({ main: { ...ok, BACKEND: 'django.core.cache.backends.redis.RedisCache' } }, /unknown backend/, /expected one of: redisdb\.backends\./);
  });
  it('a port out of range, with its position in LOCATION', () => {
    expectConfigError({ main: { ...ok, LOCATION: ['localhost:70000'] } }, /CACHES\['main'\]\.LOCATION\[0\] \('localhost:70000'\): port 70000 is out of range \(1-65535\)/);
  });
  it('an unknown option, with "did you mean"', () => {
    expectConfigError({ main: { ...ok, OPTIONS: { socket_timout: 5 } } }, /CACHES\['main'\]\.OPTIONS: unknown option 'socket_timout' \(did you mean 'socket_timeout'\?\)/);
    expectConfigError({ main: { ...ok, OPTIONS: { pasword: 'x' } } }, /did you mean 'password'/);
  });
  it('an unknown key in the alias, with "did you mean"', () => {
    expectConfigError({ main: { ...ok, LOCATIONS: ['a:1'] } }, /CACHES\['main'\]: unknown key 'LOCATIONS' \(did you mean 'LOCATION'\?\)/);
    expectConfigError({ main: { ...ok, TIMEOUTS: 3 } }, /did you mean 'TIMEOUT'/);
  });
  it('bad values of DB, OPTIONS, TIMEOUT, KEY_PREFIX, VERSION, KEY_FUNCTION', () => {
    expectConfigError({ main: { ...ok, DB: -1 } }, /CACHES\['main'\]\.DB must be a database number/);
    for (const bad of ['', ' 0', '-1', '1.5', '0x1', 'one', '１']) {
      expectConfigError({ main: { ...ok, DB: bad } }, /CACHES\['main'\]\.DB must be a database number/);
    }
    expectConfigError({ main: { ...ok, DB: 1.5 } }, /\.DB must be/);
    expectConfigError({ main: { ...ok, DB: [0] } }, /\.DB must be/);
    expectConfigError({ main: { ...ok, OPTIONS: [] } }, /\.OPTIONS must be an object/);
    expectConfigError({ main: { ...ok, OPTIONS: { db: 1 } } }, /give the database as DB/);
    expectConfigError({ main: { ...ok, OPTIONS: { socket_timeout: -1 } } }, /CACHES\['main'\]: .*socket_timeout must be a non-negative number/);
    expectConfigError({ main: { ...ok, TIMEOUT: '300' } }, /\.TIMEOUT must be a number of seconds or null/);
    expectConfigError({ main: { ...ok, KEY_PREFIX: 5 } }, /\.KEY_PREFIX must be a string/);
    expectConfigError({ main: { ...ok, VERSION: 1.5 } }, /\.VERSION must be an integer/);
    expectConfigError({ main: { ...ok, KEY_FUNCTION: 'myapp.keys.make' } }, /\.KEY_FUNCTION must be a function/);
  });
  it('bad LOCATION shapes', () => {
    expectConfigError({ main: { ...ok, LOCATION: [] } }, /CACHES\['main'\]\.LOCATION: LOCATION is empty/);
    expectConfigError({ main: { ...ok, LOCATION: 6379 } }, /must be a list of node addresses/);
    expectConfigError({ main: { ...ok, LOCATION: ['a:1', 'b:2'] } }, /ConstRedis takes 1 address, got 2/);
    expectConfigError({ main: { ...ok, LOCATION: ['localhost'] } }, /no port; expected 'host:port' such as 'localhost:6379'/);
  });
  it('the whole setting', () => {
    expectConfigError(null, /CACHES must be an object/);
    expectConfigError({}, /CACHES is empty/);
    expectConfigError({ main: 'redis://x' }, /CACHES\['main'\] must be an object/);
    expectConfigError({ closeAll: ok }, /'closeAll' is reserved/);
  });
  it('RedisRing and RedisCopy: their own checks, prefixed with the alias', () => {
    const ring = { BACKEND: 'redisdb.backends.RedisRing', LOCATION: ['127.0.0.1:7001', '127.0.0.1:7002'] };
    expectConfigError({ r: { ...ring, LOCATION: ['127.0.0.1:7001', '127.0.0.1:7001'] } }, /^CACHES\['r'\]: .*is the same as node 0/);
    expectConfigError({ r: { ...ring, OPTIONS: { hashing: 'md5' } } }, /^CACHES\['r'\]: .*hashing must be 'ketama' or 'hash_ring'/);
    expectConfigError({ r: { ...ring, OPTIONS: { hash_tagg: '{}' } } }, /CACHES\['r'\]\.OPTIONS: unknown option 'hash_tagg' \(did you mean 'hash_tag'\?\)/);
    expectConfigError({ c: { ...ring, BACKEND: 'RedisCopy', LOCATION: ['127.0.0.1:7001', '[::1]:99999'] } }, /CACHES\['c'\]\.LOCATION\[1\] \('\[::1\]:99999'\): port 99999 is out of range/);
    expectConfigError({ c: { ...ring, BACKEND: 'RedisCopy', LOCATION: ['127.0.0.1:7001', { host: 'h', prot: 1 }] } }, /^CACHES\['c'\]: .*unknown option 'prot' \(did you mean 'port'\?\)/);
    const made = createCaches({ r: { ...ring, OPTIONS: { hashing: 'hash_ring' } }, short: { ...ring, BACKEND: 'RedisCopy' } });
    void made.closeAll();
  });

  it('checks every alias before making any backend', () => {
    expectConfigError({ good: ok, bad: { ...ok, LOCATION: ['x:0'] } }, /CACHES\['bad'\]/);
  });
});

describe('createCaches with real servers', () => {
  const servers = useServers(1);
  after(() => closeAll());

  it('makes a ConstRedis backend whose .cache follows TIMEOUT, KEY_PREFIX and VERSION', async () => {
    const caches = createCaches({
      single: { BACKEND: 'ConstRedis', DB: 3, LOCATION: [servers[0]!.address], OPTIONS: { socket_timeout: 5 }, TIMEOUT: 60, KEY_PREFIX: 'site', VERSION: 2 },
    });
    const backend = caches['single'] as unknown as ConstRedis & { cache: Cache };
    assert.deepEqual(caches.aliases, ['single']);
    assert.equal(backend.options.db, 3);
    assert.equal(backend.options.socketTimeout, 5000);
    assert.equal(await backend.set('raw', 'x'), true, 'the backend itself runs raw commands');
    await backend.cache.set('k', { a: 1 });
    const raw = new ConstRedis({ url: servers[0]!.url, db: 3 });
    try {
      assert.equal(await raw.get('site:2:k'), '{"a":1}');
      const ttl = await raw.ttl('site:2:k');
      assert.ok(ttl > 55 && ttl <= 60, `ttl ${ttl}`);
    } finally {
      await raw.close();
    }
    await caches.closeAll();
    assert.equal(backend.connection.isClosed, true);
  });

  it("takes DB as a string of digits, as django-redisdb's example settings write it", async () => {
    const caches = createCaches({
      single: { BACKEND: 'ConstRedis', DB: '4', LOCATION: [servers[0]!.address] },
      ring: { BACKEND: 'redisdb.backends.RedisRing', DB: '0', LOCATION: [servers[0]!.address] },
      copy: { BACKEND: 'redisdb.backends.RedisCopy', DB: '5', LOCATION: [servers[0]!.address] },
    });
    try {
      const single = caches['single'] as unknown as ConstRedis;
      assert.equal(single.options.db, 4);
      await single.set('db:str', 'four');
      await (caches['copy'] as unknown as ConstRedis).set('db:str', 'five');
      const raw4 = new ConstRedis({ url: servers[0]!.url, db: 4 });
      const raw5 = new ConstRedis({ url: servers[0]!.url, db: 5 });
      try {
        assert.equal(await raw4.get('db:str'), 'four');
        assert.equal(await raw5.get('db:str'), 'five');
      } finally {
        await Promise.all([raw4.close(), raw5.close()]);
      }
      assert.deepEqual(await (caches['ring'] as unknown as ConstRedis).ping(), [true]);
    } finally {
      await caches.closeAll();
    }
  });

  it('an unknown alias is a ConfigError with a suggestion, as Django refuses it', () => {
    const caches = createCaches({ redis_ring: { BACKEND: 'ConstRedis', LOCATION: servers[0]!.address } });
    assert.throws(() => caches['redis_rign'], /no cache alias 'redis_rign' \(did you mean 'redis_ring'\?\); configured: redis_ring/);
    assert.equal(typeof caches['redis_ring'], 'object');
  });

  it('a program that calls closeAll() exits by itself', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'redisdb-exit-'));
    try {
      const script = join(dir, 'program.mts');
      const config = pathToFileURL(join(process.cwd(), 'src/config/index.ts')).href;
      writeFileSync(script, [
        `import { createCaches, closeAll } from ${JSON.stringify(config)};`,
        `const caches = createCaches({ a: { BACKEND: 'RedisRing', LOCATION: [${JSON.stringify(servers[0]!.address)}] }, b: { BACKEND: 'RedisCopy', LOCATION: [${JSON.stringify(servers[0]!.address)}], DB: 1 } });`,
        `await caches['a'].cache.set('k', 1);`,
        `await caches['b'].set('k', 2);`,
        `console.log(await caches['a'].cache.get('k'), JSON.stringify(await caches['b'].get('k')));`,
        `await closeAll();`,
      ].join('\n'));
      // No process.exit() anywhere: the program ends only if no connection is left open.
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script], { timeout: 15_000 });
      assert.equal(stdout, '1 "2"\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('closeAll() ends the connections of every createCaches, so the process can exit', async () => {
    const a = createCaches({ x: { BACKEND: 'ConstRedis', LOCATION: [servers[0]!.address] } });
    const b = createCaches({ y: { BACKEND: 'ConstRedis', LOCATION: [servers[0]!.url] } });
    const x = a['x'] as unknown as ConstRedis;
    const y = b['y'] as unknown as ConstRedis;
    assert.equal(await x.ping(), true);
    assert.equal(await y.ping(), true);
    await closeAll();
    assert.equal(x.connection.isClosed, true);
    assert.equal(y.connection.isClosed, true);
  });
});

describe('CACHES from a JSON file or REDISDB_CACHES', () => {
  const dir = mkdtempSync(join(tmpdir(), 'redisdb-config-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const setting = { default: { BACKEND: 'redisdb.backends.ConstRedis', DB: 0, LOCATION: ['127.0.0.1:7001'], OPTIONS: { socket_timeout: 5 } } };

  it('reads a file', () => {
    const file = join(dir, 'caches.json');
    writeFileSync(file, JSON.stringify(setting));
    assert.deepEqual(readCachesFile(file), setting);
    assert.deepEqual(cachesFromEnv({ REDISDB_CACHES: file }), setting);
  });

  it('reads JSON from the variable', () => {
    assert.deepEqual(cachesFromEnv({ REDISDB_CACHES: ` ${JSON.stringify(setting)}` }), setting);
  });

  it('createCaches() without an argument uses REDISDB_CACHES', async () => {
    const before = process.env['REDISDB_CACHES'];
    process.env['REDISDB_CACHES'] = JSON.stringify(setting);
    try {
      const caches = createCaches();
      assert.equal((caches['default'] as unknown as ConstRedis).options.port, 7001);
      await caches.closeAll();
    } finally {
      if (before === undefined) delete process.env['REDISDB_CACHES'];
      else process.env['REDISDB_CACHES'] = before;
    }
  });

  it('says what is wrong with the source', () => {
    assert.throws(() => cachesFromEnv({}), /REDISDB_CACHES is not set/);
    assert.throws(() => cachesFromEnv({ REDISDB_CACHES: '{"a": ' }), /REDISDB_CACHES is not valid JSON/);
    assert.throws(() => cachesFromEnv({ REDISDB_CACHES: join(dir, 'missing.json') }), /cannot read CACHES file .*missing\.json: ENOENT/);
    const arr = join(dir, 'array.json');
    writeFileSync(arr, '[]');
    assert.throws(() => readCachesFile(arr), /must hold a JSON object/);
  });
});
