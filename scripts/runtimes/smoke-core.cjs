// One smoke run of the packed library, the same under every runtime: set/get, a pipeline, a
// RedisRing and a RedisCopy over two servers, an error's class, and close(). It takes the library
// as its entry loaded it, so each entry (ES module, CommonJS, bundle, Worker) tests its own way in.
// CommonJS, so that a CommonJS entry on Node 20 can require it as well as an ES module import it.
'use strict';

function check(ok, what) {
  if (!ok) throw new Error(`smoke: ${what}`);
}

/**
 * @param lib the library's exports
 * @param ports the two servers' ports on 127.0.0.1
 * @param other the library loaded the other way (require vs import), when the runtime can do both
 * @returns what was checked, one line each
 */
async function smoke(lib, ports, other) {
  const done = [];
  const tag = `smoke:${Math.random().toString(36).slice(2)}`;
  const [a, b] = ports.map((port) => `127.0.0.1:${port}`);

  const one = new lib.ConstRedis({ host: '127.0.0.1', port: ports[0] });
  check((await one.set(`${tag}:k`, 'v')) === true, 'set returns true');
  check((await one.get(`${tag}:k`)) === 'v', 'get reads the value');
  check((await one.incr(`${tag}:n`)) === 1, 'incr returns a number');
  done.push('ConstRedis set/get/incr');

  // The cache facade is attached when the library loads: a bundler honouring "sideEffects":
  // false must still keep it.
  await one.cache.set(`${tag}:cached`, { hello: 'world' }, 60);
  const cached = await one.cache.get(`${tag}:cached`);
  check(cached !== null && cached.hello === 'world', 'the cache facade round-trips a value');
  done.push('.cache set/get');

  const replies = await one.pipeline().set(`${tag}:p`, 'x').get(`${tag}:p`).incr(`${tag}:n`).exec();
  check(JSON.stringify(replies) === JSON.stringify([true, 'x', 2]), `pipeline replies ${JSON.stringify(replies)}`);
  done.push('pipeline');

  let error;
  try {
    await one.call('LPUSH', `${tag}:k`, 'x');
  } catch (err) {
    error = err;
  }
  check(error instanceof lib.ReplyError && error.code === 'WRONGTYPE', 'a WRONGTYPE reply is a ReplyError');
  if (other !== undefined) {
    check(other.ReplyError === lib.ReplyError && error instanceof other.ReplyError, 'import and require give the same classes');
    done.push('errors instanceof one class through import and require');
  } else {
    done.push('errors are ReplyError');
  }
  await one.close();

  const ring = new lib.RedisRing([a, b]);
  const keys = Array.from({ length: 20 }, (_, i) => `${tag}:r${i}`);
  for (const key of keys) {
    const written = await ring.set(key, key);
    check(Array.isArray(written) && written.length === 1 && written[0] === true, 'a ring write is one result');
  }
  const read = await ring.mget(...keys);
  check(JSON.stringify(read) === JSON.stringify(keys), 'ring mget merges in order');
  const nodes = new Set(keys.map((key) => ring.nodeIndexFor(key)));
  check(nodes.size === 2, 'keys spread over both nodes');
  done.push('RedisRing set/mget over 2 nodes');

  const copy = new lib.RedisCopy({ nodes: [a, b] });
  const written = await copy.set(`${tag}:c`, 'both');
  check(JSON.stringify(written) === '[true,true]', `a copy write is one result per node: ${JSON.stringify(written)}`);
  check((await copy.get(`${tag}:c`)) === 'both', 'copy read');
  for (const node of copy.nodes) check((await node.get(`${tag}:c`)) === 'both', 'every node holds the copy');
  done.push('RedisCopy set/get on 2 nodes');

  await Promise.all([ring.close(), copy.close()]);
  done.push('close');
  return done;
}

module.exports = { smoke };
