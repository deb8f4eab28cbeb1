/**
 * The package as npm publishes it: packed, unpacked in a scratch consumer, and run through the
 * smoke script of scripts/runtimes under Node as an ES module and as CommonJS, and through
 * esbuild bundles of both, against real servers; and its command line. scripts/runtimes runs the
 * same smoke script under Bun, Deno and workerd as well.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { useServers } from '../helpers/servers.ts';

const exec = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const runtimes = join(root, 'scripts', 'runtimes');

describe('the packed package', () => {
  const servers = useServers(2);
  const consumer = mkdtempSync(join(tmpdir(), 'redisdb-packed-'));
  let ports: string[] = [];

  before(async () => {
    ports = servers.map((s) => String(s.port));
    // npm pack runs the build (prepack), as publishing does.
    const { stdout } = await exec('npm', ['pack', '--json', '--pack-destination', consumer], { cwd: root, maxBuffer: 16 << 20 });
    const [packed] = JSON.parse(stdout) as Array<{ filename: string }>;
    const unpacked = join(consumer, 'node_modules', 'redisdb-client');
    mkdirSync(unpacked, { recursive: true });
    await exec('tar', ['-xzf', join(consumer, packed!.filename), '-C', unpacked, '--strip-components=1']);
    writeFileSync(join(consumer, 'package.json'), '{ "name": "consumer", "private": true }\n');
    cpSync(join(runtimes, 'smoke-core.cjs'), join(consumer, 'smoke-core.cjs'));
    cpSync(join(runtimes, 'entries'), join(consumer, 'entries'), { recursive: true });
  });
  after(() => rmSync(consumer, { recursive: true, force: true }));

  /** Runs a smoke entry with node; it must print its checks and exit by itself. */
  async function smoke(file: string, both: boolean): Promise<string[]> {
    const { stdout } = await exec(process.execPath, [file, ...ports], {
      cwd: consumer, timeout: 30_000, env: { ...process.env, SMOKE_BOTH: both ? '1' : '0' },
    });
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { ok: boolean; checks: string[] };
    assert.equal(result.ok, true);
    return result.checks;
  }

  it('is imported by an ES module, which gets the classes require() gives', async () => {
    const checks = await smoke('entries/esm.mjs', true);
    assert.ok(checks.includes('errors instanceof one class through import and require'), checks.join(', '));
    assert.ok(checks.includes('RedisCopy set/get on 2 nodes'));
  });

  it('is required from CommonJS, which gets the classes import() gives', async () => {
    const checks = await smoke('entries/cjs.cjs', true);
    assert.ok(checks.includes('errors instanceof one class through import and require'), checks.join(', '));
    assert.ok(checks.includes('RedisRing set/mget over 2 nodes'));
  });

  it('works bundled by esbuild, as ES module and as CommonJS (one copy when both import and require)', async () => {
    const bundle = (entry: string, outfile: string, format: 'esm' | 'cjs') =>
      build({ absWorkingDir: consumer, entryPoints: [entry], outfile, bundle: true, platform: 'node', format, logLevel: 'error' });
    await bundle('entries/esm.mjs', 'bundle/esm.mjs', 'esm');
    await bundle('entries/cjs.cjs', 'bundle/cjs.cjs', 'cjs');
    assert.ok((await smoke('bundle/esm.mjs', false)).includes('close'));
    const checks = await smoke('bundle/cjs.cjs', true);
    assert.ok(checks.includes('errors instanceof one class through import and require'), checks.join(', '));
  });

  it('runs its command line from the one-file build', async () => {
    const cli = join(consumer, 'node_modules', 'redisdb-client', 'dist', 'cli.mjs');
    const { stdout } = await exec(process.execPath, [cli, '--url', `127.0.0.1:${ports[0]}`, 'ping'], { timeout: 30_000 });
    assert.equal(stdout.trim(), 'PONG');
    const { stdout: version } = await exec(process.execPath, [cli, '--version'], { timeout: 30_000 });
    assert.match(version.trim(), /^\d+\.\d+\.\d+/);
  });
});
