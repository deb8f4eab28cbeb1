import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { ConstRedis } from '../../src/client/const-redis.ts';
import type { ClientOptions } from '../../src/connection/options.ts';
import { ConnectionError } from '../../src/errors.ts';
import { perTest } from '../helpers/clients.ts';
import { freePort, startServers, type RedisServer } from '../helpers/servers.ts';
import { makePki, type Pki } from '../helpers/tls.ts';

describe('TLS with certificates made for the test', () => {
  let pki: Pki;
  /** TLS port of a server that asks for no client certificate, and of one that requires it. */
  let openPort = 0;
  let mutualPort = 0;
  const servers: RedisServer[] = [];
  const client = perTest(
    (options: ClientOptions): ConstRedis => new ConstRedis({ host: '127.0.0.1', socketConnectTimeout: 5000, ...options }),
  );
  const failure = async (r: ConstRedis): Promise<Error> => {
    const err = await r.ping().then(() => null, (e: unknown) => e);
    assert.ok(err instanceof ConnectionError, `expected a ConnectionError, got ${String(err)}`);
    return err;
  };

  before(async () => {
    pki = makePki();
    openPort = await freePort();
    mutualPort = await freePort();
    const common = ['--tls-cert-file', pki.serverCert, '--tls-key-file', pki.serverKey, '--tls-ca-cert-file', pki.caFile];
    servers.push(...(await startServers(1, ['--tls-port', String(openPort), '--tls-auth-clients', 'no', ...common])));
    servers.push(...(await startServers(1, ['--tls-port', String(mutualPort), '--tls-auth-clients', 'yes', ...common])));
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(pki.dir, { recursive: true, force: true });
  });

  it('verifies the server certificate by default: an unknown CA is refused', async () => {
    const err = await failure(client({ port: openPort, tls: true }));
    assert.match(err.message, /certificate/i);
    const other = await failure(client({ port: openPort, tls: { ca: pki.otherCa } }));
    assert.match(other.message, /certificate/i);
  });

  it('connects when the CA is given, for the IP address and for the host name', async () => {
    const byIp = client({ port: openPort, tls: { ca: pki.ca } });
    const big = 'v'.repeat(200_000) + '\r\n\u0000';
    await byIp.set('tls:big', big);
    assert.equal(await byIp.get('tls:big'), big);
    const byName = client({ url: `rediss://127.0.0.1:${openPort}/3`, tls: { ca: pki.ca, servername: 'localhost' } });
    assert.equal(await byName.echo('over tls'), 'over tls');
    assert.equal(await byName.get('tls:big'), null); // database 3 from the URL
  });

  it('refuses a certificate issued for another name', async () => {
    const err = await failure(client({ port: openPort, tls: { ca: pki.ca, servername: 'redis.elsewhere.example' } }));
    assert.match(err.message, /altnames|hostname|redis\.elsewhere\.example/i);
  });

  it('skips verification only when rejectUnauthorized: false is given', async () => {
    const r = client({ port: openPort, tls: { rejectUnauthorized: false } });
    assert.equal(await r.echo('unverified'), 'unverified');
    assert.equal(r.options.tls?.rejectUnauthorized, false);
    assert.equal(client({ port: openPort, tls: {} }).options.tls?.rejectUnauthorized, true);
  });

  it('presents a client certificate when the server requires one', async () => {
    const withCert = client({ port: mutualPort, tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey } });
    assert.equal(await withCert.echo('mutual'), 'mutual');
    await failure(client({ port: mutualPort, tls: { ca: pki.ca } }));
  });

  it('fails within the connect timeout, never hangs, when one side speaks TLS and the other does not', async () => {
    // Plain text to a TLS port: the server drops the connection.
    let started = performance.now();
    await failure(client({ port: openPort, socketTimeout: 1000 }));
    assert.ok(performance.now() - started < 2000);
    // TLS to a plain port: the server waits for a command line that never ends.
    started = performance.now();
    const err = await failure(client({ port: servers[0]!.port, tls: { ca: pki.ca }, socketConnectTimeout: 500 }));
    assert.ok(performance.now() - started < 1500, err.message);
  });
});
