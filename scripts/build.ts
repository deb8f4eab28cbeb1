/**
 * Builds what the package ships: the library as one CommonJS file (dist/index.cjs), the ES module
 * entry that re-exports it (dist/index.mjs), the same library as one ES module file for bundlers
 * (dist/index.bundler.mjs), the command line as one file (dist/cli.mjs), and the type
 * declarations (dist/types). Whatever loads the package, a process or a bundle holds one copy,
 * so an error thrown through `require` is `instanceof` the class imported through `import`.
 *
 *   npx tsx scripts/build.ts
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { declarations } from './lib/declarations.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = `${root}dist`;
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string };

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist);

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: 'node20',
  // Maps carry the sources themselves: src/ is not in the package.
  sourcemap: true,
  sourcesContent: true,
  legalComments: 'none',
  // Smaller source, less for V8 to parse at start-up. Names are not minified, so classes keep
  // theirs for util.inspect and stack traces: keepNames would do it by wrapping every named
  // function, and a closure made per call (a RedisCopy write's callbacks) then costs a
  // defineProperty each time (measured: +1 µs per write).
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
  // Our own modules are bundled whole: "sideEffects": false is for consumers' bundlers, and
  // src/cache/accessor.ts, imported for its effect, must stay in.
  ignoreAnnotations: true,
} as const;

await build({ ...common, entryPoints: ['src/index.ts'], outfile: 'dist/index.cjs', format: 'cjs' });

// Node, Deno and Bun `import` an ES module entry that requires the CommonJS build and names its
// exports. It requires rather than imports it because Node lexes a CommonJS file imported from
// an ES module to guess its exports, which costs more than loading the whole library.
const names = Object.keys(createRequire(import.meta.url)(`${dist}/index.cjs`) as object).sort();
writeFileSync(
  `${dist}/index.mjs`,
  `// The ES module entry for Node, Deno and Bun: the CommonJS build is the one implementation.\n` +
    `import { createRequire } from 'node:module';\n` +
    `const lib = createRequire(import.meta.url)('./index.cjs');\n` +
    `export const {\n${names.map((n) => `  ${n},\n`).join('')}} = lib;\n`,
);

// Bundlers read the "module" condition, for `import` and `require` alike, so a bundle holds one
// copy: this ES module build, whose node: imports are static (a Worker bundle can resolve them;
// a require() of them inside an ES module bundle would fail at run time).
await build({ ...common, entryPoints: ['src/index.ts'], outfile: 'dist/index.bundler.mjs', format: 'esm' });

await build({
  ...common,
  entryPoints: ['src/cli/bin.ts'],
  outfile: 'dist/cli.mjs',
  format: 'esm',
  define: { REDISDB_VERSION: JSON.stringify(pkg.version) },
  // The library's own maps serve debugging; the command line's would double the package.
  sourcemap: false,
});

// Declarations describe the CommonJS build, which ES module consumers import with named imports.
declarations(`${dist}/types`);
