/**
 * A cluster's slot map as one node describes it: for each of the 16384 slots, the address of
 * its primary and of its replicas. Read from CLUSTER SHARDS (Redis 7) or CLUSTER SLOTS (before),
 * with `nat_map` applied to every address the server announces.
 */
import { isIP } from 'node:net';
import type { ClientOptions } from '../connection/options.ts';
import { SLOT_COUNT } from '../hash/crc16.ts';
import type { Reply } from '../resp/decode.ts';

/** Announced address ('10.0.0.5:6379') → the address this client must dial ('203.0.113.9:7001'). */
export type NatMap = Readonly<Record<string, string>>;

export interface Shard {
  /** Inclusive slot ranges, as [start, end] pairs. */
  readonly ranges: ReadonlyArray<readonly [number, number]>;
  readonly primary: string;
  readonly replicas: readonly string[];
}

export interface SlotMap {
  readonly shards: readonly Shard[];
  /** Slots with no primary. */
  readonly uncovered: number;
}

/** 'host:port' for a host that may be an IPv6 literal. */
export function joinAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function mapped(nat: NatMap | null, address: string): string {
  return nat?.[address] ?? address;
}

function hostOf(address: string): string {
  const host = address.slice(0, address.lastIndexOf(':'));
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

/**
 * The TLS options of a node dialled at `address`. nat_map changes where a node is reached,
 * not which server it is: when it maps the node to an IP address, the certificate is checked
 * against the host name the node announced, or else the name the user gave a seed by, not
 * against the mapped IP (ioredis #754). A servername given in the options is kept as it is.
 */
export function nodeTls(tls: ClientOptions['tls'], address: string, nat: NatMap | null, seeds: readonly string[]): ClientOptions['tls'] {
  if (tls === undefined || tls === false || (tls !== true && tls.servername !== undefined) || nat === null) return tls;
  if (isIP(hostOf(address)) === 0) return tls; // a name: it is the servername already
  const announced = Object.keys(nat).find((from) => nat[from] === address);
  if (announced === undefined) return tls;
  const name = [hostOf(announced), ...seeds.map(hostOf)].find((h) => h !== '' && isIP(h) === 0);
  return name === undefined ? tls : { ...(tls === true ? {} : tls), servername: name };
}

/** Fields of a RESP2 flat [name, value, ...] array. */
function fields(reply: Reply): Map<string, Reply> {
  const out = new Map<string, Reply>();
  if (!Array.isArray(reply)) return out;
  for (let i = 0; i + 1 < reply.length; i += 2) out.set(String(reply[i]), reply[i + 1] as Reply);
  return out;
}

/**
 * CLUSTER SHARDS' reply. `askedHost` stands in for a node announced without an address
 * (`endpoint` '?' or empty), as the server means it: the host we asked.
 */
export function parseShards(reply: Reply, askedHost: string, nat: NatMap | null, tls: boolean): SlotMap {
  if (!Array.isArray(reply)) throw new TypeError('CLUSTER SHARDS: expected an array');
  const shards: Shard[] = [];
  for (const s of reply) {
    const f = fields(s as Reply);
    const slots = (f.get('slots') ?? []) as Reply[];
    const ranges: Array<[number, number]> = [];
    for (let i = 0; i + 1 < slots.length; i += 2) ranges.push([Number(slots[i]), Number(slots[i + 1])]);
    let primary: string | null = null;
    const replicas: string[] = [];
    for (const n of (f.get('nodes') ?? []) as Reply[]) {
      const node = fields(n);
      // 'loading' is also what a replica says before its first write (offset 0): count it.
      if (node.get('health') === 'fail') continue;
      let host = String(node.get('endpoint') ?? node.get('ip') ?? '');
      if (host === '' || host === '?') host = String(node.get('ip') ?? askedHost);
      if (host === '' || host === '?') host = askedHost;
      const port = Number(tls ? node.get('tls-port') ?? node.get('port') : node.get('port') ?? node.get('tls-port'));
      const address = mapped(nat, joinAddress(host, port));
      if (node.get('role') === 'master') primary = address;
      else replicas.push(address);
    }
    if (primary !== null && ranges.length > 0) shards.push({ ranges, primary, replicas });
  }
  return { shards, uncovered: uncoveredSlots(shards) };
}

/** CLUSTER SLOTS' reply (servers before 7.0): [start, end, [host, port, id], replicas...] per range. */
export function parseSlots(reply: Reply, askedHost: string, nat: NatMap | null): SlotMap {
  if (!Array.isArray(reply)) throw new TypeError('CLUSTER SLOTS: expected an array');
  const byPrimary = new Map<string, { ranges: Array<[number, number]>; replicas: Set<string> }>();
  for (const r of reply) {
    const row = r as Reply[];
    const nodes = row.slice(2).map((n) => {
      const [host, port] = n as Reply[];
      const h = host === '' || host === '?' || host === null ? askedHost : String(host);
      return mapped(nat, joinAddress(h, Number(port)));
    });
    if (nodes.length === 0) continue;
    let entry = byPrimary.get(nodes[0]!);
    if (entry === undefined) byPrimary.set(nodes[0]!, (entry = { ranges: [], replicas: new Set() }));
    entry.ranges.push([Number(row[0]), Number(row[1])]);
    for (const replica of nodes.slice(1)) entry.replicas.add(replica);
  }
  const shards = [...byPrimary].map(([primary, e]) => ({ ranges: e.ranges, primary, replicas: [...e.replicas] }));
  return { shards, uncovered: uncoveredSlots(shards) };
}

function uncoveredSlots(shards: readonly Shard[]): number {
  const covered = new Uint8Array(SLOT_COUNT);
  for (const s of shards) for (const [a, b] of s.ranges) covered.fill(1, Math.max(0, a), Math.min(SLOT_COUNT - 1, b) + 1);
  let n = 0;
  for (const c of covered) if (c === 0) n++;
  return n;
}
