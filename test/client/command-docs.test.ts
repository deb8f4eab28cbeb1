import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { perNodeMethods, render, type CommandDocs } from '../../scripts/command-docs/render.ts';
import { SNAPSHOT, TARGET } from '../../scripts/command-docs/generate.ts';
import { RedisCopy, RedisRing } from '../../src/index.ts';
import { useServers } from '../helpers/servers.ts';

const docs = JSON.parse(readFileSync(SNAPSHOT, 'utf8')) as CommandDocs;

describe('the typed command interface (COMMAND DOCS)', () => {
  it('is what scripts/command-docs/generate.ts makes of the stored COMMAND DOCS', () => {
    assert.equal(readFileSync(TARGET, 'utf8'), render(docs), 'run: npx tsx scripts/command-docs/generate.ts');
  });

  it('declares every core command of Redis 7', () => {
    const generated = readFileSync(TARGET, 'utf8');
    for (const method of ['get', 'set', 'getex', 'xadd', 'xreadgroup', 'client_getname', 'clientGetname', 'function_load', 'object_encoding', 'lmpop', 'zrangestore']) {
      assert.match(generated, new RegExp(`^  ${method}\\(`, 'm'), method);
    }
    assert.ok(Object.keys(docs.commands).length > 300);
  });

  describe('says which commands return one result per node, as the backends do', () => {
    const servers = useServers(2);
    const { writes, keyless } = perNodeMethods(docs);
    const perNode = new Set([...writes, ...keyless]);
    // Each method called on a ring and a copy of two nodes: its reply is an array of one result
    // per node exactly when the generated names say so (replies chosen not to be arrays themselves).
    const calls: Array<[string, unknown[]]> = [
      ['set', ['cd:k', 'v']], ['get', ['cd:k']], ['incr', ['cd:n']], ['append', ['cd:k', 'w']], ['strlen', ['cd:k']],
      ['ping', []], ['dbsize', []], ['echo', ['e']], ['publish', ['cd:channel', 'm']], ['type', ['cd:k']],
      ['exists', ['cd:k']], ['hset', ['cd:h', 'f', 'v']], ['hget', ['cd:h', 'f']], ['expire', ['cd:k', 100]], ['ttl', ['cd:k']],
      ['script_load', ['return 1']], ['unlink', ['cd:gone']],
    ];
    for (const kind of ['RedisRing', 'RedisCopy'] as const) {
      it(kind, async () => {
        const addresses = servers.map((s) => s.address);
        const backend = kind === 'RedisRing' ? new RedisRing(addresses) : new RedisCopy({ nodes: addresses });
        try {
          for (const [method, args] of calls) {
            const reply = await (backend[method] as (...a: unknown[]) => Promise<unknown>)(...args);
            assert.equal(Array.isArray(reply), perNode.has(method), `${kind}.${method}: ${JSON.stringify(reply)}`);
          }
        } finally {
          await backend.close();
        }
      });
    }
  });
});
