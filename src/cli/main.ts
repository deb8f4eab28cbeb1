/**
 * redisdb: the command-line tool for operators. Runs any command against a configured alias
 * or nodes named on the command line, tells which node holds a key, and shows per-node stats.
 * Exit status: 0 done, 1 the command failed (server or connection), 2 bad usage or configuration.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.ts';
import { parseArgs, UsageError, USAGE, type CliArgs } from './args.ts';
import { connect, type Connected } from './connect.ts';
import { formatReply, table, toJson } from './format.ts';
import { stats, whichNode, type Stats, type WhichNode } from './inspect.ts';
import { runMigrate } from './migrate.ts';

interface Output {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** Set by the build (scripts/build.ts), which bundles the command line into one file. */
declare const REDISDB_VERSION: string | undefined;

function version(): string {
  if (typeof REDISDB_VERSION === 'string') return REDISDB_VERSION;
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function percent(x: number | null): string {
  return x === null ? '-' : `${(x * 100).toFixed(1)}%`;
}

function showWhichNode(w: WhichNode): string {
  const rows: string[][] = [['key', w.key], ['backend', w.backend], ['node', `${w.node} (index ${w.index})`]];
  if (w.hash !== null && w.point === null) rows.push(['placement', w.hashing ?? '-'], ['hashed', w.hashed ?? '-'], ['slot', String(w.hash)]);
  else if (w.hash !== null) {
    rows.push(['hashing', w.hashing ?? '-'], ['hashed', w.hashed ?? '-'], ['hash', `${w.hash} (0x${w.hash.toString(16).padStart(8, '0')})`]);
    rows.push(['ring point', `${w.point} (0x${w.point!.toString(16).padStart(8, '0')})`]);
  }
  rows.push(['writes to', w.writesTo.join(', ')]);
  if (w.readOrder.length > 1) rows.push(['reads from', w.readOrder.join(' then ')]);
  const held = w.holders.map((h) => `${h.node}: ${h.exists === null ? `unknown (${h.error})` : h.exists ? 'present' : 'absent'}`);
  rows.push(['holders', held.join(', ')], ['why', w.why]);
  return table(rows);
}

function showStats(s: Stats): string {
  const expected = s.nodes.some((n) => n.expectedShare !== null);
  const head = ['node', 'keys', 'expires', 'memory', 'share', ...(expected ? ['ring share'] : [])];
  const rows = s.nodes.map((n) => n.error !== undefined
    ? [n.node, 'down', '-', '-', '-', ...(expected ? [percent(n.expectedShare)] : []), `(${n.error})`]
    : [n.node, String(n.keys), String(n.expires), n.usedMemoryHuman ?? String(n.usedMemory), percent(n.share), ...(expected ? [percent(n.expectedShare)] : [])]);
  const summary = `${s.backend}: ${s.totalKeys} keys on ${s.nodes.length} node${s.nodes.length === 1 ? '' : 's'}` +
    (s.imbalance === null ? '' : `; largest node holds ${s.imbalance.toFixed(2)}x the mean, variation ${(s.variation! * 100).toFixed(1)}%`);
  const tracking = s.nodes.filter((n) => n.tracking !== null && (n.tracking.clients ?? 0) > 0);
  const near = tracking.length === 0 ? '' : `\nnear caches (CLIENT TRACKING): ${tracking.map((n) =>
    `${n.node} ${n.tracking!.clients} client${n.tracking!.clients === 1 ? '' : 's'}, ${n.tracking!.keys} keys, ${n.tracking!.items} items, ${n.tracking!.prefixes} prefixes tracked`).join('; ')}`;
  return `${table([head, ...rows])}\n${summary}${near}`;
}

async function execute(args: CliArgs, target: Connected, io: Output): Promise<number> {
  const [name, ...rest] = args.command as [string, ...string[]];
  const lower = name.toLowerCase();
  if (lower === 'which-node') {
    if (rest.length !== 1) throw new UsageError('which-node takes one key');
    const w = await whichNode(target.backend, target.kind, rest[0]!);
    io.out(args.json ? toJson(w) : showWhichNode(w));
    return 0;
  }
  if (lower === 'stats') {
    if (rest.length !== 0) throw new UsageError('stats takes no arguments');
    const s = await stats(target.backend, target.kind);
    io.out(args.json ? toJson(s) : showStats(s));
    return s.nodes.some((n) => n.error !== undefined) ? 1 : 0;
  }
  const run = (target.backend as unknown as { execute_command(...a: unknown[]): Promise<unknown> }).execute_command;
  const reply = await run.call(target.backend, name, ...rest);
  io.out(args.json ? toJson(reply) : formatReply(reply));
  return Array.isArray(reply) && reply.some((r) => r instanceof Error) ? 1 : 0;
}

/** Runs the tool with these arguments; returns the exit status. */
export async function main(argv: readonly string[], io: Output = { out: (t) => console.log(t), err: (t) => console.error(t) }, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let args: CliArgs;
  try {
    args = parseArgs(argv, env);
  } catch (err) {
    io.err(`redisdb: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    io.out(USAGE);
    return 0;
  }
  if (args.version) {
    io.out(version());
    return 0;
  }
  if (args.command[0]?.toLowerCase() === 'migrate') {
    try {
      return await runMigrate(args, io, env);
    } catch (err) {
      const e = err as Error;
      io.err(args.json ? toJson({ error: e.message, name: e.name }) : `redisdb: ${e.message}`);
      return err instanceof UsageError || err instanceof ConfigError || err instanceof TypeError ? 2 : 1;
    }
  }
  let target: Connected;
  try {
    target = connect(args, env);
  } catch (err) {
    io.err(`redisdb: ${(err as Error).message}`);
    return err instanceof ConfigError || err instanceof TypeError ? 2 : 1;
  }
  try {
    return await execute(args, target, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`redisdb: ${err.message}`);
      return 2;
    }
    const e = err as Error;
    io.err(args.json ? toJson({ error: e.message, name: e.name }) : `(error) ${e.message}`);
    return 1;
  } finally {
    // Connections still opening (a server that is down) must not keep the process alive.
    await Promise.race([target.backend.close(), new Promise((r) => setTimeout(r, 200).unref())]);
    const disconnect = (target.backend as { disconnect?: () => void }).disconnect;
    if (typeof disconnect === 'function') disconnect.call(target.backend);
  }
}
