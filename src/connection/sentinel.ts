/**
 * Connections that find their server through Redis Sentinel. Every connection made from one
 * client's options shares one watcher, which
 *   - asks every sentinel at once where the service's master (or a replica) is, takes the first
 *     answer, and checks it with ROLE on that server before connecting there;
 *   - stays subscribed to `+switch-master` on every sentinel and, when one announces a new
 *     master for this service name, resets every connection at once: nothing more is sent to
 *     the old master (which keeps taking writes until it is demoted, and then drops them);
 *   - polls ROLE on the server in use every `sentinel_poll_interval` ms (a second by default),
 *     in case the announcement was missed: a server no longer in its role is left at once;
 *   - PINGs each subscription as often: a subscription is only ever read, so one silently lost
 *     (an idle connection dropped by a firewall, a stalled sentinel) would otherwise go
 *     unnoticed. A PING unanswered within the sentinel timeout resets that connection; it
 *     subscribes again, and then the sentinels are asked where the master is, since an
 *     announcement may have been missed meanwhile.
 */
import { ConnectionError, MasterUnreachableError, ReplyError, SentinelUnreachableError, UnknownServiceError } from '../errors.ts';
import type { Reply } from '../resp/decode.ts';
import type { Connection } from './connection.ts';
import { resolveOptions, type ResolvedOptions } from './options.ts';
import type { SentinelSettings } from './sentinel-options.ts';

type Make = (options: ResolvedOptions) => Connection;
interface Address {
  host: string;
  port: number;
}

/** How long new connections wait for a replica being promoted to answer as master. */
const PROMOTION_WAIT_MS = 5000;
/** The announcements subscribed to on every sentinel. */
const CHANNELS = ['+switch-master', '+failover-state-send-slaveof-noone', '+promoted-slave'] as const;
const watchers = new WeakMap<SentinelSettings, SentinelWatcher>();
const ignore = (): void => {};

/** Makes `conn` find its server through the sentinels of `settings` (shared per settings). */
export function attachSentinel(conn: Connection, settings: SentinelSettings, make: Make): void {
  let watcher = watchers.get(settings);
  if (watcher === undefined) {
    watcher = new SentinelWatcher(settings, conn.options, make);
    watchers.set(settings, watcher);
  }
  watcher.attach(conn);
}

const show = (a: Address): string => (a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`);
const same = (a: Address | null, b: Address | null): boolean => a !== null && b !== null && a.host === b.host && a.port === b.port;

/** One sentinel's subscription to the announcements, on a connection of its own. */
interface Subscription {
  readonly conn: Connection;
  readonly at: Address;
  /** idle: to be (re)subscribed; subscribing: SUBSCRIBE sent; subscribed: confirmed. */
  state: 'idle' | 'subscribing' | 'subscribed';
  /** Confirmed at least once: the next confirmation renews it after a loss. */
  confirmed: boolean;
  /** A liveness PING is in flight. */
  pinging: boolean;
}

class SentinelWatcher {
  private readonly settings: SentinelSettings;
  private readonly base: ResolvedOptions;
  private readonly make: Make;
  private readonly conns = new Set<Connection>();
  /** One connection per sentinel for questions, one for the subscription. */
  private asking: Connection[] | null = null;
  private subscriptions: Subscription[] = [];
  private current: Address | null = null;
  /**
   * The master a sentinel last announced, or the replica it is promoting: asked first by every
   * new connection, and used while it answers ROLE as master; it is waited for until
   * promotedUntil, and then the sentinels are asked instead.
   */
  private promoted: Address | null = null;
  private promotedUntil = 0;
  /** The locate under way: every connection waits for the same answer. */
  private locating: Promise<Address> | null = null;
  private poller: Connection | null = null;
  /** A recheck under way, and the reason for one more once it is done. */
  private rechecking = false;
  private recheckAgain: string | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private readonly timeout: number;

  constructor(settings: SentinelSettings, base: ResolvedOptions, make: Make) {
    this.settings = settings;
    this.base = base;
    this.make = make;
    this.timeout = Math.min(base.connectTimeout, 2000);
  }

  attach(conn: Connection): void {
    this.conns.add(conn);
    conn.locate = () => this.locate();
    conn.once('close', () => {
      this.conns.delete(conn);
      if (this.conns.size === 0) this.stop();
    });
  }

  private sentinelOptions(s: Address): ResolvedOptions {
    return resolveOptions({
      host: s.host, port: s.port, socketTimeout: this.timeout, socketConnectTimeout: this.timeout, maxReconnectDelay: 1000,
      protocol: this.base.protocol,
      ...(this.settings.username !== null ? { username: this.settings.username } : {}),
      ...(this.settings.password !== null ? { password: this.settings.password } : {}),
    }, 'sentinel');
  }

  /** The data node's options: the client's own, at this address, without sentinels. */
  private nodeOptions(at: Address): ResolvedOptions {
    const o = { ...this.base, host: at.host, port: at.port, sentinel: null, socketTimeout: this.timeout, connectTimeout: this.timeout } as ResolvedOptions;
    Object.defineProperty(o, 'password', { value: this.base.password, enumerable: false });
    return Object.freeze(o);
  }

  private start(): void {
    if (this.asking !== null) return;
    this.asking = this.settings.sentinels.map((s) => this.make(this.sentinelOptions(s)));
    this.subscriptions = this.settings.sentinels.map((s) => this.subscribe(this.make(this.sentinelOptions(s)), s));
    this.pollTimer = setInterval(() => {
      this.pollRole();
      this.checkSubscriptions();
    }, this.settings.pollInterval);
    this.pollTimer.unref();
  }

  private subscribe(conn: Connection, at: Address): Subscription {
    const sub: Subscription = { conn, at, state: 'idle', confirmed: false, pinging: false };
    conn.setPushHandler((reply: Reply) => {
      if (!Array.isArray(reply)) return false;
      // SUBSCRIBE draws one confirmation per channel; the last answers the command itself, so
      // nothing stays pending and a PING's reply (["pong", ""]) answers the PING.
      if (reply[0] === 'subscribe') return Number(reply[2]) !== CHANNELS.length;
      if (reply[0] !== 'message') return false;
      const words = String(reply[2]).split(' ');
      if (reply[1] === '+switch-master') {
        // "<name> <old ip> <old port> <new ip> <new port>": only this service's switch counts.
        const [name, , , host, port] = words;
        if (name === this.settings.serviceName) {
          const to = { host: host!, port: Number(port) };
          // Not forgotten once announced: a sentinel that has not heard of the switch yet
          // would send new connections back to the old master.
          if (this.settings.role === 'master') this.announce(to);
          this.switched(to, 'a sentinel announced +switch-master');
        }
      } else if (this.settings.role === 'master') {
        // "slave <ip:port> <ip> <port> @ <name> <master ip> <master port>": a sentinel is about
        // to promote that replica (+failover-state-send-slaveof-noone), or has seen it promoted
        // (+promoted-slave). The old master takes writes until the sentinels demote it, and then
        // drops them, so this is when to stop sending it any; +switch-master comes a second or
        // more later. New connections wait for the replica to answer ROLE as master.
        const [, , host, port, , name] = words;
        if (name === this.settings.serviceName && host !== undefined) {
          this.announce({ host, port: Number(port) });
          this.switched(this.promoted, `a sentinel is failing '${name}' over (${String(reply[1])})`);
        }
      }
      return true;
    });
    conn.on('disconnect', () => {
      // A confirmed subscription lost with its socket (a PING past its deadline resets it).
      if (sub.state !== 'subscribed') return;
      sub.state = 'idle';
      this.renew(sub);
    });
    this.renew(sub);
    return sub;
  }

  /** Subscribes (again); a renewal is followed by asking the sentinels where the master is. */
  private renew(sub: Subscription): void {
    if (this.asking === null || sub.state !== 'idle') return;
    sub.state = 'subscribing';
    sub.conn.send(['SUBSCRIBE', ...CHANNELS], { timeout: this.timeout, name: 'SUBSCRIBE' }).then(() => {
      if (this.asking === null) return;
      sub.state = 'subscribed';
      const renewed = sub.confirmed;
      sub.confirmed = true;
      if (renewed) this.recheck(`the subscription to the sentinel at ${show(sub.at)} was lost and renewed`);
    }, () => {
      sub.state = 'idle';
      if (this.asking !== null) setTimeout(() => this.renew(sub), 200).unref();
    });
  }

  /**
   * PINGs every confirmed subscription (PING is allowed while subscribed). One unanswered
   * within the sentinel timeout makes the connection reset itself, and 'disconnect' renews it.
   */
  private checkSubscriptions(): void {
    for (const sub of this.subscriptions) {
      if (sub.state !== 'subscribed' || sub.pinging) continue;
      sub.pinging = true;
      const done = (): void => {
        sub.pinging = false;
      };
      sub.conn.send(['PING'], { timeout: this.timeout, name: 'PING (sentinel subscription check)' }).then(done, done);
    }
  }

  /**
   * The master a sentinel announced or is promoting: new connections go there first, and wait
   * for it to answer ROLE as master. A sentinel that has not heard of the failover yet still
   * names the old master, which takes writes until it is demoted and then drops them. The same
   * server announced again (+promoted-slave after +failover-state-send-slaveof-noone, then
   * +switch-master) is the same object: a connection waiting for it keeps waiting for it
   * instead of turning to the sentinels, who may still name the old master.
   */
  private announce(at: Address): void {
    if (!same(this.promoted, at)) this.promoted = at;
    this.promotedUntil = performance.now() + PROMOTION_WAIT_MS;
  }

  /**
   * After a subscription was renewed: every sentinel is asked where the master is, and the
   * client moves as on an announcement if most of them (more than half of all it knows) name
   * another server than the one in use. Not the first answer, as when connecting: a sentinel
   * that was itself cut off may not have heard of a failover yet, and the old master it names
   * takes writes until it is demoted.
   */
  private recheck(why: string): void {
    if (this.settings.role !== 'master' || this.asking === null) return;
    if (this.rechecking) {
      this.recheckAgain = why;
      return;
    }
    this.rechecking = true;
    const conns = this.asking;
    const ask = (conn: Connection): Promise<Address | null> => conn
      .send(['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.settings.serviceName], { timeout: this.timeout, name: 'SENTINEL' })
      .then((reply) => masterOf(reply)[0] ?? null, () => null);
    void Promise.all(conns.map(ask)).then((answers) => {
      this.rechecking = false;
      if (this.asking !== conns) return;
      const named = answers.find((a) => a !== null && !same(a, this.current) && answers.filter((b) => same(a, b)).length * 2 > conns.length) ?? null;
      if (named !== null && this.current !== null) {
        this.announce(named);
        this.switched(named, `${why}, and the sentinels now name ${show(named)}`);
      }
      const again = this.recheckAgain;
      this.recheckAgain = null;
      if (again !== null) this.recheck(again);
    });
  }

  /** The server moved: every connection is reset now, and finds it again on its next command. */
  private switched(to: Address | null, why: string): void {
    if (same(to, this.current)) return;
    const from = this.current;
    this.current = null;
    this.poller?.destroy();
    this.poller = null;
    const reason = `${why}: ${this.settings.serviceName} ${from === null ? '' : `moved from ${show(from)}`}${to === null ? '' : ` to ${show(to)}`}`;
    for (const conn of this.conns) {
      conn.emit('sentinel-switch', to === null ? null : show(to));
      conn.reset(reason);
    }
  }

  private pollRole(): void {
    const at = this.current;
    if (at === null || this.conns.size === 0) return;
    this.poller ??= this.make(this.nodeOptions(at));
    const poller = this.poller;
    poller.send(['ROLE'], { timeout: this.timeout, name: 'ROLE' }).then((reply) => {
      if (this.current !== at || poller !== this.poller) return;
      if (!this.roleMatches(reply)) this.switched(null, `${show(at)} is no longer the ${this.settings.role}`);
    }, ignore);
  }

  private roleMatches(reply: Reply): boolean {
    const role = Array.isArray(reply) ? String(reply[0]) : '';
    return this.settings.role === 'master' ? role === 'master' : role === 'slave';
  }

  /** Where to connect now: asked of every sentinel at once, checked with ROLE there. */
  locate(): Promise<Address> {
    if (this.locating === null) {
      const attempt = this.find();
      this.locating = attempt;
      const done = (): void => {
        if (this.locating === attempt) this.locating = null;
      };
      attempt.then(done, done);
    }
    return this.locating;
  }

  private async roleOf(at: Address): Promise<Reply> {
    const probe = this.make(this.nodeOptions(at));
    try {
      return await probe.send(['ROLE'], { timeout: this.timeout, name: 'ROLE' });
    } finally {
      probe.destroy();
    }
  }

  private async find(): Promise<Address> {
    this.start();
    // The master announced, or the replica being promoted, as soon as it answers as master.
    for (let promoted = this.promoted; promoted !== null; promoted = this.promoted) {
      const reply = await this.roleOf(promoted).catch(() => null);
      if (promoted !== this.promoted) continue; // another one announced meanwhile: that one
      if (reply !== null && this.roleMatches(reply)) {
        this.current = promoted;
        return promoted;
      }
      if (performance.now() > this.promotedUntil) {
        this.promoted = null;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const candidates = await this.ask();
    const failures: string[] = [];
    for (const at of candidates) {
      try {
        const reply = await this.roleOf(at);
        if (this.roleMatches(reply)) {
          this.current = at;
          return at;
        }
        failures.push(`${show(at)} says it is a ${Array.isArray(reply) ? String(reply[0]) : 'server of unknown role'}`);
      } catch (err) {
        failures.push(`${show(at)}: ${(err as Error).message}`);
      }
    }
    throw new MasterUnreachableError(
      `the sentinels name ${candidates.map(show).join(', ')} as the ${this.settings.role} of '${this.settings.serviceName}', and none can be used (${failures.join('; ')})`,
    );
  }

  /** Every sentinel asked in parallel; the first to name a server wins (the others are not waited for). */
  private ask(): Promise<Address[]> {
    const conns = this.asking!;
    const { serviceName, role } = this.settings;
    const question = role === 'master' ? ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', serviceName] : ['SENTINEL', 'REPLICAS', serviceName];
    return new Promise((resolve, reject) => {
      const errors: Error[] = new Array<Error>(conns.length);
      let unknown = 0;
      let left = conns.length;
      let done = false;
      const settle = (): void => {
        if (--left > 0 || done) return;
        done = true;
        const where = this.settings.sentinels.map(show);
        const reached = conns.length - errors.filter((e) => e instanceof ConnectionError).length;
        if (reached === 0) {
          reject(new SentinelUnreachableError(`no sentinel reachable for '${serviceName}' (${where.map((w, i) => `${w}: ${errors[i]!.message}`).join('; ')})`, errors));
          return;
        }
        if (unknown === reached) {
          reject(new UnknownServiceError(`no sentinel knows a master named '${serviceName}' (asked ${where.join(', ')})`));
          return;
        }
        reject(new MasterUnreachableError(`the sentinels know '${serviceName}' but name no ${role} for it now (${where.map((w, i) => `${w}: ${errors[i]?.message ?? 'none'}`).join('; ')})`));
      };
      conns.forEach((conn, i) => {
        conn.send(question, { timeout: this.timeout, name: 'SENTINEL' }).then((reply) => {
          if (done) return;
          const found = role === 'master' ? masterOf(reply) : replicasOf(reply);
          if (found.length > 0) {
            done = true;
            resolve(found);
            return;
          }
          if (role === 'master' && reply === null) unknown++;
          settle();
        }, (err: unknown) => {
          if (done) return;
          if (err instanceof ReplyError && /no such master/i.test(err.message)) unknown++;
          else errors[i] = err instanceof Error ? err : new Error(String(err));
          settle();
        });
      });
    });
  }

  private stop(): void {
    if (this.pollTimer !== null) clearInterval(this.pollTimer);
    this.pollTimer = null;
    const all = [...(this.asking ?? []), ...this.subscriptions.map((s) => s.conn)];
    this.asking = null;
    this.subscriptions = [];
    for (const c of all) c.destroy();
    this.poller?.destroy();
    this.poller = null;
    this.current = null;
    watchers.delete(this.settings);
  }
}

function masterOf(reply: Reply): Address[] {
  if (!Array.isArray(reply) || reply.length < 2) return [];
  return [{ host: String(reply[0]), port: Number(reply[1]) }];
}

/** SENTINEL REPLICAS: the replicas that are up and linked to their master, in random order. */
function replicasOf(reply: Reply): Address[] {
  if (!Array.isArray(reply)) return [];
  const out: Address[] = [];
  for (const r of reply) {
    if (!Array.isArray(r)) continue;
    const f = new Map<string, string>();
    for (let i = 0; i + 1 < r.length; i += 2) f.set(String(r[i]), String(r[i + 1]));
    const flags = f.get('flags') ?? '';
    // Not master-link-status: sentinels refresh it every 10 s; ROLE on the replica checks it.
    if (/s_down|o_down|disconnected/.test(flags)) continue;
    out.push({ host: f.get('ip')!, port: Number(f.get('port')) });
  }
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
