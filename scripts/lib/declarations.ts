/**
 * The type declarations the package ships, written to outDir: tsc's declarations of src/, marked
 * as describing CommonJS (the build's one implementation, which ES modules import by name), with
 * specifiers as every TypeScript version reads them. Used by the build and by the type test.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export function declarations(outDir: string): void {
  execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', `${root}tsconfig.build.json`, '--outDir', outDir], { stdio: 'inherit' });
  writeFileSync(`${outDir}/package.json`, `${JSON.stringify({ type: 'commonjs' })}\n`);
  // The sources import each other as './x.ts' (so they run as they are under type stripping);
  // declarations name './x.js'.
  for (const file of readdirSync(outDir, { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.d.ts')) continue;
    const path = `${outDir}/${file}`;
    const text = readFileSync(path, 'utf8');
    const fixed = text.replace(/((?:from|import)\s*\(?\s*)(['"])(\.{1,2}\/[^'"]+)\.ts\2/g, '$1$2$3.js$2');
    if (fixed !== text) writeFileSync(path, fixed);
  }
}
