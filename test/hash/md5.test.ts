import { Buffer } from 'node:buffer';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import { md5, md5FirstWord, md5FirstWordOfRange, md5Hex, md5Words } from '../../src/hash/md5.ts';
import { seededRandom } from '../helpers/random.ts';

function reference(input: string | Uint8Array): Buffer {
  return createHash('md5').update(input).digest();
}

/** Deterministic, so a failure can be reproduced. */
const prng = seededRandom;

// Code points from every UTF-8 length class, plus surrogate pairs.
const ALPHABET = ['a', 'Z', '0', ' ', '\t', '\u0000', 'é', 'ж', 'ß', '中', '键', '€', '\uffff', '🔑', '🎉', '𝄞'];

function randomString(random: () => number, units: number): string {
  let s = '';
  while (s.length < units) s += ALPHABET[Math.floor(random() * ALPHABET.length)]!;
  return s;
}

function assertMatches(input: string | Uint8Array): void {
  const expected = reference(input);
  assert.deepEqual(Buffer.from(md5(input)), expected);
  assert.equal(md5Hex(input), expected.toString('hex'));
  assert.equal(md5FirstWord(input), expected.readUInt32LE(0));
  assert.deepEqual(
    Array.from(md5Words(input)),
    [0, 4, 8, 12].map((o) => expected.readUInt32LE(o)),
  );
}

describe('md5', () => {
  it('matches the RFC 1321 test suite', () => {
    const suite: Array<[string, string]> = [
      ['', 'd41d8cd98f00b204e9800998ecf8427e'],
      ['a', '0cc175b9c0f1b6a831c399e269772661'],
      ['abc', '900150983cd24fb0d6963f7d28e17f72'],
      ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
      ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
      ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 'd174ab98d277d9f5a5611c2c9f419d9f'],
      [
        '12345678901234567890123456789012345678901234567890123456789012345678901234567890',
        '57edf4a22be3c955ac49da2e2107b67a',
      ],
    ];
    for (const [input, hex] of suite) {
      assert.equal(md5Hex(input), hex, JSON.stringify(input));
      assert.equal(md5Hex(new TextEncoder().encode(input)), hex, `bytes of ${JSON.stringify(input)}`);
    }
  });

  it('agrees with node:crypto on lengths around block boundaries', () => {
    const random = prng(1);
    for (const n of [0, 1, 54, 55, 56, 57, 63, 64, 65, 119, 120, 121, 127, 128, 129, 183, 184]) {
      const bytes = new Uint8Array(n).map(() => Math.floor(random() * 256));
      assertMatches(bytes);
      assertMatches('k'.repeat(n));
      // Multi-byte characters moving the byte length across the same boundaries.
      assertMatches('é'.repeat(n));
      assertMatches(`${'x'.repeat(n)}中`);
    }
  });

  it('agrees with node:crypto on 3000 random strings and byte arrays of 0..300 units', () => {
    const random = prng(42);
    for (let i = 0; i < 1500; i++) {
      const n = Math.floor(random() * 301);
      assertMatches(randomString(random, n));
      assertMatches(new Uint8Array(randomBytes(n)));
    }
  });

  it('hashes inputs longer than its scratch block', () => {
    const random = prng(7);
    for (const n of [8191, 8192, 8193, 8192 * 2 + 5, 100_000]) {
      const bytes = new Uint8Array(n).map(() => Math.floor(random() * 256));
      assertMatches(bytes);
      assertMatches(randomString(random, Math.ceil(n / 2)));
      assertMatches('é'.repeat(n));
    }
  });

  it('hashes a Uint8Array view by its own bytes, not its whole buffer', () => {
    const backing = new Uint8Array(randomBytes(200));
    const view = backing.subarray(3, 150);
    assertMatches(view);
    assertMatches(Buffer.from('buffer input'));
  });

  it('encodes unpaired surrogates as U+FFFD, like Buffer and TextEncoder', () => {
    for (const s of ['\ud800', 'a\udc00b', '\ud83d', 'x\ud83d', '\udfff\ud800', '🔑\ud83d']) {
      assertMatches(s);
      assert.equal(md5Hex(s), md5Hex(new TextEncoder().encode(s)));
    }
  });

  it('writes md5Words into the given array without allocating a new one', () => {
    const out = new Uint32Array(4);
    assert.equal(md5Words('user:1', out), out);
    const expected = reference('user:1');
    assert.deepEqual(Array.from(out), [0, 4, 8, 12].map((o) => expected.readUInt32LE(o)));
    assert.equal(md5Words('user:2', out), out);
    assert.equal(out[0], md5FirstWord('user:2'));
    assert.throws(() => md5Words('x', new Uint32Array(3)), RangeError);
  });

  it('hashes a range of a string like the corresponding slice', () => {
    const s = 'prefix:{ключ}:🔑:suffix';
    for (let start = 0; start <= s.length; start += 3) {
      for (let end = start; end <= s.length; end += 2) {
        assert.equal(md5FirstWordOfRange(s, start, end), md5FirstWord(s.slice(start, end)), `[${start}, ${end})`);
      }
    }
    const long = 'ж'.repeat(5000);
    assert.equal(md5FirstWordOfRange(long, 10, 4990), md5FirstWord(long.slice(10, 4990)));
    assert.throws(() => md5FirstWordOfRange(s, 5, 2), RangeError);
    assert.throws(() => md5FirstWordOfRange(s, -1, 2), RangeError);
    assert.throws(() => md5FirstWordOfRange(s, 0, s.length + 1), RangeError);
    assert.throws(() => md5FirstWordOfRange(s, 0.5, 2), RangeError);
  });

  it('returns unsigned values and fresh digests', () => {
    const first = md5('a');
    const second = md5('a');
    assert.notEqual(first, second);
    assert.deepEqual(first, second);
    for (let i = 0; i < 200; i++) {
      const w = md5FirstWord(`k${i}`);
      assert.ok(Number.isInteger(w) && w >= 0 && w <= 0xffffffff);
    }
  });

  it('rejects inputs that are neither strings nor byte arrays', () => {
    assert.throws(() => md5(42 as unknown as string), TypeError);
    assert.throws(() => md5Hex(null as unknown as string), TypeError);
    assert.throws(() => md5FirstWord([1, 2] as unknown as Uint8Array), TypeError);
  });
});
