/**
 * Local redis-server processes for the tests, the demo and the benchmarks: each on a free
 * loopback port, with nothing kept on disk, owned by the process that started it and stopped
 * when it ends (or when the process exits, whatever the reason).
 */
import { Buffer } from 'node:buffer';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * Starts `redis-server args` and resolves with the process once its output shows `ready`; it is
 * killed when this process exits. `onExit` is told when it ends, before or after it was ready.
 */
export function spawnRedis(args: readonly string[], ready: string, what: string, onExit: (child: ChildProcess) => void): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (out.includes(ready)) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        live.add(child);
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.resume();
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      live.delete(child);
      onExit(child);
      reject(new Error(`${what} exited (${code ?? signal}) before it was ready:\n${out.slice(-2000)}`));
    });
  });
}

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export class RedisServer {
  readonly host = '127.0.0.1';
  port = 0;
  private child: ChildProcess | null = null;
  private readonly dir: string;
  private paused = false;

  private readonly extraArgs: string[];
  constructor(extraArgs: string[] = []) {
    this.extraArgs = extraArgs;
    this.dir = mkdtempSync(join(tmpdir(), 'redisdb-test-'));
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  get url(): string {
    return `redis://${this.host}:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== null;
  }

  /** Starts on a free port, or on its old port after a kill, to come back where clients expect it. */
  async start(): Promise<void> {
    if (this.portFixed) return this.spawnOnce();
    for (let attempt = 0; ; attempt++) {
      this.port = await freePort();
      try {
        await this.spawnOnce();
        this.portFixed = true;
        return;
      } catch (err) {
        if (attempt >= 5) throw err; // another process took the port in between: pick again
      }
    }
  }

  private portFixed = false;

  private async spawnOnce(): Promise<void> {
    const args = [
      '--port', String(this.port), '--bind', this.host, '--save', '', '--appendonly', 'no',
      '--dir', this.dir, '--daemonize', 'no', '--loglevel', 'notice', ...this.extraArgs,
    ];
    this.child = await spawnRedis(args, 'Ready to accept connections', `redis-server on port ${this.port}`, (child) => {
      if (this.child === child) this.child = null;
    });
  }

  /** Sends a signal without waiting (SIGSTOP / SIGCONT to hang and resume). */
  signal(sig: NodeJS.Signals): void {
    if (this.child === null) throw new Error('server is not running');
    if (sig === 'SIGSTOP') this.paused = true;
    if (sig === 'SIGCONT') this.paused = false;
    this.child.kill(sig);
  }

  pause(): void {
    this.signal('SIGSTOP');
  }

  resume(): void {
    this.signal('SIGCONT');
  }

  /** SIGKILL, and wait until the process is gone (its port is then closed). */
  async kill(): Promise<void> {
    const child = this.child;
    if (child === null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (this.paused) child.kill('SIGCONT');
    child.kill('SIGKILL');
    this.paused = false;
    await gone;
    this.child = null;
  }

  /** Kills and starts again on the same port; the data is gone (nothing is persisted). */
  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function startServers(count: number, extraArgs: string[] = []): Promise<RedisServer[]> {
  const servers = Array.from({ length: count }, () => new RedisServer(extraArgs));
  await Promise.all(servers.map((s) => s.start()));
  return servers;
}

