/**
 * Clients for a suite's tests, and their ending: made once the suite's servers are up, ended
 * after its tests (or after each test), so no test file keeps its own list to close.
 */
import { after, afterEach, before } from 'node:test';

/** A client, backend or store that can be ended. */
export interface Closable {
  close(): Promise<unknown>;
}

/**
 * For a suite (call it inside `describe()`, after `useServers`): `open` runs in a `before`
 * hook, assigns the clients where the tests reach them and returns them all; they are
 * closed after the suite's tests.
 */
export function useClients(open: () => readonly Closable[] | Promise<readonly Closable[]>): void {
  let opened: readonly Closable[] = [];
  before(async () => {
    opened = await open();
  });
  after(async () => {
    await Promise.all(opened.map((c) => c.close()));
  });
}

/**
 * For a suite whose tests each make their own clients: wraps `make` so that whatever it
 * made is disconnected after each test (at once, not waiting for replies: a test may leave
 * a server stopped or a proxy cut).
 */
export function perTest<A extends unknown[], C extends { disconnect(): void }>(make: (...args: A) => C): (...args: A) => C {
  const made: C[] = [];
  afterEach(() => {
    for (const c of made.splice(0)) c.disconnect();
  });
  return (...args: A): C => {
    const c = make(...args);
    made.push(c);
    return c;
  };
}
