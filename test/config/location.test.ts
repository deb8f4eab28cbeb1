import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { locationList, parseLocation } from '../../src/config/location.ts';
import { ConfigError } from '../../src/errors.ts';

const at = "CACHES['x'].LOCATION[0]";

describe('parseLocation', () => {
  it('reads host:port, [ipv6]:port, socket paths and redis://, rediss://, unix:// URLs', () => {
    assert.deepEqual(parseLocation('localhost:6379', at), { host: 'localhost', port: 6379 });
    assert.deepEqual(parseLocation(' 10.0.0.1:7000 ', at), { host: '10.0.0.1', port: 7000 });
    assert.deepEqual(parseLocation('[::1]:6380', at), { host: '::1', port: 6380 });
    assert.deepEqual(parseLocation('/tmp/redis.sock', at), { path: '/tmp/redis.sock' });
    assert.deepEqual(parseLocation('redis://:pw@cache.example:6390/2', at), { host: 'cache.example', port: 6390, password: 'pw', db: 2 });
    assert.deepEqual(parseLocation('redis://[::1]:6391', at), { host: '::1', port: 6391 });
    assert.deepEqual(parseLocation('rediss://secure.example:6380', at), { host: 'secure.example', port: 6380, tls: true });
    assert.deepEqual(parseLocation('unix:///var/run/redis.sock?db=3', at), { path: '/var/run/redis.sock', db: 3 });
  });

  const bad: Array<[string, RegExp]> = [
    ['localhost', /LOCATION\[0\] \('localhost'\): no port; expected 'host:port' such as 'localhost:6379'/],
    ['localhost:99999', /port 99999 is out of range \(1-65535\)/],
    ['localhost:0', /port 0 is out of range/],
    ['redis://h:70000', /port 70000 is out of range/],
    ['h:abc', /the port must be a number/],
    ['::1:6379', /IPv6 address in brackets/],
    ['http://h:1', /unsupported scheme 'http:\/\/'/],
    ['redis://h/notadb', /database number/],
    ['redis://h:1/?tiemout=1', /unknown query option 'tiemout'/],
    ['', /the address is empty/],
  ];
  for (const [entry, message] of bad) {
    it(`rejects ${JSON.stringify(entry)} with a ConfigError naming where it is`, () => {
      assert.throws(() => parseLocation(entry, at), (e: unknown) => e instanceof ConfigError && e.message.startsWith(at) && message.test(e.message));
    });
  }

  it('never shows a password in an error', () => {
    assert.throws(() => parseLocation('redis://user:s3cret@h:0', at), (e: unknown) => e instanceof Error && !e.message.includes('s3cret') && e.message.includes('***'));
  });

  it('never shows a password that holds #, ?, /, @, & or digits first, left unencoded', () => {
    for (const ch of ['#', '?', '/', '@', '&']) {
      const pw = `99999S3cr3t${ch}Tail9`;
      const entries = [
        `redis://user:${pw}@h:0`, `redis://:${pw}@h:6379/zero`, `redis://u:${pw}@h`, `rediss://:${pw}@[::1]:70000`,
        `unix://:${pw}@relative.sock`, `ftp://:${pw}@h`, `:${pw}@h:6379`, `user:${pw}@h`,
      ];
      for (const entry of entries) {
        let message = '';
        try {
          parseLocation(entry, at);
        } catch (err) {
          message = (err as Error).message;
        }
        assert.ok(!/S3cr3t|Tail9|99999/.test(message), message);
      }
    }
  });

  it('rejects entries that are not strings', () => {
    assert.throws(() => parseLocation(6379, at), /must be a string/);
  });
});

describe('locationList', () => {
  it('takes a list, or a string separated by , or ; as Django does', () => {
    assert.deepEqual(locationList(['a:1', 'b:2'], 'L'), ['a:1', 'b:2']);
    assert.deepEqual(locationList('a:1; b:2,c:3', 'L'), ['a:1', 'b:2', 'c:3']);
  });
  it('refuses empty or odd LOCATIONs', () => {
    assert.throws(() => locationList([], 'L'), /LOCATION is empty/);
    assert.throws(() => locationList('', 'L'), /LOCATION is empty/);
    assert.throws(() => locationList(6379, 'L'), /must be a list/);
  });
});
