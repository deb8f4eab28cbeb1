import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { COMMAND_SPECS_SERVER_VERSION, fallbackCommandInfo, fallbackCommandNames } from '../../src/client/command-specs.ts';
import { keyPositions, parseCommandInfo, type CommandInfo } from '../../src/client/command-table.ts';
import { Connection } from '../../src/connection/connection.ts';
import { resolveOptions } from '../../src/connection/options.ts';
import type { Reply } from '../../src/resp/decode.ts';
import { useServers } from '../helpers/servers.ts';

const REGENERATE = 'run `npx tsx scripts/command-specs/generate.ts` to bring the table up to date';

describe('the committed command table (for servers that refuse COMMAND)', () => {
  const servers = useServers(1);
  let conn: Connection;
  let live: CommandInfo[];
  let version: string;

  before(async () => {
    conn = new Connection(resolveOptions({ port: servers[0]!.port, socket_timeout: 10 }));
    const reply = (await conn.send(['COMMAND'])) as Reply[];
    live = reply.map((entry) => parseCommandInfo(entry)!);
    version = /redis_version:(\S+)/.exec(String(await conn.send(['INFO', 'server'])))?.[1] ?? 'unknown';
  });
  after(async () => {
    await conn.close();
  });

  it('describes every command of the live COMMAND reply exactly as parseCommandInfo reads it', () => {
    assert.ok(live.length > 200, `only ${live.length} commands`);
    let subcommands = 0;
    for (const info of live) {
      assert.deepEqual(fallbackCommandInfo(info.name), info, `${info.name} differs (table from ${COMMAND_SPECS_SERVER_VERSION}, server ${version}): ${REGENERATE}`);
      for (const sub of info.subcommands?.values() ?? []) {
        subcommands++;
        assert.deepEqual(fallbackCommandInfo(sub.name), sub, `${sub.name} differs: ${REGENERATE}`);
      }
    }
    assert.ok(subcommands > 50, `only ${subcommands} subcommands`);
  });

  it('describes no command the server does not have', () => {
    assert.deepEqual(fallbackCommandNames(), live.map((i) => i.name).sort(), REGENERATE);
  });

  it('takes names in any case, subcommands as container|sub or two words, and knows nothing else', () => {
    assert.equal(fallbackCommandInfo('MSET'), fallbackCommandInfo('mset'));
    assert.equal(fallbackCommandInfo('CLIENT GETNAME'), fallbackCommandInfo('client|getname'));
    assert.equal(fallbackCommandInfo('client|getname')?.name, 'client|getname');
    assert.equal(fallbackCommandInfo('json.get'), null);
    assert.equal(fallbackCommandInfo('client|nosuch'), null);
    assert.equal(fallbackCommandInfo('toString'), null);
    assert.equal(fallbackCommandInfo('__proto__'), null);
  });

  it('gives the key positions routing needs, where "the first argument is the key" is wrong', () => {
    const keys = (argv: string[]): number[] => keyPositions(fallbackCommandInfo(argv[0]!)!, argv);
    assert.deepEqual(keys(['MSET', 'a', '1', 'b', '2', 'c', '3']), [1, 3, 5]);
    assert.deepEqual(keys(['MGET', 'a', 'b', 'c']), [1, 2, 3]);
    assert.deepEqual(keys(['EVAL', 'return 1', '2', 'k1', 'k2', 'arg']), [3, 4]);
    assert.deepEqual(keys(['XREAD', 'COUNT', '2', 'STREAMS', 's1', 's2', '0', '0']), [4, 5]);
    assert.deepEqual(keys(['PUBLISH', 'ch', 'msg']), []);
    assert.equal(fallbackCommandInfo('mset')!.writes, true);
    assert.equal(fallbackCommandInfo('mget')!.writes, false);
  });
});
