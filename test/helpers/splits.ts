import { Buffer } from 'node:buffer';

/** Every way of cutting `bytes` in two, plus one byte at a time: what a decoder must not notice. */
export function splits(bytes: Buffer): Buffer[][] {
  const ways: Buffer[][] = [[bytes]];
  for (let i = 1; i < bytes.length; i++) ways.push([bytes.subarray(0, i), bytes.subarray(i)]);
  ways.push([...bytes].map((b) => Buffer.from([b])));
  return ways;
}
