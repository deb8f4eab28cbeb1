/**
 * Writes src/client/commands.generated.ts: the typed command interface, from a real server's
 * COMMAND DOCS (and COMMAND, for which commands write and which take no keys).
 *
 *   npx tsx scripts/command-docs/generate.ts            from the stored command-docs.json
 *   npx tsx scripts/command-docs/generate.ts --server   read the redis-server on PATH first, store it
 *
 * test/client/command-docs.test.ts checks the committed file is what the stored JSON gives.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Reply } from '../../src/resp/decode.ts';
import { withScratchServer } from '../lib/scratch-server.ts';
import { render, type CommandDocs, type DocArg, type DocCommand } from './render.ts';

export const SNAPSHOT = fileURLToPath(new URL('command-docs.json', import.meta.url));
export const TARGET = fileURLToPath(new URL('../../src/client/commands.generated.ts', import.meta.url));

function pairs(r: Reply | undefined): Map<string, Reply> {
  if (!Array.isArray(r)) throw new TypeError('expected a map in the COMMAND DOCS reply');
  const m = new Map<string, Reply>();
  for (let i = 0; i + 1 < r.length; i += 2) m.set(String(r[i]), r[i + 1]!);
  return m;
}

function arg(r: Reply): DocArg {
  const m = pairs(r);
  const flags = (m.get('flags') as Reply[] | undefined)?.map(String) ?? [];
  const a: DocArg = { name: String(m.get('name')), type: String(m.get('type')) };
  if (m.has('token')) a.token = String(m.get('token'));
  if (flags.includes('optional')) a.optional = true;
  if (flags.includes('multiple')) a.multiple = true;
  if (m.has('arguments')) a.args = (m.get('arguments') as Reply[]).map(arg);
  return a;
}

function fromServer(): Promise<CommandDocs> {
  return withScratchServer(async (conn, version) => {
    // COMMAND: whether each command (and subcommand) writes, and whether it has keys.
    const kinds = new Map<string, { write: boolean; keyless: boolean }>();
    const learn = (entry: Reply): void => {
      const e = entry as Reply[];
      const flags = (e[2] as Reply[]).map(String);
      kinds.set(String(e[0]).toLowerCase(), { write: flags.includes('write'), keyless: e[3] === 0 && (e[8] as Reply[]).length === 0 });
      for (const sub of e[9] as Reply[]) learn(sub);
    };
    for (const entry of (await conn.send(['COMMAND'])) as Reply[]) learn(entry);
    const commands: Record<string, DocCommand> = {};
    const add = (name: string, r: Reply): void => {
      const m = pairs(r);
      const group = String(m.get('group'));
      if (group === 'module') return;
      const kind = kinds.get(name) ?? { write: false, keyless: true };
      const subs = m.get('subcommands');
      if (subs !== undefined) {
        for (const [sub, doc] of pairs(subs)) add(sub, doc);
        return; // a container is called through its subcommands
      }
      commands[name] = {
        summary: String(m.get('summary') ?? ''),
        since: String(m.get('since') ?? ''),
        group,
        args: ((m.get('arguments') as Reply[] | undefined) ?? []).map(arg),
        ...kind,
      };
    };
    for (const [name, doc] of pairs(await conn.send(['COMMAND', 'DOCS']))) add(name.toLowerCase(), doc);
    const sorted = Object.fromEntries(Object.entries(commands).sort(([a], [b]) => (a < b ? -1 : 1)));
    return { server: version, commands: sorted };
  });
}

async function main(): Promise<void> {
  if (process.argv.includes('--server')) {
    const docs = await fromServer();
    writeFileSync(SNAPSHOT, `${JSON.stringify(docs, null, 1)}\n`);
    console.log(`stored ${Object.keys(docs.commands).length} commands of Redis ${docs.server} in ${SNAPSHOT}`);
  }
  const docs = JSON.parse(readFileSync(SNAPSHOT, 'utf8')) as CommandDocs;
  writeFileSync(TARGET, render(docs));
  console.log(`wrote ${TARGET}`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
