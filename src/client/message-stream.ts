/**
 * Messages as an async iterable: what `for await (const m of pubsub)` reads. Messages are kept
 * only while a loop is reading, and at most `maxBuffered` of them: a slow loop loses the oldest
 * messages rather than the process its memory.
 */
export class MessageStream<T> {
  private readonly buffered: T[] = [];
  private readonly waiters: Array<(r: IteratorResult<T>) => void> = [];
  private iterating = 0;
  private ended = false;

  private readonly maxBuffered: number;
  constructor(maxBuffered: number) {
    this.maxBuffered = maxBuffered;
  }

  push(message: T): void {
    if (this.iterating === 0 || this.ended) return;
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      waiter({ value: message, done: false });
      return;
    }
    if (this.buffered.length >= this.maxBuffered) this.buffered.shift();
    this.buffered.push(message);
  }

  /** Ends every loop, now and later. */
  end(): void {
    this.ended = true;
    for (const w of this.waiters.splice(0)) w({ value: undefined, done: true });
  }

  iterator(): AsyncIterator<T> {
    this.iterating++;
    let done = false;
    const finish = (): IteratorResult<T> => {
      if (!done) {
        done = true;
        this.iterating--;
        if (this.iterating === 0) this.buffered.length = 0;
      }
      return { value: undefined, done: true };
    };
    return {
      next: () => {
        if (done) return Promise.resolve({ value: undefined, done: true });
        const m = this.buffered.shift();
        if (m !== undefined) return Promise.resolve({ value: m, done: false });
        if (this.ended) return Promise.resolve(finish());
        return new Promise<IteratorResult<T>>((resolve) => this.waiters.push(resolve));
      },
      return: () => Promise.resolve(finish()),
    };
  }
}
