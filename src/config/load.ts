/**
 * CACHES from outside the code: a JSON file, or the REDISDB_CACHES environment variable
 * (JSON itself, or the path of a JSON file), so a deployment changes servers without a build.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.ts';
import type { CachesConfig } from './caches-config.ts';

export const CACHES_ENV = 'REDISDB_CACHES';

function parse(text: string, source: string): CachesConfig {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${source} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`${source} must hold a JSON object mapping aliases to { BACKEND, LOCATION, ... }`);
  }
  return value as CachesConfig;
}

/** Reads CACHES from a JSON file. */
export function readCachesFile(path: string): CachesConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read CACHES file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parse(text, `CACHES file ${path}`);
}

/** Reads CACHES from REDISDB_CACHES: JSON when it starts with '{', otherwise a JSON file's path. */
export function cachesFromEnv(env: NodeJS.ProcessEnv = process.env, name = CACHES_ENV): CachesConfig {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new ConfigError(`${name} is not set; set it to the CACHES setting as JSON, or to the path of a JSON file`);
  }
  const text = value.trim();
  return text.startsWith('{') ? parse(text, name) : readCachesFile(text);
}
