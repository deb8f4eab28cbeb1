/**
 * `redisdb migrate --from <alias or LOCATION> --to <cluster seeds or alias> [--verify]
 * [--state FILE] [--batch N] [--match PATTERN] [--json]`: copies every key with its TTL, with a
 * progress bar on stderr (one JSON line per batch on stdout with --json). With --state, where
 * it stands is saved after every batch and a run that finds the file carries on from there.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { RedisCluster, RedisRing } from '../backends/index.ts';
import { migrate, verifyMigration, type MigrateEnd, type MigrateProgress } from '../backends/migrate.ts';
import { UsageError, type CliArgs } from './args.ts';
import { connect } from './connect.ts';
import { toJson } from './format.ts';

interface Output {
  out: (text: string) => void;
  err: (text: string) => void;
}

interface MigrateArgs {
  from: string;
  to: string;
  verify: boolean;
  json: boolean;
  state: string | null;
  batch: number;
  match: string | undefined;
}

function parse(rest: readonly string[], json: boolean): MigrateArgs {
  const values = new Map<string, string>();
  const out: MigrateArgs = { from: '', to: '', verify: false, json, state: null, batch: 500, match: undefined };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === '--verify') out.verify = true;
    else if (arg === '--json') out.json = true;
    else if (['--from', '--to', '--state', '--batch', '--match'].includes(arg)) {
      const v = rest[++i];
      if (v === undefined) throw new UsageError(`migrate: ${arg} needs a value`);
      values.set(arg, v);
    } else throw new UsageError(`migrate: unknown argument '${arg}'; expected --from, --to, --verify, --state, --batch, --match, --json`);
  }
  const from = values.get('--from');
  const to = values.get('--to');
  if (from === undefined || to === undefined) throw new UsageError('migrate needs --from <alias or LOCATION> and --to <cluster seeds>');
  out.from = from;
  out.to = to;
  out.state = values.get('--state') ?? null;
  const batch = values.get('--batch');
  if (batch !== undefined) {
    if (!/^\d+$/.test(batch) || Number(batch) < 1) throw new UsageError(`migrate: --batch must be a positive integer, got '${batch}'`);
    out.batch = Number(batch);
  }
  out.match = values.get('--match');
  return out;
}

/** An address list (anything with ':' or '/') or an alias of the CACHES setting. */
function isLocation(text: string): boolean {
  return text.includes(':') || text.includes('/');
}

function open(text: string, as: 'source' | 'target', args: CliArgs, env: NodeJS.ProcessEnv): MigrateEnd {
  const options = { socket_timeout: args.timeout, socket_connect_timeout: Math.min(args.timeout, 5), ...(args.password !== null ? { password: args.password } : {}) };
  if (isLocation(text)) {
    const nodes = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
    return as === 'source' ? new RedisRing(nodes, { OPTIONS: options }) : new RedisCluster(nodes, { OPTIONS: options });
  }
  const config = args.target.kind === 'alias' ? args.target.config : null;
  return connect({ ...args, target: { kind: 'alias', alias: text, config } }, env).backend as unknown as MigrateEnd;
}

function bar(p: MigrateProgress): string {
  const share = p.total === 0 ? 1 : Math.min(1, p.scanned / p.total);
  const width = 30;
  const filled = Math.round(share * width);
  return `\rmigrating [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(share * 100).toFixed(0).padStart(3)}%  ${p.copied}/${p.total} keys  node ${Math.min(p.node + 1, p.nodes)}/${p.nodes}`;
}

export async function runMigrate(args: CliArgs, io: Output, env: NodeJS.ProcessEnv): Promise<number> {
  const m = parse(args.command.slice(1), args.json);
  const from = open(m.from, 'source', args, env);
  let to: MigrateEnd;
  try {
    to = open(m.to, 'target', args, env);
  } catch (err) {
    await from.close();
    throw err;
  }
  try {
    let resume: MigrateProgress | undefined;
    if (m.state !== null && existsSync(m.state)) {
      resume = JSON.parse(readFileSync(m.state, 'utf8')) as MigrateProgress;
      if (resume.done) resume = undefined;
    }
    const save = (p: MigrateProgress): void => {
      if (m.state === null) return;
      // Written whole, then renamed: a run stopped mid-write leaves the previous state.
      writeFileSync(`${m.state}.tmp`, JSON.stringify(p));
      renameSync(`${m.state}.tmp`, m.state);
    };
    const final = await migrate(from, to, {
      batch: m.batch, ...(m.match !== undefined ? { match: m.match } : {}), ...(resume !== undefined ? { resume } : {}),
      onProgress: (p) => {
        save(p);
        if (m.json) io.out(toJson({ progress: p }));
        else io.err(bar(p) + (p.done ? '\n' : ''));
      },
    });
    if (!m.json) io.out(`copied ${final.copied} keys (${final.skipped} gone before they could be copied)`);
    if (!m.verify) return 0;
    const v = await verifyMigration(from, to, { batch: m.batch, ...(m.match !== undefined ? { match: m.match } : {}) });
    io.out(m.json ? toJson({ verify: v }) : `verified ${v.checked} keys: ${v.mismatched} differ${v.examples.length > 0 ? ` (${v.examples.slice(0, 10).join(', ')})` : ''}`);
    return v.mismatched === 0 ? 0 : 1;
  } finally {
    await Promise.all([from.close(), to.close()]);
  }
}
