/**
 * Waiting for a condition in tests: polled, with a deadline, never a sleep standing in for
 * synchronisation.
 */

/** Resolves once `fn` is true; rejects after `ms` milliseconds of it being false. */
export async function eventually(fn: () => Promise<boolean> | boolean, ms = 8000, what = 'condition'): Promise<void> {
  const started = performance.now();
  while (!(await fn())) {
    if (performance.now() - started > ms) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
