/**
 * The two checks every options reader needs: is this a plain object (not an array, a Buffer,
 * a class instance), and which of an option's two spellings (snake_case as in the reference,
 * camelCase) was given.
 */
import { ConfigError } from '../errors.ts';

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** The value of an option given as `snake` or `camel`; both at once is a ConfigError. */
export function pick(options: Readonly<Record<string, unknown>>, where: string, snake: string, camel: string): unknown {
  if (options[snake] !== undefined && options[camel] !== undefined) {
    throw new ConfigError(`${where}: give ${snake} or ${camel}, not both`);
  }
  return options[snake] ?? options[camel];
}
