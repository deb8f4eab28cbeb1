import { Buffer } from 'node:buffer';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Decoder, type Reply } from '../../src/resp/decode.ts';

// Two bulk strings, an array of two, then one more: three top-level replies.
const STREAM = Buffer.from('$3\r\nabc\r\n*2\r\n$1\r\nx\r\n$1\r\ny\r\n$2\r\nhi\r\n');

/** Decodes STREAM cut into `size`-byte chunks, the mode of reply i being modes[i]. */
function decode(size: number, modes: boolean[]): { replies: Reply[]; asked: number } {
  const replies: Reply[] = [];
  let asked = 0;
  const d = new Decoder((r) => replies.push(r), { buffers: () => modes[asked++]! });
  for (let at = 0; at < STREAM.length; at += size) d.feed(STREAM.subarray(at, at + size));
  return { replies, asked };
}

describe('Decoder Buffers mode', () => {
  it('is asked once at the start of each top-level reply, however the bytes are cut', () => {
    for (let size = 1; size <= STREAM.length; size++) {
      const { replies, asked } = decode(size, [true, false, true]);
      assert.equal(asked, 3, `chunks of ${size}`);
      assert.deepEqual(replies, [Buffer.from('abc'), ['x', 'y'], Buffer.from('hi')], `chunks of ${size}`);
      assert.deepEqual(decode(size, [false, true, false]).replies, ['abc', [Buffer.from('x'), Buffer.from('y')], 'hi']);
    }
  });

  it('is the same for every reply when given as a constant', () => {
    const all: Reply[] = [];
    const d = new Decoder((r) => all.push(r), { buffers: true });
    d.feed(STREAM);
    assert.deepEqual(all, [Buffer.from('abc'), [Buffer.from('x'), Buffer.from('y')], Buffer.from('hi')]);
    const none: Reply[] = [];
    new Decoder((r) => none.push(r)).feed(STREAM);
    assert.deepEqual(none, ['abc', ['x', 'y'], 'hi']);
  });
});
