import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';

import { crc16, slotOf, slotOfBytes } from '../../src/hash/crc16.ts';

describe('slotOf', () => {
  it('is CRC16/XMODEM of the key mod 16384 (the cluster specification\'s test vector)', () => {
    assert.equal(crc16(Buffer.from('123456789')), 0x31c3);
    assert.equal(slotOf('123456789'), 0x31c3 & 16383);
  });

  it('gives a string the slot of its UTF-8 bytes, for every short key of braces, ASCII and wider characters', () => {
    // Every string of up to 5 characters from this alphabet: tags open, closed, empty, nested,
    // unclosed, and characters of 1, 2 and 3 UTF-8 bytes before, inside and after them.
    const alphabet = ['a', 'b', '{', '}', 'é', '中', ':'];
    let checked = 0;
    const visit = (prefix: string, left: number): void => {
      assert.equal(slotOf(prefix), slotOfBytes(Buffer.from(prefix)), JSON.stringify(prefix));
      checked++;
      if (left > 0) for (const c of alphabet) visit(prefix + c, left - 1);
    };
    visit('', 5);
    assert.equal(checked, 19_608);
  });

  it('reads a number as its decimal text and bytes as given', () => {
    assert.equal(slotOf(12345), slotOf('12345'));
    assert.equal(slotOf(Buffer.from('{user1000}.following')), slotOf('user1000'));
    assert.equal(slotOf(new Uint8Array([0xff, 0x7b, 0x61, 0x7d])), slotOf('a'));
  });
});
