/**
 * Waiting in tests without sleeping: for a condition (polled, with a deadline), for an event,
 * for the end of an async iterable. A missing outcome fails the test; it never hangs it.
 */

/**
 * Polls `check` every few milliseconds until it holds; rejects after `ms`, naming `what` was
 * awaited. The deadline only bounds a failing test: a passing one waits as long as it must.
 */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 8000, what = 'condition'): Promise<void> {
  const end = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The next `event` of `emitter`, or a rejection after `ms`. */
export function nextEvent<T>(emitter: { once(e: string, f: (v: T) => void): unknown }, event: string, ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' event within ${ms} ms`)), ms);
    emitter.once(event, (v) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}

/** Every item of an async iterable, once it ends. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** Until the server that `client` talks to has at least `n` clients blocked (BLPOP and the like). */
export function blockedClients(client: { info(section: string): Promise<unknown> }, n: number, ms = 3000): Promise<void> {
  return eventually(
    async () => Number(((await client.info('clients')) as Record<string, unknown>)['blocked_clients']) >= n,
    ms,
    `${n} blocked client(s)`,
  );
}
