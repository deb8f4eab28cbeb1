/** Cutting a multi-key command per node, and putting the replies back together. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeReplies, splitByNode, type MergePlan } from '../../src/backends/index.ts';
import type { CommandSpec } from '../../src/client/conventions.ts';
import { RedisError } from '../../src/errors.ts';

const spec = (argv: unknown[], reply: CommandSpec['reply'] = null): CommandSpec => ({ argv, words: 1, reply });

describe('splitByNode', () => {
  it('keeps the arguments before the first key and after the last with every part', () => {
    // A made-up command: CMD opt k1 k2 k3 tail1 tail2, keys on nodes 1, 0, 1.
    const s = splitByNode(spec(['CMD', 'opt', 'k1', 'k2', 'k3', 'tail1', 'tail2']), [2, 3, 4], [1, 0, 1], 1, false)!;
    assert.deepEqual(s.nodes, [0, 1]);
    assert.deepEqual(s.specs.map((x) => x.argv), [['CMD', 'opt', 'k2', 'tail1', 'tail2'], ['CMD', 'opt', 'k1', 'k3', 'tail1', 'tail2']]);
    assert.deepEqual(s.order, [[1], [0, 2]]);
  });

  it('moves each key with the arguments that belong to it (MSET key value)', () => {
    const s = splitByNode(spec(['MSET', 'a', '1', 'b', '2', 'c', '3']), [1, 3, 5], [2, 0, 2], 2, true)!;
    assert.deepEqual(s.nodes, [0, 2]);
    assert.deepEqual(s.specs.map((x) => x.argv), [['MSET', 'b', '2'], ['MSET', 'a', '1', 'c', '3']]);
  });

  it('keeps the reply shape only when asked (writes), and buffers mode always', () => {
    const shape = (r: unknown): unknown => r;
    const withBuffers = { ...spec(['MGET', 'a', 'b'], shape), buffers: true };
    const read = splitByNode(withBuffers, [1, 2], [0, 1], 1, false)!;
    assert.ok(read.specs.every((x) => x.reply === null && x.buffers === true));
    const write = splitByNode(withBuffers, [1, 2], [0, 1], 1, true)!;
    assert.ok(write.specs.every((x) => x.reply === shape));
  });

  it('refuses keys that are not one regular run', () => {
    assert.equal(splitByNode(spec(['CMD', 'k1', 'x', 'k2', 'k3']), [1, 3, 4], [0, 1, 0], 1, false), null);
    assert.equal(splitByNode(spec(['MSET', 'a', '1', 'b']), [1, 3], [0, 1], 2, false), null);
  });
});

describe('mergeReplies', () => {
  const plan = (merge: MergePlan['merge'], order: number[][] = [[0], [1]], finish: MergePlan['finish'] = null): MergePlan => ({
    kind: 'merge', nodes: order.map((_, i) => i), specs: order.map(() => spec(['CMD'])), merge, order, total: order.flat().length, finish,
  });

  it("puts values back in the caller's key order", () => {
    assert.deepEqual(mergeReplies(plan('ordered', [[1, 3], [0, 2]]), [['b', 'd'], ['a', null]]), ['a', 'b', null, 'd']);
  });

  it('sums, takes min / max, and combines with and / or', () => {
    assert.equal(mergeReplies(plan('sum'), [2, 3]), 5);
    assert.equal(mergeReplies(plan('min'), [1, 0]), 0);
    assert.equal(mergeReplies(plan('max'), [1, 7]), 7);
    assert.equal(mergeReplies(plan('and'), [1, 0]), 0);
    assert.equal(mergeReplies(plan('and'), [1, 1]), 1);
    assert.equal(mergeReplies(plan('or'), [0, 1]), 1);
    assert.equal(mergeReplies(plan('or'), [0, 0]), 0);
  });

  it("applies the command's own reply shape to the merged reply", () => {
    assert.equal(mergeReplies(plan('sum', [[0], [1]], (r) => Number(r) > 0), [0, 1]), true);
  });

  it('rejects replies that do not have one value per key', () => {
    assert.throws(() => mergeReplies(plan('ordered', [[0, 1], [2]]), [['a'], ['c']]), (err: unknown) => {
      assert.ok(err instanceof RedisError);
      assert.match(err.message, /expected one reply per key from each node, got an array of 1/);
      return true;
    });
    assert.throws(() => mergeReplies(plan('ordered'), ['a', ['b']]), /got string/);
  });
});
