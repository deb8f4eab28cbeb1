/**
 * A FIFO on a growable ring buffer: shift() is O(1), unlike Array#shift on long arrays,
 * which matters when thousands of commands are in flight on one socket.
 */
export class Queue<T> {
  private items: Array<T | undefined>;
  private head = 0;
  private size = 0;

  constructor(capacity = 64) {
    let size = 8; // a power of two, so positions wrap with a mask
    while (size < capacity) size *= 2;
    this.items = new Array<T | undefined>(size);
  }

  get length(): number {
    return this.size;
  }

  push(item: T): void {
    if (this.size === this.items.length) this.grow();
    this.items[(this.head + this.size) & (this.items.length - 1)] = item;
    this.size++;
  }

  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & (this.items.length - 1);
    this.size--;
    return item;
  }

  peek(): T | undefined {
    return this.size === 0 ? undefined : this.items[this.head];
  }

  /** Calls fn on every item, oldest first. */
  forEach(fn: (item: T) => void): void {
    const mask = this.items.length - 1;
    for (let i = 0; i < this.size; i++) fn(this.items[(this.head + i) & mask] as T);
  }

  /** Removes and returns every item, oldest first. */
  drain(): T[] {
    const out: T[] = [];
    for (let item = this.shift(); item !== undefined; item = this.shift()) out.push(item);
    return out;
  }

  private grow(): void {
    const old = this.items;
    const next = new Array<T | undefined>(old.length * 2);
    for (let i = 0; i < this.size; i++) next[i] = old[(this.head + i) & (old.length - 1)];
    this.items = next;
    this.head = 0;
  }
}
