// One cold start: the CPU this process spends importing a client, connecting and getting its
// first reply (PING), measured from the first line, so Node's own start-up is left out.
// Usage: node cold.mjs <redisdb-esm|redisdb-cjs|ioredis|node-redis> <port> [<consumer dir>]
const start = process.cpuUsage();
const [which, portText, consumer] = process.argv.slice(2);
const port = Number(portText);

let close;
if (which === 'redisdb-esm' || which === 'redisdb-cjs') {
  const entry = `${consumer}/node_modules/redisdb-client/dist/index.${which === 'redisdb-esm' ? 'mjs' : 'cjs'}`;
  const lib = which === 'redisdb-esm'
    ? await import(entry)
    : (await import('node:module')).createRequire(import.meta.url)(entry);
  const client = new lib.ConstRedis({ host: '127.0.0.1', port });
  await client.ping();
  close = () => client.close();
} else if (which === 'ioredis') {
  const { Redis } = await import('ioredis');
  const client = new Redis({ host: '127.0.0.1', port });
  await client.ping();
  close = () => client.quit();
} else if (which === 'node-redis') {
  const { createClient } = await import('redis');
  const client = createClient({ socket: { host: '127.0.0.1', port } });
  await client.connect();
  await client.ping();
  close = () => client.quit();
} else {
  throw new Error(`unknown client ${which}`);
}
const used = process.cpuUsage(start);
console.log(JSON.stringify({ cpuMs: (used.user + used.system) / 1000 }));
await close();
