/**
 * Runs one measurement (one scenario, one client) in a process of its own, so that its peak
 * RSS is its own, and prints one JSON line: { value, unit, extra..., rssMB, cpuMs }.
 *
 *   node worker.mjs '<json config>'
 */
import { runScenario } from './lib/scenarios.mjs';

const config = JSON.parse(process.argv[2]);
const result = await runScenario(config);
const usage = process.resourceUsage();
result.rssMB = usage.maxRSS / 1024;
result.cpuMs = (usage.userCPUTime + usage.systemCPUTime) / 1000;
process.stdout.write(JSON.stringify(result) + '\n');
// Some clients keep timers or sockets; the measurement is done.
process.exit(0);
