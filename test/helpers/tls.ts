/**
 * Certificates made with openssl for a test: a throwaway CA and what it issues. Remove `dir`
 * when done.
 */
import type { Buffer } from 'node:buffer';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Pki {
  dir: string;
  ca: Buffer;
  otherCa: Buffer;
  clientCert: Buffer;
  clientKey: Buffer;
  serverCert: string;
  serverKey: string;
  /** A server certificate for the name localhost only (no IP address in it), and its key. */
  nameOnlyCert: string;
  nameOnlyKey: string;
  caFile: string;
}

/**
 * A throwaway CA, a server certificate for localhost / 127.0.0.1, one for localhost alone, a
 * client certificate, and a CA nobody trusts.
 */
export function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'redisdb-tls-'));
  const f = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'pipe' });
  };
  const newCa = (name: string): void => {
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${name}`,
      '-keyout', f(`${name}.key`), '-out', f(`${name}.crt`));
  };
  const issue = (name: string, ca: string, ext: string): void => {
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${name}`, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`));
    writeFileSync(f(`${name}.ext`), ext);
    openssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f(`${ca}.crt`), '-CAkey', f(`${ca}.key`), '-CAcreateserial',
      '-days', '2', '-extfile', f(`${name}.ext`), '-out', f(`${name}.crt`));
  };
  newCa('test-ca');
  newCa('other-ca');
  issue('server', 'test-ca', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  issue('name-only', 'test-ca', 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  issue('client', 'test-ca', 'extendedKeyUsage=clientAuth\n');
  return {
    dir,
    ca: readFileSync(f('test-ca.crt')),
    otherCa: readFileSync(f('other-ca.crt')),
    clientCert: readFileSync(f('client.crt')),
    clientKey: readFileSync(f('client.key')),
    serverCert: f('server.crt'),
    serverKey: f('server.key'),
    nameOnlyCert: f('name-only.crt'),
    nameOnlyKey: f('name-only.key'),
    caFile: f('test-ca.crt'),
  };
}
