import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { hashTagged, hashTagSpan, validateHashTag } from '../../src/hash/hash-tag.ts';

describe('hashTagged', () => {
  it('hashes the text between the first open and the next close character', () => {
    const cases: Array<[string, string]> = [
      ['user:{42}:name', '42'],
      ['{42}', '42'],
      ['{42}:x', '42'],
      ['a{b}c{d}', 'b'],
      ['{{nested}}', '{nested'],
      ['rev}x{y}', 'y'],
      ['{ключ}:1', 'ключ'],
      ['order:{🎉}:1', '🎉'],
    ];
    for (const [key, expected] of cases) assert.equal(hashTagged(key, '{}'), expected, key);
  });

  it('falls back to the whole key when the tag is missing, unclosed or empty', () => {
    for (const key of ['', 'plain', 'open{only', 'close}only', 'user:{}:empty', '{}', '}{', 'a{}b{c}']) {
      assert.equal(hashTagged(key, '{}'), key, key);
    }
  });

  it('supports other tag characters, including identical open and close', () => {
    assert.equal(hashTagged('$tag$:dollar', '$$'), 'tag');
    assert.equal(hashTagged('x$y$z', '$$'), 'y');
    assert.equal(hashTagged('$$empty', '$$'), '$$empty');
    assert.equal(hashTagged('a[b]c', '[]'), 'b');
    assert.equal(hashTagged('a{b}c', '[]'), 'a{b}c');
  });

  it('hashes the whole key when tags are off', () => {
    assert.equal(hashTagged('user:{42}:name', null), 'user:{42}:name');
  });

  it('rejects a tag that is not null or two characters', () => {
    for (const bad of ['', '{', '{}}', 42, undefined, {}, ['{', '}']]) {
      assert.throws(() => hashTagged('k', bad as string), TypeError);
      assert.throws(() => validateHashTag(bad), TypeError);
    }
    assert.equal(validateHashTag('{}'), '{}');
    assert.equal(validateHashTag(null), null);
  });
});

describe('hashTagSpan', () => {
  it('reports offsets of the tagged part and leaves the span alone otherwise', () => {
    const span = new Int32Array([-1, -1]);
    assert.equal(hashTagSpan('ab{cd}ef', '{', '}', span), true);
    assert.deepEqual(Array.from(span), [3, 5]);
    span.fill(-1);
    assert.equal(hashTagSpan('ab{}ef', '{', '}', span), false);
    assert.deepEqual(Array.from(span), [-1, -1]);
  });
});
