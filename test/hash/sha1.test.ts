import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { sha1Hex } from '../../src/hash/sha1.ts';
import { seededRandom } from '../helpers/random.ts';

describe('sha1Hex', () => {
  it('gives the FIPS 180 test vectors', () => {
    assert.equal(sha1Hex(''), 'da39a3ee5e6b4b0d3255bfef95601890afd80709');
    assert.equal(sha1Hex('abc'), 'a9993e364706816aba3e25717850c26c9cd0d89d');
    assert.equal(sha1Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'), '84983e441c3bd26ebaae4aa1f95129e5e54670f1');
    assert.equal(sha1Hex('a'.repeat(1_000_000)), '34aa973cd4c4daa4f61eeb2bdbad27316534016f');
  });

  it('agrees with node:crypto on every length around the block edges, strings with any UTF-8, and bytes', () => {
    const random = seededRandom(20261201);
    for (let length = 0; length < 300; length++) {
      const bytes = Uint8Array.from({ length }, () => Math.floor(random() * 256));
      assert.equal(sha1Hex(bytes), createHash('sha1').update(bytes).digest('hex'), `length ${length}`);
      // Code points from ASCII to beyond the BMP (UTF-8 of 1 to 4 bytes), surrogates left out.
      const text = String.fromCodePoint(...Array.from({ length }, () => {
        const cp = Math.floor(random() * 0x2ffff);
        return cp >= 0xd800 && cp <= 0xdfff ? 0x41 : cp;
      }));
      assert.equal(sha1Hex(text), createHash('sha1').update(text, 'utf8').digest('hex'), `text of ${length} code points`);
    }
  });
});
