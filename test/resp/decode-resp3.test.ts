import { Buffer } from 'node:buffer';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError, ReplyError } from '../../src/errors.ts';
import { splits } from '../helpers/splits.ts';
import { Decoder, isMap, type Reply } from '../../src/resp/decode.ts';

interface Decoded {
  replies: Reply[];
  pushes: Reply[][];
  /** For each reply and push, in arrival order: 'r' or 'p'. */
  order: string;
}

function decodeAll(chunks: Buffer[], buffers = false): Decoded {
  const out: Decoded = { replies: [], pushes: [], order: '' };
  const d = new Decoder((r) => {
    out.replies.push(r);
    out.order += 'r';
  }, {
    buffers,
    pushBuffers: buffers,
    onPush: (frame) => {
      out.pushes.push(frame);
      out.order += 'p';
    },
  });
  for (const c of chunks) d.feed(c);
  assert.equal(d.midReply, false);
  return out;
}

/** Each RESP3 type, and what it must decode to: RESP2's shape of the same reply. */
const CASES: Array<[string, string, Reply]> = [
  ['null', '_\r\n', null],
  ['boolean true', '#t\r\n', 1],
  ['boolean false', '#f\r\n', 0],
  ['double', ',3.141\r\n', '3.141'],
  ['double with exponent', ',-1.5e+20\r\n', '-1.5e+20'],
  ['double inf', ',inf\r\n', 'inf'],
  ['double -inf', ',-inf\r\n', '-inf'],
  ['double nan', ',nan\r\n', 'nan'],
  ['big number', '(3492890328409238509324850943850943825024385\r\n', '3492890328409238509324850943850943825024385'],
  ['negative big number', '(-12345678901234567890123\r\n', '-12345678901234567890123'],
  ['verbatim string', '=15\r\ntxt:Some string\r\n', 'Some string'],
  ['verbatim string with CRLF and UTF-8 inside', '=15\r\nmkd:a\r\nключ\r\n', 'a\r\nключ'],
  ['empty verbatim string', '=4\r\ntxt:\r\n', ''],
  ['blob error', '!21\r\nSYNTAX invalid syntax\r\n', new ReplyError('SYNTAX invalid syntax')],
  ['map', '%2\r\n+first\r\n:1\r\n$6\r\nsecond\r\n,2.5\r\n', ['first', 1, 'second', '2.5']],
  ['empty map', '%0\r\n', []],
  ['set', '~3\r\n+orange\r\n+apple\r\n#t\r\n', ['orange', 'apple', 1]],
  ['empty set', '~0\r\n', []],
  ['attribute before a reply (dropped)', '|1\r\n+key-popularity\r\n*2\r\n$1\r\na\r\n,0.1923\r\n$5\r\nhello\r\n', 'hello'],
  ['attribute inside an array (dropped)', '*2\r\n:1\r\n|1\r\n+ttl\r\n:3600\r\n:2\r\n', [1, 2]],
  ['empty attribute', '|0\r\n:7\r\n', 7],
  ['nested maps and sets', '%1\r\n$4\r\nkeys\r\n~2\r\n%1\r\n+a\r\n_\r\n*0\r\n', ['keys', [['a', null], []]]],
];

describe('Decoder: RESP3', () => {
  for (const [what, wire, want] of CASES) {
    it(`${what}, split at every byte`, () => {
      const bytes = Buffer.from(wire);
      for (const chunks of splits(bytes)) {
        const got = decodeAll(chunks);
        assert.deepEqual(got.replies, [want], `${what} in ${chunks.length} chunks`);
        assert.equal(got.pushes.length, 0);
      }
    });
  }

  it('all of them in one stream, then RESP2 replies, in every split', () => {
    const bytes = Buffer.concat([...CASES.map(([, wire]) => Buffer.from(wire)), Buffer.from('+OK\r\n$3\r\nend\r\n')]);
    const want = [...CASES.map(([, , r]) => r), 'OK', 'end'];
    for (const chunks of splits(bytes)) assert.deepEqual(decodeAll(chunks).replies, want);
  });

  it('marks the arrays that were maps, and only those', () => {
    const { replies } = decodeAll([Buffer.from('%1\r\n+k\r\n~1\r\n:1\r\n*2\r\n+k\r\n%0\r\n')]);
    const [map, array] = replies as [Reply[], Reply[]];
    assert.equal(isMap(map), true);
    assert.equal(isMap(map[1]), false); // a set
    assert.equal(isMap(array), false);
    assert.equal(isMap(array[1]), true);
    assert.equal(isMap('k'), false);
  });

  it('gives Buffers for doubles, big numbers and verbatim strings in buffers mode', () => {
    const bytes = Buffer.from(',1.5\r\n(123\r\n=6\r\ntxt:\xff\xfe\r\n!3\r\nERR\r\n', 'latin1');
    for (const chunks of splits(bytes)) {
      const { replies } = decodeAll(chunks, true);
      assert.deepEqual(replies.slice(0, 3), [Buffer.from('1.5'), Buffer.from('123'), Buffer.from([0xff, 0xfe])]);
      assert.ok(replies[3] instanceof ReplyError && replies[3].message === 'ERR');
    }
  });

  it('hands push frames to onPush, never as replies, wherever they fall between replies', () => {
    // A pipeline's three replies with invalidations before, between and after them, one of
    // them arriving while a bulk string of the pipeline is still being read.
    const bytes = Buffer.from([
      '>2\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\nfoo\r\n',
      '+OK\r\n',
      '>2\r\n$10\r\ninvalidate\r\n_\r\n',
      '*2\r\n$5\r\nhello\r\n%1\r\n+a\r\n:1\r\n',
      '>3\r\n$7\r\nmessage\r\n$2\r\nch\r\n=8\r\ntxt:data\r\n',
      ':42\r\n',
      '>0\r\n',
    ].join(''));
    for (const chunks of splits(bytes)) {
      const got = decodeAll(chunks);
      assert.deepEqual(got.replies, ['OK', ['hello', ['a', 1]], 42]);
      assert.deepEqual(got.pushes, [['invalidate', ['foo']], ['invalidate', null], ['message', 'ch', 'data'], []]);
      assert.equal(got.order, 'prprprp');
    }
  });

  it('decodes push frames with pushBuffers, whatever the replies are decoded as', () => {
    const frames: Reply[][] = [];
    const replies: Reply[] = [];
    const d = new Decoder((r) => replies.push(r), { buffers: () => false, pushBuffers: true, onPush: (f) => frames.push(f) });
    d.feed(Buffer.from('$1\r\na\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n$1\r\nb\r\n'));
    assert.deepEqual(replies, ['a', 'b']);
    assert.deepEqual(frames, [[Buffer.from('invalidate'), [Buffer.from('k')]]]);
  });

  it('drops push frames when no one listens', () => {
    const replies: Reply[] = [];
    const d = new Decoder((r) => replies.push(r));
    d.feed(Buffer.from('>2\r\n+invalidate\r\n_\r\n:1\r\n'));
    assert.deepEqual(replies, [1]);
  });

  it('does not recurse: a map nested 100,000 deep decodes', () => {
    const depth = 100_000;
    const bytes = Buffer.from('%1\r\n+k\r\n'.repeat(depth) + '_\r\n');
    let got: Reply = null;
    new Decoder((r) => {
      got = r;
    }).feed(bytes);
    let n = 0;
    for (let r: Reply = got; Array.isArray(r); r = r[1]!) n++;
    assert.equal(n, depth);
  });

  it('keeps the bulk limit for verbatim strings and blob errors', () => {
    for (const type of ['=', '!']) {
      const d = new Decoder(() => {}, { maxBulkLength: 10 });
      assert.throws(() => d.feed(Buffer.from(`${type}11\r\n`)), /exceeds/);
    }
  });

  it('rejects malformed RESP3 with ProtocolError and stays failed', () => {
    const bad = [
      '_x\r\n', '#x\r\n', '#tt\r\n', '#\r\n', ',\r\n', ',1.5x\r\n', '(\r\n', '(12a\r\n', '(-\r\n',
      '=3\r\ntxt\r\n', '=-1\r\n', '!-1\r\n', '%-1\r\n', '~-1\r\n', '>-1\r\n', '|-1\r\n', '%x\r\n',
      '*1\r\n>1\r\n:1\r\n', '=5\r\ntxt:ab\r\n', '$?\r\n', ';4\r\n',
    ];
    for (const wire of bad) {
      const d = new Decoder(() => {}, { onPush: () => {} });
      assert.throws(() => d.feed(Buffer.from(wire)), ProtocolError, wire);
      assert.throws(() => d.feed(Buffer.from('+OK\r\n')), ProtocolError, wire);
    }
  });
});
