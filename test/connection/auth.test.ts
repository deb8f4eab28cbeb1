import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { before, describe, it } from 'node:test';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { parseRedisUrl, resolveOptions, type ClientOptions } from '../../src/connection/options.ts';
import { AuthError, ConfigError, ReplyError } from '../../src/errors.ts';
import { perTest, useClients } from '../helpers/clients.ts';
import { useServers } from '../helpers/servers.ts';

/** Characters that need escaping in a URL, so the URL forms are tested for real. */
const PASSWORD = 'Pa55:w@rd/?#%';
const ALICE_PASSWORD = 'alice-s3cret!';

/** Everything a caller could print about a failure. */
function allTextOf(err: unknown): string {
  const e = err as Error;
  return [String(e), e.message, e.stack ?? '', inspect(e, { depth: Infinity }), JSON.stringify(e)].join('\n');
}

describe('AUTH with a password and with an ACL user', () => {
  const servers = useServers(1, ['--requirepass', PASSWORD]);
  let admin: ConstRedis;
  const client = perTest((options: ClientOptions | string): ConstRedis => new ConstRedis(options));
  useClients(() => {
    admin = new ConstRedis({ port: servers[0]!.port, password: PASSWORD });
    return [admin];
  });
  before(async () => {
    assert.equal(await admin.call('ACL', 'SETUSER', 'alice', 'on', `>${ALICE_PASSWORD}`, '~app:*', '+@all'), 'OK');
  });

  it('connects with the right password, given as an option or in a URL', async () => {
    const port = servers[0]!.port;
    assert.equal(await client({ port, password: PASSWORD }).ping(), true);
    const url = `redis://:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/0`;
    assert.equal(await client(url).ping(), true);
    assert.equal(await client(`redis://127.0.0.1:${port}?password=${encodeURIComponent(PASSWORD)}`).ping(), true);
  });

  it('rejects a wrong password with AuthError that never shows the password', async () => {
    const wrong = 'not-the-Pa55word-42';
    const r = client({ port: servers[0]!.port, password: wrong });
    const err = await r.ping().then(() => null, (e: unknown) => e);
    assert.ok(err instanceof AuthError, String(err));
    assert.match((err as Error).message, /authentication to 127\.0\.0\.1:\d+ failed: WRONGPASS/);
    assert.ok(!allTextOf(err).includes(wrong));
    // A second command fails the same way rather than hang.
    await assert.rejects(r.ping(), AuthError);
  });

  it('without a password, commands are refused by the server with NOAUTH', async () => {
    const err = await client({ port: servers[0]!.port }).get('x').then(() => null, (e: unknown) => e);
    assert.ok(err instanceof ReplyError && err.code === 'NOAUTH', String(err));
  });

  it('an ACL user gets exactly its permissions; a wrong password names the user, not the password', async () => {
    const port = servers[0]!.port;
    const alice = client({ port, username: 'alice', password: ALICE_PASSWORD });
    assert.equal(await alice.set('app:1', 'v'), true);
    assert.equal(await alice.call('ACL', 'WHOAMI'), 'alice');
    const denied = await alice.set('other:1', 'v').then(() => null, (e: unknown) => e);
    assert.ok(denied instanceof ReplyError && denied.code === 'NOPERM', String(denied));
    assert.equal(await client(`redis://alice:${ALICE_PASSWORD}@127.0.0.1:${port}`).get('app:1'), 'v');

    const err = await client({ port, username: 'alice', password: 'guess' }).ping().then(() => null, (e: unknown) => e);
    assert.ok(err instanceof AuthError);
    assert.match((err as Error).message, /for user 'alice'/);
    assert.ok(!allTextOf(err).includes('guess'));
  });

  it('keeps passwords out of util.inspect and JSON of clients and options', async () => {
    const port = servers[0]!.port;
    const r = client(`redis://alice:${ALICE_PASSWORD}@127.0.0.1:${port}`);
    assert.equal(await r.ping(), true);
    assert.equal(r.options.password, ALICE_PASSWORD); // still there for whoever needs it
    for (const text of [
      inspect(r, { depth: 6 }), inspect(r.options, { showHidden: false }), JSON.stringify(r.options),
      inspect(r.connection, { depth: 6 }), inspect(resolveOptions({ password: PASSWORD })),
    ]) {
      assert.ok(!text.includes(ALICE_PASSWORD) && !text.includes(PASSWORD), text.slice(0, 300));
    }
  });

  it('keeps the password out of a deep util.inspect taken while AUTH is in flight', async () => {
    const r = client({ port: servers[0]!.port, password: PASSWORD });
    let answered = false;
    const ping = r.ping().then((v) => {
      answered = true;
      return v;
    });
    let looks = 0;
    while (!answered) {
      for (const text of [inspect(r, { depth: Infinity }), inspect(r, { depth: Infinity, showHidden: true })]) {
        assert.ok(!text.includes(PASSWORD), 'password shown');
      }
      looks++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(await ping, true);
    assert.ok(looks > 0);
  });
});

describe('configuration errors never show a password', () => {
  const secret = 'hunter2-very-secret';
  const cases: Array<[string, () => unknown]> = [
    ['a URL with a bad port', () => new ConstRedis(`redis://user:${secret}@localhost:99999/0`)],
    ['a URL with a bad database', () => new ConstRedis(`redis://:${secret}@localhost:6379/zero`)],
    ['a URL with an unknown query option', () => new ConstRedis(`redis://localhost:6379/0?password=${secret}&sokcet_timeout=1`)],
    ['a URL with a bad query value', () => new ConstRedis(`redis://:${secret}@localhost?db=x`)],
    ['a unix URL with a relative path', () => new ConstRedis(`unix://:${secret}@relative.sock`)],
    ['a URL of the wrong scheme', () => new ConstRedis(`http://:${secret}@localhost`)],
    ['a password that is not a string', () => new ConstRedis({ password: 98765432 as unknown as string })],
    ['a bad option next to a password', () => new ConstRedis({ password: secret, port: -1 })],
  ];
  for (const [what, make] of cases) {
    it(what, () => {
      let thrown: unknown = null;
      try {
        make();
      } catch (err) {
        thrown = err;
      }
      assert.ok(thrown instanceof ConfigError, `expected a ConfigError, got ${String(thrown)}`);
      const text = allTextOf(thrown);
      assert.ok(!text.includes(secret) && !text.includes('98765432'), (thrown as Error).message);
    });
  }

  // Passwords with characters that end a URL's authority when left unencoded: whatever they
  // hold, neither half of them may show (the parse may split them anywhere).
  for (const ch of ['#', '?', '/', '@', '&', ':', '%']) {
    const unencoded = `S3cr3t${ch}Tail9`;
    const urls = [
      `redis://user:${unencoded}@localhost:99999/0`,
      `redis://:${unencoded}@localhost:6379/zero`,
      `redis://:${unencoded}@localhost?db=x`,
      `redis://:${unencoded}@localhost:6379/0?sokcet_timeout=1`,
      `rediss://bob:${unencoded}@host:1/1?db=1&nope=1`,
      `redis://u:1${unencoded}@localhost:6379/0`,
      `unix://:${unencoded}@relative.sock`,
      `http://:${unencoded}@localhost`,
      `redis://localhost:6379/zero?password=${unencoded}`,
      `redis://localhost:6379/0?password=${unencoded}&sokcet_timeout=1`,
    ];
    for (const url of urls) {
      it(`a password holding '${ch}', unencoded: ${url.replace(unencoded, '<password>')}`, () => {
        let thrown: unknown = null;
        try {
          new ConstRedis(url);
        } catch (err) {
          thrown = err;
        }
        // Some of these URLs are valid after all (the password is then cut or read whole):
        // a client that was made must not show it either.
        const text = thrown === null ? '' : allTextOf(thrown);
        assert.ok(thrown === null || thrown instanceof ConfigError, `expected a ConfigError, got ${String(thrown)}`);
        assert.ok(!text.includes('S3cr3t') && !text.includes('Tail9'), text.slice(0, 400));
      });
    }
  }

  it('parseRedisUrl errors too', () => {
    assert.throws(() => parseRedisUrl(`rediss://bob:${secret}@host:1/1?db=1&nope=1`), (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.ok(!allTextOf(err).includes(secret), err.message);
      assert.match(err.message, /bob:\*\*\*@host/);
      return true;
    });
  });
});
