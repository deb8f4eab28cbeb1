// A TypeScript user's program, compiled by test/package/types.test.ts against the package's
// declarations under strict settings: every line must compile as it is, and each line marked
// as expecting an error must stay an error.
import { ConstRedis, RedisCopy, RedisRing, ReplyError, type StrictRedis } from 'redisdb-client';

export async function main(): Promise<void> {
  const r = new ConstRedis({ host: '127.0.0.1', port: 6379, socket_timeout: 5 });
  const value: string | null = await r.get('k');
  const written: true | null = await r.set('k', 'v', { ex: 10, nx: true });
  const counter: number = await r.incr('n');
  const fields: Record<string, string> = await r.hgetall('h');
  const members: string[] = await r.zrange('z', 0, -1);
  const scored: Array<[string, number]> = await r.zrange('z', 0, -1, { withscores: true });
  const raw: Buffer | null = await r.getBuffer('k');
  // A core command the reference never named, declared from COMMAND DOCS.
  const expiring = await r.getex('k', 'EX', 10);
  // Module commands: call(), typed as Redis replies.
  const doc = await r.call('JSON.GET', 'doc', '$');

  const b = new ConstRedis({ returnBuffers: true });
  const bytes: Buffer | null = await b.get('k');
  const byteMembers: Buffer[] = await b.lrange('l', 0, -1);

  const ring = new RedisRing(['127.0.0.1:6379', '127.0.0.1:6380']);
  const read: string | null = await ring.get('k');
  const perNode: Array<true | null> = await ring.set('k', 'v');
  const counts: number[] = await ring.incr('n');
  const pings: boolean[] = await ring.ping();
  const merged: Array<string | null> = await ring.mget('a', 'b');

  const copy = new RedisCopy({ nodes: ['127.0.0.1:6379', { host: '127.0.0.1', port: 6380, weight: 2 }] });
  const added: number[] = await copy.zadd('z', { m: 1 });
  const copied: string | null = await copy.get('k');

  const strict: StrictRedis = r;
  const strictValue: string | null = await strict.get('k');

  try {
    await r.lpush('k', 'x');
  } catch (err) {
    if (err instanceof ReplyError) {
      const code: string = err.code;
      void code;
    }
  }

  // @ts-expect-error a misspelt command is an error on StrictRedis
  await strict.gett('k');
  // @ts-expect-error incr is a number
  const notText: string = await r.incr('n');
  // @ts-expect-error get is not a Buffer without returnBuffers
  const notBytes: Buffer | null = await r.get('k');
  // @ts-expect-error a write on a ring is one result per node
  const notSingle: true | null = await ring.set('k', 'v');
  // @ts-expect-error get needs its key
  await r.get();
  // @ts-expect-error no such set option
  await r.set('k', 'v', { bogus: true });

  void [value, written, counter, fields, members, scored, raw, expiring, doc, bytes, byteMembers, read, perNode, counts, pings, merged, added, copied, strictValue, notText, notBytes, notSingle];
  await Promise.all([r.close(), b.close(), ring.close(), copy.close()]);
}
