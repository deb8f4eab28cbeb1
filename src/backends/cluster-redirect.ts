/**
 * What a cluster node's error reply asks of the client: go to another node for this slot for
 * good (MOVED) or for this one command (ASK), or wait and try again (TRYAGAIN: keys of a
 * multi-key command are mid-migration; CLUSTERDOWN: slots without a serving primary).
 */
import { ReplyError } from '../errors.ts';
import { joinAddress, type NatMap } from './slot-map.ts';

export type Redirect =
  | { readonly kind: 'moved' | 'ask'; readonly slot: number; readonly address: string }
  | { readonly kind: 'tryagain' | 'clusterdown' };

/**
 * The redirect an error stands for, or null. `fromHost` stands in for an address the server
 * announces without a host (':7001'), as the server means it.
 */
export function redirectOf(err: unknown, fromHost: string, nat: NatMap | null): Redirect | null {
  if (!(err instanceof ReplyError)) return null;
  switch (err.code) {
    case 'MOVED':
    case 'ASK': {
      // Searched for, not split: a transaction's refusal puts its own words before the server's.
      const m = new RegExp(`${err.code} (\\d+) (\\S+)`).exec(err.message);
      if (m === null) return null;
      const [, slot, where] = m as unknown as [string, string, string];
      const colon = where.lastIndexOf(':');
      let host = where.slice(0, colon);
      if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
      const address = joinAddress(host === '' ? fromHost : host, Number(where.slice(colon + 1)));
      return { kind: err.code === 'MOVED' ? 'moved' : 'ask', slot: Number(slot), address: nat?.[address] ?? address };
    }
    case 'TRYAGAIN':
      return { kind: 'tryagain' };
    case 'CLUSTERDOWN':
      return { kind: 'clusterdown' };
    default:
      return null;
  }
}

/** Milliseconds to wait before the n-th retry (from 0): 10, 20, 40... up to `cap` (320), with jitter. */
export function backoff(attempt: number, cap = 320): Promise<void> {
  const ms = Math.min(cap, 10 * 2 ** attempt) * (0.75 + Math.random() / 2);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
