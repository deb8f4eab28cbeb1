/**
 * The randomized check of RedisCopy's write path (test/helpers/copy-jepsen.ts): 16 callers
 * mix every write door on three local servers while a fault loop kills, stops, partitions,
 * OOMs and restarts nodes.
 *
 *   npx tsx scripts/soak/randomized.ts [--minutes 10] [--seed N] [--callers 16]
 *
 * Prints the report (outcomes, faults, RSS) and exits 1 when a write was lost, a rejected
 * write applied, a counter is off or a read went back in time (brokenPromises: the same rule
 * as the test in npm test); the seed replays the run.
 */
import { brokenPromises, runJepsen } from '../../test/helpers/copy-jepsen.ts';

function numberArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`--${name} must be a non-negative number, got ${process.argv[i + 1]}`);
  return n;
}

const seed = numberArg('seed', Math.floor(Math.random() * 2 ** 31));
const minutes = numberArg('minutes', 10);
const callers = numberArg('callers', 16);
console.log(`randomized RedisCopy check: seed ${seed}, ${minutes} min, ${callers} callers`);
const report = await runJepsen({ seed, durationMs: minutes * 60_000, callers, log: (line) => console.log(`  ${line}`) });
console.log(JSON.stringify(report, null, 2));
const broken = brokenPromises(report);
if (broken.length > 0) {
  console.log(`FAILED: replay with --seed ${seed}`);
  process.exit(1);
}
console.log('ok: nothing acknowledged lost, nothing rejected applied, every node identical');
