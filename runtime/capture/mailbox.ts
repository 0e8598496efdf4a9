/**
 * A one-slot mailbox: `put` replaces whatever is waiting, so a slow consumer always gets the
 * newest item and never a backlog. Replaced items are counted as dropped.
 */
export class Mailbox<T> {
  private item: T | undefined;
  private waiter: ((v: T | undefined) => void) | undefined;
  private closed = false;
  /** Items replaced before anyone took them. */
  dropped = 0;

  /** `onDrop` gets each item replaced or discarded at close (e.g. to give its buffer back). */
  constructor(private readonly onDrop: (item: T) => void = () => {}) {}

  put(v: T): void {
    if (this.closed) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(v);
      return;
    }
    if (this.item !== undefined) {
      this.dropped++;
      this.onDrop(this.item);
    }
    this.item = v;
  }

  /** The newest item; waits for one. Resolves undefined once closed. */
  take(): Promise<T | undefined> {
    if (this.item !== undefined) {
      const v = this.item;
      this.item = undefined;
      return Promise.resolve(v);
    }
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  close(): void {
    this.closed = true;
    if (this.item !== undefined) this.onDrop(this.item);
    this.item = undefined;
    const w = this.waiter;
    this.waiter = undefined;
    w?.(undefined);
  }
}
