import { Buffer } from 'node:buffer';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Decoder, type Reply } from '../../src/resp/decode.ts';

/**
 * The connection reads into one buffer it reuses for every read: the decoder must copy what
 * it keeps between two feeds, whatever the chunking.
 */
describe('Decoder with a reused read buffer', () => {
  const stream = Buffer.concat([
    Buffer.from('+OK\r\n:42\r\n'),
    Buffer.from(`$${Buffer.byteLength('héllo ✓'.repeat(500))}\r\n${'héllo ✓'.repeat(500)}\r\n`),
    Buffer.from('*3\r\n$3\r\nabc\r\n$-1\r\n+' + 'x'.repeat(300) + '\r\n'),
    Buffer.from(`$5000\r\n${'b'.repeat(5000)}\r\n`),
    Buffer.from('-ERR something went wrong\r\n'),
  ]);

  function decodeWithReuse(chunkSize: number, buffers: boolean): Reply[] {
    const replies: Reply[] = [];
    const d = new Decoder((r) => replies.push(r), { buffers });
    const reused = Buffer.alloc(chunkSize);
    for (let at = 0; at < stream.length; at += chunkSize) {
      const n = stream.copy(reused, 0, at, Math.min(at + chunkSize, stream.length));
      d.feed(reused.subarray(0, n));
      reused.fill(0x3f); // what a later read would leave there
    }
    return replies;
  }

  for (const buffers of [false, true]) {
    it(`gives the same replies at every chunk size (${buffers ? 'Buffers' : 'strings'})`, () => {
      const whole = decodeWithReuse(stream.length, buffers);
      assert.equal(whole.length, 6);
      for (const size of [1, 2, 3, 7, 64, 333, 1024, 4096]) {
        assert.deepEqual(decodeWithReuse(size, buffers), whole, `chunks of ${size}`);
      }
      const text = (r: Reply): string => (Buffer.isBuffer(r) ? r.toString() : String(r));
      assert.equal(text(whole[2]!), 'héllo ✓'.repeat(500));
      assert.equal(text(whole[4]!), 'b'.repeat(5000));
    });
  }
});
