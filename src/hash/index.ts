/** Hashing: MD5, hash tags and the continuum that places keys on nodes (ketama, hash_ring). */
export { md5, md5FirstWord, md5FirstWordOfRange, md5Hex, md5Words, md5WordsOfRange } from './md5.ts';
export type { Md5Input } from './md5.ts';
export { hashTagged, hashTagSpan, validateHashTag } from './hash-tag.ts';
export { Continuum, hashRingDigestsFor, ketamaPointsFor } from './continuum.ts';
export type {
  ContinuumNode,
  ContinuumOptions,
  ContinuumPoint,
  DistributionMode,
  EmptyKeyHash,
  HashPlacement,
  KeyPlacement,
} from './continuum.ts';
export { crc16, slotOf, slotOfBytes, SLOT_COUNT } from './crc16.ts';
