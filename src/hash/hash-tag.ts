/**
 * Hash tags, as twemproxy's `hash_tag` option defines them: with tag "{}",
 * the text between the first "{" and the first "}" after it is hashed
 * instead of the whole key, as long as that text is not empty. Keys sharing
 * a tag therefore land on the same node ("user:{42}:name", "user:{42}:mail").
 */

/**
 * Checks that `tag` is `null` (no tags) or a string of exactly two UTF-16
 * code units (opening and closing character); returns it typed.
 */
export function validateHashTag(tag: unknown): string | null {
  if (tag === null) return null;
  if (typeof tag !== 'string' || tag.length !== 2) {
    throw new TypeError(`hash tag must be null or a string of two characters (open, close), got ${describe(tag)}`);
  }
  return tag;
}

/**
 * Finds the tagged part of `key`. When there is one, stores its start
 * (inclusive) and end (exclusive) code-unit offsets in `span[0]`, `span[1]`
 * and returns true; otherwise returns false and leaves `span` alone.
 * Takes the two tag characters separately so callers can keep them
 * precomputed and stay allocation-free.
 */
export function hashTagSpan(key: string, open: string, close: string, span: Int32Array): boolean {
  const start = key.indexOf(open);
  if (start < 0) return false;
  const end = key.indexOf(close, start + 1);
  // An empty tag ("{}") does not count, so the whole key is hashed.
  if (end <= start + 1) return false;
  span[0] = start + 1;
  span[1] = end;
  return true;
}

const span = new Int32Array(2);

/** The part of `key` that is hashed under `tag` (`null` = the whole key). */
export function hashTagged(key: string, tag: string | null): string {
  const checked = validateHashTag(tag);
  if (checked === null) return key;
  if (!hashTagSpan(key, checked.charAt(0), checked.charAt(1), span)) return key;
  return key.slice(span[0], span[1]);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'undefined';
  return typeof value === 'object' ? 'an object' : String(value);
}
