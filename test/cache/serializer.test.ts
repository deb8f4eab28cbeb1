import { Buffer } from 'node:buffer';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonSerializer } from '../../src/cache/serializer.ts';

const { dumps, loads } = jsonSerializer;
const roundTrip = (v: unknown): unknown => loads(dumps(v));

describe('jsonSerializer', () => {
  it('stores safe integers as bare digits, so INCRBY works on them', () => {
    assert.equal(dumps(42), '42');
    assert.equal(dumps(-7), '-7');
    assert.equal(loads('42'), 42);
    assert.equal(loads('-7'), -7);
  });

  it('reads integers beyond 2^53 (from INCRBY) as bigint', () => {
    assert.equal(loads('9007199254740993'), 9007199254740993n);
  });

  it('keeps Date, Buffer, Uint8Array, bigint, Map and Set intact, nested', () => {
    const value = {
      when: new Date('2024-02-29T12:34:56.789Z'),
      bytes: Buffer.from([0, 1, 2, 255]),
      raw: new Uint8Array([9, 8, 7]),
      big: 12345678901234567890n,
      map: new Map<unknown, unknown>([['a', 1], [2, new Set(['x', 'y'])]]),
      list: [1.5, 'two', null, true, new Date(0)],
      nested: { deeper: { n: -0, inf: Infinity, nan: NaN } },
    };
    const back = roundTrip(value) as typeof value;
    assert.deepEqual(back, value);
    assert.ok(back.when instanceof Date);
    assert.ok(Buffer.isBuffer(back.bytes));
    assert.ok(back.raw instanceof Uint8Array && !Buffer.isBuffer(back.raw));
    assert.equal(typeof back.big, 'bigint');
    assert.ok(Object.is(back.nested.deeper.n, -0));
  });

  it('never mistakes user data for a tag', () => {
    const tricky = { $t: 'Date', v: 5, inner: { $t: 'Set', v: [1] } };
    assert.deepEqual(roundTrip(tricky), tricky);
    assert.deepEqual(roundTrip([{ $t: 'Map', v: [] }]), [{ $t: 'Map', v: [] }]);
  });

  it('round-trips strings, including ones that look like numbers or JSON', () => {
    for (const s of ['', 'hello', '42', '{"a":1}', '"quoted"', 'null']) assert.equal(roundTrip(s), s);
  });

  it('returns stored text that is not JSON as the string itself', () => {
    assert.equal(loads('plain text'), 'plain text');
    assert.equal(loads(Buffer.from('caf\u00e9')), 'caf\u00e9');
  });

  it('refuses undefined, functions and cycles with a TypeError', () => {
    assert.throws(() => dumps(undefined), TypeError);
    assert.throws(() => dumps(() => 1), TypeError);
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    assert.throws(() => dumps(cyclic), /circular/);
  });

  it('uses toJSON of class instances', () => {
    class Point { readonly x: number; readonly y: number; constructor(x: number, y: number) { this.x = x; this.y = y; } toJSON() { return [this.x, this.y]; } }
    assert.deepEqual(roundTrip(new Point(1, 2)), [1, 2]);
  });
});
