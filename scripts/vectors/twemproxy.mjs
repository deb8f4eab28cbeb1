// Routes keys through a real nutcracker (twemproxy) process: every backend is
// a tiny local server that answers any command with its own node index, so
// the reply to GET <key> tells which node twemproxy picked. Everything listens
// on 127.0.0.1 and is shut down before returning.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Counts complete RESP commands (arrays of bulk strings) in a byte stream. */
class CommandCounter {
  #buf = Buffer.alloc(0);

  push(chunk) {
    this.#buf = Buffer.concat([this.#buf, chunk]);
    let count = 0;
    for (;;) {
      const end = this.#commandEnd(this.#buf);
      if (end < 0) break;
      this.#buf = this.#buf.subarray(end);
      count++;
    }
    return count;
  }

  #commandEnd(buf) {
    const line = (at) => {
      const eol = buf.indexOf('\r\n', at);
      return eol < 0 ? null : { text: buf.toString('latin1', at, eol), next: eol + 2 };
    };
    const head = line(0);
    if (head === null) return -1;
    if (head.text[0] !== '*') throw new Error(`backend: unexpected request ${JSON.stringify(head.text)}`);
    let at = head.next;
    for (let n = Number(head.text.slice(1)); n > 0; n--) {
      const len = line(at);
      if (len === null) return -1;
      const end = len.next + Number(len.text.slice(1)) + 2;
      if (end > buf.length) return -1;
      at = end;
    }
    return at;
  }
}

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

async function freePort() {
  const server = net.createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitForPort(port, deadline) {
  for (;;) {
    const ok = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nutcracker did not listen on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function encodeCommand(args) {
  const parts = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = Buffer.from(arg, 'utf8');
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** Sends GET for every key over one connection and reads the integer each reply names. */
function query(port, keys) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const replies = [];
    let buf = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`nutcracker answered ${replies.length} of ${keys.length} requests`));
    }, 30000);
    socket.setEncoding('latin1');
    socket.on('data', (text) => {
      buf += text;
      for (;;) {
        const m = /^\$(\d+)\r\n(\d+)\r\n/.exec(buf);
        if (m === null) {
          if (buf.length > 0 && buf[0] !== '$') {
            clearTimeout(timer);
            socket.destroy();
            reject(new Error(`nutcracker replied ${JSON.stringify(buf.slice(0, 80))}`));
          }
          break;
        }
        replies.push(Number(m[2]));
        buf = buf.slice(m[0].length);
      }
      if (replies.length === keys.length) {
        clearTimeout(timer);
        socket.end();
        resolve(replies);
      }
    });
    socket.on('error', reject);
    socket.write(Buffer.concat(keys.map((key) => encodeCommand(['GET', key]))));
  });
}

/**
 * Starts nutcracker with `distribution: ketama`, `hash: md5` over one backend
 * per node and returns the node index it routes each key to.
 * nodes: [{ name: string | null, weight }] - null keeps twemproxy's own
 * "127.0.0.1:<port>" name; the names used are returned.
 */
export async function routeWithTwemproxy({ nodes, hashTag, keys }) {
  const dir = mkdtempSync(join(tmpdir(), 'redisdb-vectors-'));
  const backends = [];
  const sockets = new Set();
  let proxy = null;
  try {
    const ports = [];
    for (let i = 0; i < nodes.length; i++) {
      const server = net.createServer((socket) => {
        sockets.add(socket);
        const counter = new CommandCounter();
        socket.on('data', (chunk) => {
          const n = counter.push(chunk);
          const reply = `$${String(i).length}\r\n${i}\r\n`;
          if (n > 0) socket.write(reply.repeat(n));
        });
        socket.on('error', () => {});
      });
      backends.push(server);
      ports.push(await listen(server));
    }
    const names = nodes.map((node, i) => node.name ?? `127.0.0.1:${ports[i]}`);
    const listenPort = await freePort();
    const statsPort = await freePort();
    const config = [
      'pool:',
      `  listen: 127.0.0.1:${listenPort}`,
      '  hash: md5',
      '  distribution: ketama',
      ...(hashTag === null ? [] : [`  hash_tag: ${JSON.stringify(hashTag)}`]),
      '  redis: true',
      '  auto_eject_hosts: false',
      '  timeout: 5000',
      '  servers:',
      ...nodes.map(
        (node, i) => `    - 127.0.0.1:${ports[i]}:${node.weight}${node.name === null ? '' : ` ${node.name}`}`,
      ),
      '',
    ].join('\n');
    const configPath = join(dir, 'nutcracker.yml');
    writeFileSync(configPath, config);
    proxy = spawn('nutcracker', ['-c', configPath, '-s', String(statsPort), '-a', '127.0.0.1', '-o', join(dir, 'log')], {
      stdio: 'ignore',
    });
    const exited = new Promise((_, reject) => proxy.once('exit', (code) => reject(new Error(`nutcracker exited (${code})`))));
    exited.catch(() => {});
    await Promise.race([waitForPort(listenPort, Date.now() + 10000), exited]);
    const indices = await Promise.race([query(listenPort, keys), exited]);
    return { names, indices };
  } finally {
    if (proxy !== null && proxy.exitCode === null) proxy.kill('SIGTERM');
    for (const socket of sockets) socket.destroy();
    await Promise.all(backends.map((server) => new Promise((resolve) => server.close(() => resolve()))));
    rmSync(dir, { recursive: true, force: true });
  }
}

export function nutcrackerVersion() {
  return new Promise((resolve) => {
    const child = spawn('nutcracker', ['--version'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.stderr.on('data', (d) => (text += d));
    child.on('close', () => resolve(/nutcracker-([\w.+-]+)/.exec(text)?.[1] ?? 'unknown'));
  });
}
