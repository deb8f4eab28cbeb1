/**
 * redis-server processes for the benchmark: each on a free loopback port, nothing kept on disk,
 * killed when the benchmark exits for any reason.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const live = new Set();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => process.exit(130));
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function spawnOn(port, dir, extraArgs = []) {
  return new Promise((resolve, reject) => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning', ...extraArgs];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      live.delete(child);
      reject(new Error(`redis-server on port ${port} exited (${code ?? signal}): ${err.slice(-500)}`));
    });
    live.add(child);
    // Ready means: it accepts a connection and answers PING.
    const deadline = Date.now() + 5000;
    const probe = () => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('connect', () => s.write('PING\r\n'));
      s.once('data', () => {
        s.destroy();
        resolve(child);
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > deadline) reject(new Error(`redis-server on port ${port} did not start`));
        else setTimeout(probe, 20);
      });
    };
    probe();
  });
}

/** Starts one server (with extra redis-server arguments); returns { port, stop() }. */
export async function startRedis(extraArgs = []) {
  const dir = mkdtempSync(join(tmpdir(), 'redisdb-bench-'));
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    try {
      const child = await spawnOn(port, dir, extraArgs);
      return {
        port,
        pid: child.pid,
        async stop() {
          const gone = new Promise((r) => child.once('exit', r));
          child.kill('SIGKILL');
          await gone;
          live.delete(child);
          rmSync(dir, { recursive: true, force: true });
        },
      };
    } catch (err) {
      if (attempt >= 5) throw err; // the port was taken in between: pick another
    }
  }
}
