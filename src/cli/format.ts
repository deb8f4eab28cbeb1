import { Buffer } from 'node:buffer';
/**
 * Replies as text for people (in the manner of redis-cli) or as JSON for programs.
 */

/** JSON that keeps what JSON cannot say: bigint as a string, bytes as text, errors as { error }. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Error) return { error: v.message };
    if (v instanceof Map) return Object.fromEntries(v);
    if (v instanceof Set) return [...v];
    if (typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
      return Buffer.from((v as { data: number[] }).data).toString('utf8');
    }
    return v;
  }, 2);
}

/** A reply as redis-cli would show it: (nil), (integer) 1, numbered list items. */
export function formatReply(value: unknown, indent = ''): string {
  if (value === null || value === undefined) return '(nil)';
  if (typeof value === 'number' || typeof value === 'bigint') return Number.isInteger(value) || typeof value === 'bigint' ? `(integer) ${value}` : String(value);
  if (typeof value === 'boolean') return value ? '(true)' : '(false)';
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (value instanceof Error) return `(error) ${value.message}`;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) {
    if (value.length === 0) return '(empty array)';
    const width = String(value.length).length;
    const pad = `${indent}${' '.repeat(width + 2)}`;
    return value.map((item, i) => {
      const label = `${String(i + 1).padStart(width)}) `;
      return `${i === 0 ? '' : indent}${label}${formatReply(item, pad)}`;
    }).join('\n');
  }
  if (typeof value === 'object') {
    const entries = value instanceof Map ? [...value] : Object.entries(value);
    if (entries.length === 0) return '(empty)';
    return entries.map(([k, v], i) => `${i === 0 ? '' : indent}${String(k)}: ${formatReply(v, `${indent}  `)}`).join('\n');
  }
  return String(value);
}

/** Left-aligned columns, for tables of nodes. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}
