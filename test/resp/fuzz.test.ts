import { Buffer } from 'node:buffer';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError } from '../../src/errors.ts';
import { Decoder, type Reply } from '../../src/resp/decode.ts';
import { fuzz } from '../../scripts/fuzz/resp-fuzz.ts';

/** Fixed, so a failure here is reproduced with `npx tsx scripts/fuzz/run.ts --seed 20261124 --case N`. */
const SEED = 20261124;

describe('RESP decoder fuzz', () => {
  it('a seeded run: only ProtocolError, chunking never matters, no allocation ahead of the data', () => {
    // A fixed number of cases, so the run is the same on a fast machine and a loaded one; the
    // deadline only guards against a hang.
    const cases = 4000;
    const report = fuzz({ seed: SEED, cases, deadlineMs: 120_000 });
    console.log(`# fuzz: ${report.cases} cases, ${report.bytes} bytes, ${Math.round(report.cases / (report.elapsedMs / 1000))} cases/s`);
    const shown = report.failures
      .map((f) => `case ${f.caseIndex} (${f.kind}): ${f.message}\n  bytes ${f.bytes.slice(0, 400)}`)
      .join('\n');
    assert.equal(report.failures.length, 0, shown);
    assert.equal(report.cases, cases, `only ${report.cases} cases ran`);
    for (const kind of ['valid', 'mutated', 'valid-resp3', 'mutated-resp3', 'noise', 'huge', 'longline', 'deep']) {
      assert.ok((report.byKind[kind] ?? 0) > 0, `no ${kind} case ran`);
    }
  });
});

describe('decoder limits found by the fuzzer', () => {
  function outcome(chunks: Buffer[], maxLineLength: number): { replies: Reply[]; error: string | null } {
    const replies: Reply[] = [];
    const d = new Decoder((r) => replies.push(r), { maxLineLength });
    try {
      for (const c of chunks) d.feed(c);
      return { replies, error: null };
    } catch (err) {
      assert.ok(err instanceof ProtocolError);
      return { replies, error: err.message };
    }
  }

  it('judges an over-long line the same whether it arrives whole or in pieces', () => {
    const line = Buffer.from(`+${'x'.repeat(120)}\r\n`);
    const whole = outcome([line], 100);
    assert.match(whole.error ?? '', /header line too long/);
    for (let cut = 1; cut < line.length; cut++) {
      assert.deepEqual(outcome([line.subarray(0, cut), line.subarray(cut)], 100), whole, `cut at ${cut}`);
    }
    // A line exactly at the limit passes in any chunking.
    const ok = Buffer.from(`+${'y'.repeat(99)}\r\n`);
    assert.deepEqual(outcome([ok], 100), { replies: ['y'.repeat(99)], error: null });
    assert.deepEqual(outcome([...ok].map((b) => Buffer.from([b])), 100), { replies: ['y'.repeat(99)], error: null });
  });

  it('takes a long line arriving one byte at a time in linear time', () => {
    const size = 300_000;
    const bytes = Buffer.from(`+${'z'.repeat(size)}\r\n`);
    let got: Reply = null;
    const d = new Decoder((r) => {
      got = r;
    });
    const started = performance.now();
    for (let i = 0; i < bytes.length; i++) d.feed(bytes.subarray(i, i + 1));
    const ms = performance.now() - started;
    assert.equal(typeof got === 'string' ? (got as string).length : -1, size);
    // Joining the line at every byte (the quadratic way) copies 45 GB here: minutes, not this.
    assert.ok(ms < 15_000, `took ${ms.toFixed(0)} ms`);
  });

  it('keeps working after empty chunks in the middle of a line', () => {
    const replies: Reply[] = [];
    const d = new Decoder((r) => replies.push(r));
    for (const piece of ['+O', '', 'K\r', '', '\n', '', ':1', '\r\n']) d.feed(Buffer.from(piece));
    assert.deepEqual(replies, ['OK', 1]);
  });
});
