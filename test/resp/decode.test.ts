import { Buffer } from 'node:buffer';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError, ReplyError } from '../../src/errors.ts';
import { splits } from '../helpers/splits.ts';
import { Decoder, type Reply } from '../../src/resp/decode.ts';

function decodeAll(chunks: Buffer[], buffers = false): Reply[] {
  const out: Reply[] = [];
  const d = new Decoder((r) => out.push(r), { buffers });
  for (const c of chunks) d.feed(c);
  return out;
}

const STREAM = Buffer.concat([
  Buffer.from('+OK\r\n-WRONGTYPE Operation against a key\r\n:0\r\n:-42\r\n:9007199254740993\r\n'),
  Buffer.from('$5\r\nhello\r\n$0\r\n\r\n$-1\r\n*-1\r\n*0\r\n'),
  Buffer.from('*3\r\n$3\r\nfoo\r\n*2\r\n:1\r\n*1\r\n+x\r\n$-1\r\n'),
  Buffer.from('$4\r\n\r\n\r\n\r\n'),
  Buffer.from('*2\r\n-ERR inner\r\n$2\r\nok\r\n'),
  Buffer.from('$8\r\nключ\r\n'),
]);

const EXPECTED: Reply[] = [
  'OK', new ReplyError('WRONGTYPE Operation against a key'), 0, -42, 9007199254740993n,
  'hello', '', null, null, [],
  ['foo', [1, ['x']], null],
  '\r\n\r\n',
  [new ReplyError('ERR inner'), 'ok'],
  'ключ',
];

describe('Decoder', () => {
  it('decodes every reply type', () => {
    const out = decodeAll([STREAM]);
    assert.deepEqual(out, EXPECTED);
    const err = out[1] as ReplyError;
    assert.ok(err instanceof ReplyError);
    assert.equal(err.code, 'WRONGTYPE');
  });

  it('gives the same replies however the bytes are split, down to one byte at a time', () => {
    for (const chunks of splits(STREAM)) assert.deepEqual(decodeAll(chunks), EXPECTED);
  });

  it('keeps every byte value in buffers mode', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const bytes = Buffer.concat([Buffer.from('$256\r\n'), all, Buffer.from('\r\n')]);
    for (const chunks of splits(bytes)) assert.deepEqual(decodeAll(chunks, true), [all]);
  });

  it('rejects malformed streams with ProtocolError and stays failed', () => {
    for (const bad of ['?x\r\n', '$3\r\nabcd\r\n', ':12a\r\n', '*x\r\n', '$-2\r\n', '+OK\rX']) {
      const d = new Decoder(() => {});
      assert.throws(() => d.feed(Buffer.from(bad)), ProtocolError, bad);
      assert.throws(() => d.feed(Buffer.from('+OK\r\n')), ProtocolError);
    }
  });

  it('does not allocate ahead of a huge declared bulk length', () => {
    const d = new Decoder(() => {}, { maxBulkLength: 2 ** 40 });
    const before = process.memoryUsage().arrayBuffers;
    d.feed(Buffer.from('$1099511627000\r\nabc'));
    assert.ok(process.memoryUsage().arrayBuffers - before < 1024 * 1024);
    assert.ok(d.midReply);
  });

  it('refuses bulk strings over maxBulkLength', () => {
    const d = new Decoder(() => {}, { maxBulkLength: 10 });
    assert.throws(() => d.feed(Buffer.from('$11\r\n')), /exceeds/);
  });
});
