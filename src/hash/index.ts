/** Hashing: MD5, hash tags and the continuum that places keys on nodes (ketama, hash_ring). */
export { md5, md5FirstWord, md5FirstWordOfRange, md5Hex, md5Words, md5WordsOfRange } from './md5.js';
export type { Md5Input } from './md5.js';
export { hashTagged, hashTagSpan, validateHashTag } from './hash-tag.js';
export { Continuum, hashRingDigestsFor, ketamaPointsFor } from './continuum.js';
export type {
  ContinuumNode,
  ContinuumOptions,
  ContinuumPoint,
  DistributionMode,
  EmptyKeyHash,
  HashPlacement,
  KeyPlacement,
} from './continuum.js';
