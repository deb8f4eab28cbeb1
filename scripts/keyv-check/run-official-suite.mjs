/**
 * Runs Keyv's official adapter suite (official-suite.test.ts, under vitest) once per Keyv
 * major and says which ran, on which Node, and which was skipped. Keyv 6 needs Node >= 22.19
 * (its `engines`): it runs on the first such node found (KEYV6_NODE, this node, `which -a
 * node`, ~/.nvm), or on this node anyway with --keyv6-anyway. Exit status 1 if a run failed.
 *
 * One test of the suite (2.x, written for Keyv 5) expects `keyv.delete([...])` of absent keys
 * to be false; Keyv 6's deleteMany answers one boolean per key, so under Keyv 6 it fails for
 * every store. It is reported as such, not counted as a failure of this store.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const vitestCli = join(here, 'node_modules', 'vitest', 'vitest.mjs');
const versionOf = (pkg) => JSON.parse(readFileSync(join(here, 'node_modules', pkg, 'package.json'), 'utf8')).version;
const KEYV6_MIN = [22, 19, 0];
const KEYV6_ONLY_API_CHANGE = '.deleteMany([keys]) with nonexistent keys resolves to false';

function nodeVersion(bin) {
  try {
    return execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

function atLeast(version, min) {
  const parts = version.replace(/^v/, '').split('.').map(Number);
  for (let i = 0; i < min.length; i++) if (parts[i] !== min[i]) return parts[i] > min[i];
  return true;
}

/** Node binaries to look at for Keyv 6, in order of preference. */
function candidates() {
  const out = [];
  if (process.env.KEYV6_NODE) out.push(process.env.KEYV6_NODE);
  out.push(process.execPath);
  const which = spawnSync('which', ['-a', 'node'], { encoding: 'utf8' });
  if (which.status === 0) out.push(...which.stdout.split('\n').filter(Boolean));
  const nvm = join(homedir(), '.nvm', 'versions', 'node');
  if (existsSync(nvm)) for (const v of readdirSync(nvm).sort().reverse()) out.push(join(nvm, v, 'bin', 'node'));
  return [...new Set(out)];
}

/** Runs the suite for one major on one node; returns { passed, failed: [names], total }. */
function runSuite(major, node) {
  const dir = mkdtempSync(join(tmpdir(), 'keyv-suite-'));
  const report = join(dir, 'report.json');
  try {
    spawnSync(node, [vitestCli, 'run', 'official-suite.test.ts', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`], {
      cwd: here, stdio: 'inherit', env: { ...process.env, KEYV_MAJOR: String(major) },
    });
    if (!existsSync(report)) return { passed: 0, failed: ['(the suite did not run)'], total: 0 };
    const results = JSON.parse(readFileSync(report, 'utf8'));
    const tests = results.testResults.flatMap((f) => f.assertionResults);
    const failed = tests.filter((t) => t.status !== 'passed').map((t) => t.title);
    if (results.testResults.some((f) => f.status === 'failed' && f.assertionResults.length === 0)) failed.push(`(file failed: ${results.testResults[0]?.message ?? 'unknown'})`);
    return { passed: tests.length - failed.length, failed, total: tests.length };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const summary = [];
let ok = true;

const v5 = runSuite(5, process.execPath);
summary.push(`Keyv ${versionOf('keyv')} on Node ${process.version}: ran, ${v5.passed}/${v5.total} passed${v5.failed.length ? `; failed: ${v5.failed.join('; ')}` : ''}`);
if (v5.failed.length > 0 || v5.total === 0) ok = false;

const keyv6 = versionOf('keyv6');
const anyway = process.argv.includes('--keyv6-anyway');
const found = candidates().map((bin) => ({ bin, version: nodeVersion(bin) })).filter((c) => c.version !== null);
const node22 = found.find((c) => atLeast(c.version, KEYV6_MIN));
const node6 = node22 ?? (anyway ? { bin: process.execPath, version: process.version } : null);
if (node6 === null) {
  const seen = found.map((c) => `${c.bin} ${c.version}`).join(', ') || 'none';
  summary.push(`Keyv ${keyv6}: skipped: it needs Node >= ${KEYV6_MIN.join('.')}, and the nodes found are older (${seen}). Set KEYV6_NODE=/path/to/node, or pass --keyv6-anyway to run it on this Node.`);
} else {
  const v6 = runSuite(6, node6.bin);
  const own = v6.failed.filter((t) => t !== KEYV6_ONLY_API_CHANGE);
  const apiChange = v6.failed.length - own.length;
  const note = node22 === undefined ? ' (below the Node version Keyv 6 declares: --keyv6-anyway)' : '';
  summary.push(`Keyv ${keyv6} on Node ${node6.version}${note}: ran, ${v6.passed}/${v6.total} passed` +
    (apiChange > 0 ? `; ${apiChange} failed as for every store under Keyv 6 ("${KEYV6_ONLY_API_CHANGE}": Keyv 6 answers one boolean per key)` : '') +
    (own.length > 0 ? `; failed: ${own.join('; ')}` : ''));
  if (own.length > 0 || v6.total === 0) ok = false;
}

console.log(`\nKeyv's official suite (@keyv/test-suite ${versionOf('@keyv/test-suite')}):`);
for (const line of summary) console.log(`- ${line}`);
process.exitCode = ok ? 0 : 1;
