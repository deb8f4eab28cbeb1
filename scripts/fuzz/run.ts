/**
 * Fuzzes the RESP decoder.
 *
 *   npx tsx scripts/fuzz/run.ts [--seed N] [--cases N] [--first N] [--case N] [--no-alloc-check]
 *
 * Defaults: a random seed (printed), 2,000,000 cases. `--case N` reruns one case of a seed and
 * prints its bytes, to reproduce a failure.
 */
import { fuzz, runCase } from './resp-fuzz.ts';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function intArg(name: string, fallback: number): number {
  const v = arg(name);
  if (v === undefined) return fallback;
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`--${name} must be a non-negative integer, got ${v}`);
  return n;
}

const seed = intArg('seed', Math.floor(Math.random() * 0x7fffffff));
const single = arg('case');

if (single !== undefined) {
  const index = intArg('case', 0);
  const { kind, bytes, failure } = runCase(seed, index, null);
  console.log(`seed ${seed} case ${index} (${kind}), ${bytes.length} bytes:`);
  console.log(JSON.stringify(bytes.toString('latin1')));
  console.log(failure ?? 'passes');
  process.exitCode = failure === null ? 0 : 1;
} else {
  const total = intArg('cases', 2_000_000);
  const first = intArg('first', 0);
  const checkAllocations = !process.argv.includes('--no-alloc-check');
  console.log(`fuzzing the RESP decoder: seed ${seed}, ${total} cases from ${first}`);
  const slice = 100_000;
  let done = 0;
  let bytes = 0;
  let ms = 0;
  const byKind: Record<string, number> = {};
  const failures = [];
  while (done < total && failures.length < 10) {
    const r = fuzz({ seed, cases: Math.min(slice, total - done), first: first + done, checkAllocations, maxFailures: 10 - failures.length });
    done += r.cases;
    bytes += r.bytes;
    ms += r.elapsedMs;
    for (const [k, n] of Object.entries(r.byKind)) byKind[k] = (byKind[k] ?? 0) + n;
    failures.push(...r.failures);
    console.log(`  ${done} cases, ${(bytes / 1e6).toFixed(1)} MB of input, ${Math.round(done / (ms / 1000))} cases/s, ${failures.length} failures`);
  }
  console.log(`done: ${done} cases (${Object.entries(byKind).map(([k, n]) => `${k} ${n}`).join(', ')}), ` +
    `${(bytes / 1e6).toFixed(1)} MB, each decoded whole and in 3 random chunkings, ` +
    `${(ms / 1000).toFixed(1)} s, ${Math.round(done / (ms / 1000))} cases/s`);
  for (const f of failures) {
    console.log(`FAIL seed ${f.seed} case ${f.caseIndex} (${f.kind}): ${f.message}`);
    console.log(`  rerun: npx tsx scripts/fuzz/run.ts --seed ${f.seed} --case ${f.caseIndex}`);
  }
  process.exitCode = failures.length === 0 ? 0 : 1;
}
