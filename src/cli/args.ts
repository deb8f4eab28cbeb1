/**
 * The command line, read into what to connect to and what to do. Options come before the
 * command; everything from the command on is passed to Redis as written.
 */
import { suggestion } from '../util/did-you-mean.ts';

export type Target =
  | { kind: 'alias'; alias: string | null; config: string | null }
  | { kind: 'RedisRing' | 'RedisCopy'; nodes: string[] }
  | { kind: 'ConstRedis'; url: string };

export interface CliArgs {
  target: Target;
  json: boolean;
  db: number | null;
  password: string | null;
  hashing: 'ketama' | 'hash_ring' | null;
  /** Seconds a reply may take (and a connection, at most). */
  timeout: number;
  help: boolean;
  version: boolean;
  /** The command and its arguments: ['which-node', 'user:1'], ['stats'], ['get', 'user:1']. */
  command: string[];
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export const USAGE = `Usage: redisdb [options] <command> [arguments...]

Commands:
  which-node KEY        which node holds KEY, and why (its hash and point on the ring)
  stats                 keys and memory per node, and how evenly the keys spread
  migrate --from A --to B [--verify] [--state FILE] [--batch N] [--match PATTERN]
                        copy every key with its TTL from A (an alias or a ring LOCATION
                        host:port,...) to B (cluster seeds host:port,... or an alias);
                        --state makes it resumable, --verify compares both sides after
  <any Redis command>   run it, routed as the backend routes it (e.g. get user:1)

Where to connect (default: the CACHES setting in REDISDB_CACHES):
  --alias NAME          the alias to use (default: 'default', or the only alias)
  --config FILE         read the CACHES setting from a JSON file
  --ring HOST:PORT,...  a RedisRing of these nodes
  --copy HOST:PORT,...  a RedisCopy of these nodes
  --url URL             one server: redis://, rediss:// or unix:// (or HOST:PORT)

Options:
  --db N                database number (with --ring, --copy, --url)
  --password PASSWORD   or set REDISDB_PASSWORD (with --ring, --copy, --url)
  --hashing MODE        ketama (default) or hash_ring (with --ring, --copy)
  --timeout SECONDS     how long a reply may take (default 10)
  --json                print JSON
  -h, --help            show this help
  -v, --version         show the version
`;

const WITH_VALUE = ['--alias', '--config', '--ring', '--copy', '--url', '--db', '--password', '--hashing', '--timeout'];
const FLAGS = ['--json', '--help', '-h', '--version', '-v'];

export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CliArgs {
  const values = new Map<string, string>();
  const out: CliArgs = {
    target: { kind: 'alias', alias: null, config: null },
    json: false, db: null, password: env['REDISDB_PASSWORD'] ?? null, hashing: null, timeout: 10,
    help: false, version: false, command: [],
  };
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-')) break;
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (FLAGS.includes(name)) {
      if (eq > 0) throw new UsageError(`${name} takes no value`);
      if (name === '--json') out.json = true;
      else if (name === '--help' || name === '-h') out.help = true;
      else out.version = true;
      continue;
    }
    if (!WITH_VALUE.includes(name)) throw new UsageError(`unknown option '${name}'${suggestion(name, [...WITH_VALUE, ...FLAGS])}`);
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new UsageError(`${name} needs a value`);
    if (values.has(name)) throw new UsageError(`${name} given twice`);
    values.set(name, value);
  }
  out.command = argv.slice(i);

  const targets = ['--ring', '--copy', '--url', '--alias'].filter((n) => values.has(n));
  const direct = targets.filter((n) => n !== '--alias');
  if (direct.length > 1 || (direct.length === 1 && values.has('--alias'))) throw new UsageError(`give only one of ${targets.join(', ')}`);
  if (direct.length === 1 && values.has('--config')) throw new UsageError(`--config names a CACHES setting; it cannot go with ${direct[0]}`);

  const ring = values.get('--ring');
  const copy = values.get('--copy');
  const url = values.get('--url');
  if (ring !== undefined) out.target = { kind: 'RedisRing', nodes: nodeList('--ring', ring) };
  else if (copy !== undefined) out.target = { kind: 'RedisCopy', nodes: nodeList('--copy', copy) };
  else if (url !== undefined) out.target = { kind: 'ConstRedis', url };
  else out.target = { kind: 'alias', alias: values.get('--alias') ?? null, config: values.get('--config') ?? null };

  const connectionOptions = ['--db', '--password', '--hashing'].filter((n) => values.has(n));
  if (out.target.kind === 'alias' && connectionOptions.length > 0) {
    throw new UsageError(`${connectionOptions[0]} goes with --ring, --copy or --url; a configured alias has its own`);
  }
  const db = values.get('--db');
  if (db !== undefined) {
    if (!/^\d+$/.test(db)) throw new UsageError(`--db must be a database number, got '${db}'`);
    out.db = Number(db);
  }
  const password = values.get('--password');
  if (password !== undefined) out.password = password;
  const hashing = values.get('--hashing');
  if (hashing !== undefined) {
    if (hashing !== 'ketama' && hashing !== 'hash_ring') throw new UsageError(`--hashing must be ketama or hash_ring, got '${hashing}'`);
    if (out.target.kind === 'ConstRedis') throw new UsageError('--hashing goes with --ring or --copy');
    out.hashing = hashing;
  }
  const timeout = values.get('--timeout');
  if (timeout !== undefined) {
    const t = Number(timeout);
    if (timeout.trim() === '' || !Number.isFinite(t) || t <= 0) throw new UsageError(`--timeout must be a positive number of seconds, got '${timeout}'`);
    out.timeout = t;
  }
  if (out.command.length === 0 && !out.help && !out.version) throw new UsageError('no command given');
  return out;
}

function nodeList(option: string, text: string): string[] {
  const nodes = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (nodes.length === 0) throw new UsageError(`${option} needs node addresses such as 127.0.0.1:6379,127.0.0.1:6380`);
  return nodes;
}
