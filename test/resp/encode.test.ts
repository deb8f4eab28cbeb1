import { Buffer } from 'node:buffer';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { Connection } from '../../src/connection/connection.ts';
import { resolveOptions } from '../../src/connection/options.ts';
import { RequestWriter, encodeCommand, numberToArg } from '../../src/resp/encode.ts';
import { useServers } from '../helpers/servers.ts';

/** The plain definition of RESP2 request encoding, to compare the writer with. */
function expected(args: readonly unknown[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const body = a instanceof Uint8Array ? Buffer.from(a) : Buffer.from(typeof a === 'number' ? numberToArg(a)! : String(a), 'utf8');
    parts.push(Buffer.from(`$${body.length}\r\n`), body, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

function joined(out: Buffer | Array<Uint8Array | string>): Buffer {
  return Array.isArray(out) ? Buffer.concat(out.map((c) => (typeof c === 'string' ? Buffer.from(c) : c))) : Buffer.from(out);
}

const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

const SAMPLES: unknown[][] = [
  ['PING'],
  ['SET', 'key', 'value'],
  ['SET', 'clé', 'héllo wörld ✓'],
  ['SET', 'emoji', '😀 and a lone surrogate \ud800 here'],
  ['SET', 'long', 'x'.repeat(129)],
  ['SET', 'long-utf8', 'é'.repeat(5000)],
  ['SET', 'large', 'x'.repeat(20_000), 'large-utf8', '✓'.repeat(17_000) + '😀'],
  ['SET', 'ascii-then-not', 'a'.repeat(100) + 'ß'],
  ['INCRBY', 'n', 0, -0, 42, -7, 1.5, 1e21, -1e22, 2 ** 53 + 2],
  ['INCRBY', 'big', 123456789012345678901234567890n, -5n],
  ['SET', 'bin', bytes(10, 1)],
  ['SET', 'bin-empty', new Uint8Array(0)],
  ['SET', 'bin-large', bytes(40_000, 2)],
  ['SET', 'empty', ''],
  Array.from({ length: 12 }, (_, i) => `arg${i}`),
];

describe('RequestWriter', () => {
  it('encodes every kind of argument as RESP2 defines it', () => {
    for (const args of SAMPLES) {
      assert.deepEqual(encodeCommand(args), expected(args), `args ${JSON.stringify(args, (_, v) => (typeof v === 'bigint' ? String(v) : v)).slice(0, 80)}`);
    }
  });

  it('a batch spanning slabs and large binary chunks comes out whole and in order', () => {
    const w = new RequestWriter();
    const all: unknown[][] = [];
    for (let i = 0; i < 3000; i++) {
      const args = i % 500 === 7 ? ['SET', `k${i}`, bytes(20_000 + i, i)]
        : i % 500 === 9 ? ['SET', `k${i}`, 'ü'.repeat(30_000 + i)]
          : ['SET', `k${i}`, `v${i}`.repeat(i % 50)];
      w.write(args);
      all.push(args);
    }
    assert.equal(w.count, 3000);
    const out = w.take();
    assert.ok(Array.isArray(out), 'more than one slab: chunks');
    const want = Buffer.concat(all.map(expected));
    assert.equal(w.size, 0);
    assert.deepEqual(joined(out), want);
    assert.equal(w.empty, true);
  });

  it('bytes handed over are never written again by later commands', () => {
    const w = new RequestWriter();
    w.write(['SET', 'a', '1']);
    const first = w.take();
    const copy = Buffer.from(joined(first));
    for (let i = 0; i < 5000; i++) w.write(['SET', `key-${i}`, 'é'.repeat(i % 40)]);
    w.take();
    assert.deepEqual(joined(first), copy);
  });

  it('recycle() reuses the slab once everything taken is written, and never drops pending bytes', () => {
    const w = new RequestWriter();
    w.write(['SET', 'a', '1']);
    const first = w.take() as Buffer;
    w.recycle();
    w.write(['GET', 'a']);
    const second = w.take() as Buffer;
    assert.equal(second.buffer, first.buffer);
    assert.equal(second.byteOffset, first.byteOffset, 'written from the start of the same slab');
    assert.deepEqual(Buffer.from(second), expected(['GET', 'a']));
    w.write(['SET', 'b', '2']);
    w.recycle(); // bytes not taken yet: nothing may move
    w.write(['GET', 'b']);
    assert.deepEqual(joined(w.take()), Buffer.concat([expected(['SET', 'b', '2']), expected(['GET', 'b'])]));
  });

  it('a bad argument is a TypeError naming it, and nothing is appended', () => {
    const w = new RequestWriter();
    w.write(['SET', 'a', '1']);
    const before = w.size;
    assert.throws(() => w.write(['SET', 'b', { x: 1 }]), (e: unknown) => e instanceof TypeError && /argument 2 is an object/.test(e.message));
    assert.throws(() => w.write(['SET', 'b', Infinity]), (e: unknown) => e instanceof TypeError && /finite number/.test(e.message));
    assert.throws(() => w.write(['SET', null, 'x']), TypeError);
    assert.equal(w.size, before);
    assert.equal(w.count, 1);
    assert.deepEqual(joined(w.take()), expected(['SET', 'a', '1']));
  });

  it('a command written by one writer is copied into others byte for byte', () => {
    const args = ['SET', 'clé', 42, 7n, Buffer.from([0, 255])];
    const long = ['SET', 'long', 'x'.repeat(1000)];
    const a = new RequestWriter();
    const b = new RequestWriter();
    const c = new RequestWriter();
    c.write(['PING']);
    a.write(args);
    c.writeEncoded(a.lastCommand()!);
    b.writeEncoded(c.lastCommand()!);
    assert.equal(c.count, 2);
    assert.deepEqual(joined(c.take()), Buffer.concat([expected(['PING']), expected(args)]));
    assert.deepEqual(joined(b.take()), expected(args));
    a.write(long);
    b.writeEncoded(a.lastCommand()!);
    assert.deepEqual(joined(b.take()), expected(long));
    // Not in one piece (a large argument goes out as it is): each writer encodes it itself.
    a.write(['SET', 'k', Buffer.alloc(100_000)]);
    assert.equal(a.lastCommand(), null);
    // Once everything taken is written, the slab starts over and the old place means nothing.
    a.write(['PING']);
    assert.notEqual(a.lastCommand(), null);
    a.take();
    a.recycle();
    assert.equal(a.lastCommand(), null);
  });
});

describe('encoding against a real server', () => {
  const servers = useServers(1);
  let client: ConstRedis;
  before(() => {
    client = new ConstRedis({ port: servers[0]!.port });
  });
  after(() => client.close());

  it('what is written is what Redis stores, for every kind of argument', async () => {
    const values: Array<[string, string | Uint8Array]> = [
      ['ascii', 'plain'], ['utf8', 'héllo wörld ✓ 😀'], ['long', 'é'.repeat(70_000)], ['mid', 'ß'.repeat(9000)],
      ['bin', bytes(1000, 3)], ['bin-large', bytes(100_000, 4)], ['empty', ''],
    ];
    await Promise.all(values.map(([k, v]) => client.set(`enc:${k}`, v)));
    for (const [k, v] of values) {
      const got = (await client.getBuffer(`enc:${k}`)) as Buffer;
      assert.deepEqual(got, typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v), k);
    }
    assert.equal(await client.incrby('enc:n', 2 ** 40), 2 ** 40);
    assert.equal(await client.incrby('enc:n', -5n), 2 ** 40 - 5);
  });

  it('a pipeline of thousands of commands issued in one tick, written as it grows', async () => {
    const n = 20_000;
    const replies = await Promise.all(Array.from({ length: n }, (_, i) => client.set(`enc:p:${i}`, `value-${i}-é`)));
    assert.equal(replies.filter((r) => r === true).length, n);
    const got = await client.mget(Array.from({ length: n }, (_, i) => `enc:p:${i}`));
    assert.deepEqual(got, Array.from({ length: n }, (_, i) => `value-${i}-é`));
  });

  it('a reply shape that throws rejects only its own command', async () => {
    const conn = new Connection(resolveOptions({ port: servers[0]!.port }));
    try {
      const bad = conn.sendShaped(['PING'], undefined, () => {
        throw new RangeError('shape failed');
      });
      const good = conn.sendShaped(['ECHO', 'hi'], undefined, (r) => `got ${String(r)}`);
      await assert.rejects(bad, RangeError);
      assert.equal(await good, 'got hi');
    } finally {
      await conn.close();
    }
  });
});
