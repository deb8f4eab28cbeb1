/**
 * The package's types as a TypeScript user meets them: the declarations the build ships,
 * installed as a package, and test/package/consumer/program.ts compiled against them under
 * strict, noUncheckedIndexedAccess, exactOptionalPropertyTypes and
 * noPropertyAccessFromIndexSignature, with moduleResolution bundler and node16. Results are
 * used without casts, and each @ts-expect-error line must still be an error (TS2578 otherwise).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { declarations } from '../../scripts/lib/declarations.ts';

const exec = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

const STRICT = {
  strict: true,
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
  noPropertyAccessFromIndexSignature: true,
  noImplicitOverride: true,
  target: 'ES2022',
  lib: ['ES2022'],
  types: ['node'],
  typeRoots: [join(root, 'node_modules', '@types')],
  noEmit: true,
  skipLibCheck: false,
};

describe('the types a TypeScript user compiles against', () => {
  const consumer = mkdtempSync(join(tmpdir(), 'redisdb-types-'));
  const pkg = join(consumer, 'node_modules', 'redisdb-client');

  before(async () => {
    // The declarations as the build makes them, in a package laid out as the tarball's.
    mkdirSync(pkg, { recursive: true });
    declarations(join(pkg, 'dist', 'types'));
    copyFileSync(join(root, 'package.json'), join(pkg, 'package.json'));
    writeFileSync(join(consumer, 'package.json'), '{ "name": "consumer", "private": true, "type": "module" }\n');
    copyFileSync(join(root, 'test', 'package', 'consumer', 'program.ts'), join(consumer, 'program.ts'));
  });
  after(() => rmSync(consumer, { recursive: true, force: true }));

  async function compile(module: string, moduleResolution: string): Promise<string> {
    const config = join(consumer, `tsconfig.${moduleResolution}.json`);
    writeFileSync(config, JSON.stringify({ compilerOptions: { ...STRICT, module, moduleResolution }, files: ['program.ts'] }));
    try {
      await exec(process.execPath, [tsc, '-p', config], { cwd: consumer });
      return '';
    } catch (err) {
      return (err as { stdout?: string }).stdout ?? String(err);
    }
  }

  it('compiles under moduleResolution bundler', async () => {
    assert.equal(await compile('ESNext', 'bundler'), '');
  });

  it('compiles under moduleResolution node16', async () => {
    assert.equal(await compile('Node16', 'node16'), '');
  });

  it('is a test that can fail: a wrong expectation is reported', async () => {
    const program = join(consumer, 'program.ts');
    const original = readFileSync(program, 'utf8');
    writeFileSync(program, original.replace('const counter: number = await r.incr', 'const counter: string = await r.incr'));
    try {
      assert.match(await compile('ESNext', 'bundler'), /program\.ts\(\d+,\d+\): error TS2322/);
    } finally {
      writeFileSync(program, original);
    }
  });
});
