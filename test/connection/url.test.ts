import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { addressOf, parseRedisUrl, redactUrl, resolveOptions } from '../../src/connection/options.ts';
import { ConfigError } from '../../src/errors.ts';
import { perTest } from '../helpers/clients.ts';
import { useServers } from '../helpers/servers.ts';

describe('URL parsing', () => {
  it('reads host, port, database, user and password from redis:// URLs', () => {
    assert.deepEqual(parseRedisUrl('redis://cache.example:6380/2'), { host: 'cache.example', port: 6380, db: 2 });
    assert.deepEqual(parseRedisUrl('redis://user:p%40ss%3Aw0rd@h'), { host: 'h', username: 'user', password: 'p@ss:w0rd' });
    assert.deepEqual(parseRedisUrl('redis://:only-pass@h:1'), { host: 'h', port: 1, password: 'only-pass' });
    assert.deepEqual(parseRedisUrl('redis://h'), { host: 'h' });
    assert.deepEqual(parseRedisUrl('REDIS://h:7/0'), { host: 'h', port: 7, db: 0 }); // the scheme in any case
  });

  it('takes the database from the query over the path, as the reference does', () => {
    assert.equal(parseRedisUrl('redis://h/1?db=5').db, 5);
    assert.equal(parseRedisUrl('redis://h?db=3').db, 3);
    const o = resolveOptions({ url: 'redis://h/4?socket_timeout=1.5&socket_connect_timeout=2&retry_on_timeout=true&name=web' });
    assert.equal(o.db, 4);
    assert.equal(o.socketTimeout, 1500);
    assert.equal(o.connectTimeout, 2000);
    assert.equal(o.retryOnTimeout, true);
    assert.equal(o.name, 'web');
  });

  it('lets explicit options win over the URL', () => {
    const o = resolveOptions({ url: 'redis://h:1/1', db: 9, port: 2 });
    assert.equal(o.db, 9);
    assert.equal(o.port, 2);
    assert.equal(o.host, 'h');
  });

  it('reads IPv6 literals in brackets', () => {
    const o = resolveOptions({ url: 'redis://[::1]:6390/3' });
    assert.equal(o.host, '::1');
    assert.equal(o.port, 6390);
    assert.equal(o.db, 3);
    assert.equal(addressOf(o), '[::1]:6390');
  });

  it('turns rediss:// into TLS with verification on and the host as server name', () => {
    const o = resolveOptions({ url: 'rediss://secure.example:6390' });
    assert.equal(o.tls?.rejectUnauthorized, true);
    assert.equal(o.tls?.servername, 'secure.example');
    // No SNI for an IP address (Node would warn), still verified.
    const ip = resolveOptions({ url: 'rediss://127.0.0.1:6390' });
    assert.equal(ip.tls?.servername, undefined);
    assert.equal(ip.tls?.rejectUnauthorized, true);
  });

  it('reads unix:// URLs with credentials and a database', () => {
    assert.deepEqual(parseRedisUrl('unix:///run/redis/redis.sock?db=3'), { path: '/run/redis/redis.sock', db: 3 });
    assert.deepEqual(parseRedisUrl('unix://:secret@/tmp/r.sock'), { path: '/tmp/r.sock', password: 'secret' });
    assert.deepEqual(parseRedisUrl('unix://bob:pw@/tmp/my%20r.sock'), { path: '/tmp/my r.sock', username: 'bob', password: 'pw' });
    assert.equal(addressOf(resolveOptions({ url: 'unix:///tmp/r.sock' })), '/tmp/r.sock');
  });

  it('rejects bad URLs with a ConfigError that says what is wrong', () => {
    const bad: Array<[string, RegExp]> = [
      ['http://h:6379', /expected a redis:\/\/, rediss:\/\/ or unix:\/\/ URL/],
      ['localhost:6379', /expected a redis:\/\//],
      ['redis://h/db1', /the path must be a database number, got 'db1'/],
      ['redis://h?db=one', /db must be a number, got 'one'/],
      ['redis://h?timeout=1', /unknown query option 'timeout'/],
      ['redis://h?socket_timeout=-1', /socket_timeout must be seconds, got '-1'/],
      ['redis://h:99999', /not a valid URL/],
      ['redis://h:0', /port must be an integer from 1 to 65535, got 0/],
      ['redis://h/99999999999', /db must be an integer/],
      ['unix://relative/path.sock', /absolute socket path/],
      ['redis://[::1/0', /not a valid URL/],
      ['redis://:bad%zzpass@h', /not valid percent-encoding/],
      ['unix://u:p%E0%A4@/tmp/s.sock', /not valid percent-encoding/],
    ];
    for (const [url, why] of bad) {
      assert.throws(() => resolveOptions({ url }), (err: Error) => err instanceof ConfigError && why.test(err.message), url);
    }
    assert.throws(() => resolveOptions({ url: 42 as unknown as string }), ConfigError);
    assert.throws(() => new ConstRedis('not a url'), ConfigError);
  });

  it('redacts passwords in URLs shown in messages', () => {
    assert.equal(redactUrl('redis://u:p@h:1/0'), 'redis://u:***@h:1/0');
    assert.equal(redactUrl('redis://:p/w@h'), 'redis://:***@h');
    // Conservative: an unencoded '&', '#', '?', '/' or '@' may be part of the password.
    assert.equal(redactUrl('redis://h/0?password=x&db=1'), 'redis://h/0?password=***');
    assert.equal(redactUrl('redis://h/0?name=a@b'), 'redis://***@b');
    assert.equal(redactUrl('redis://:S3cr3t#x@h:1/0'), 'redis://:***@h:1/0');
    assert.equal(redactUrl('redis://bob:a?b/c@d@h'), 'redis://bob:***@h');
    assert.equal(redactUrl('unix://secret@/tmp/r.sock'), 'unix://***@/tmp/r.sock');
    assert.equal(redactUrl(':pw@h:1'), ':***@h:1');
    assert.equal(redactUrl('redis://h:1/0'), 'redis://h:1/0');
  });
});

describe('URLs against real servers: unix socket, IPv6, database selection', () => {
  const dir = mkdtempSync(join(tmpdir(), 'redisdb-sock-'));
  const socket = join(dir, 'redis.sock');
  const servers = useServers(1, ['--unixsocket', socket, '--unixsocketperm', '700', '--bind', '127.0.0.1', '::1']);
  const client = perTest((options: ConstructorParameters<typeof ConstRedis>[0]): ConstRedis => new ConstRedis(options));
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('connects over a unix socket, selecting the database from the URL', async () => {
    const r = client(`unix://${socket}?db=2`);
    await r.set('unix:k', 'via socket');
    const tcp = client({ port: servers[0]!.port, db: 2 });
    assert.equal(await tcp.get('unix:k'), 'via socket');
    assert.equal(await client({ port: servers[0]!.port }).get('unix:k'), null);
  });

  it('connects to an IPv6 literal', async () => {
    const r = client(`redis://[::1]:${servers[0]!.port}/0`);
    assert.equal(await r.echo('v6'), 'v6');
    assert.equal(r.address, `[::1]:${servers[0]!.port}`);
  });

  it('keeps two clients on different databases apart, also across reconnects', async () => {
    const port = servers[0]!.port;
    const a = client({ port, db: 0, name: 'db-zero' });
    const b = client(`redis://127.0.0.1:${port}/7?name=db-seven`);
    await a.set('same:key', 'zero');
    await b.set('same:key', 'seven');
    assert.equal(await a.get('same:key'), 'zero');
    assert.equal(await b.get('same:key'), 'seven');
    assert.equal(await b.dbsize(), 1);
    // Kill b's connection from the server side: it must come back on database 7, not 0.
    const id = await b.call('CLIENT', 'ID');
    const lost = new Promise((resolve) => b.connection.once('disconnect', resolve));
    assert.equal(await a.call('CLIENT', 'KILL', 'ID', id), 1);
    await lost;
    assert.equal(await b.get('same:key'), 'seven');
    assert.equal(await b.client_getname(), 'db-seven');
    await b.set('same:key', 'seven again');
    assert.equal(await a.get('same:key'), 'zero');
  });
});
