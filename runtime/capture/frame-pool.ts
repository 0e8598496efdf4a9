/**
 * Frame buffers reused on the live path. Each analysis frame used to arrive in a new 2 MB
 * Buffer: V8 counts young buffers as external memory and, at 60 fps, scavenged every ~14 frames
 * for them (0.7 ms typically, 2–5 ms at the tail), and each copy landed in fresh pages. Now the
 * pull copies into a pooled buffer (off the main thread, binding patch), and the buffer comes
 * back when its last reader is done: the frame loop, or the recorder once its frame is encoded.
 * The buffers are SharedArrayBuffers, so a worker thread can read a frame where it lies.
 */

/** Who still reads a frame's pixels: each keeper retains, and releases when done. */
export interface FrameHold {
  retain(): void;
  release(): void;
}

export class FramePool {
  private free: Buffer[] = [];
  private bytes = 0;
  /** Buffers made since the pool started (the rest were reused). */
  made = 0;

  /** `keep`: free buffers kept at most (more would only hold memory). */
  constructor(private readonly keep = 6) {}

  /** A buffer of `bytes` to pull into, and its hold with one lease: the caller's. */
  take(bytes: number): { buf: Buffer; hold: FrameHold } {
    if (bytes !== this.bytes) {
      // Another picture size: buffers of the old one are of no use.
      this.free = [];
      this.bytes = bytes;
    }
    const buf = this.free.pop() ?? this.make(bytes);
    let leases = 1;
    const hold: FrameHold = {
      retain: () => {
        if (leases > 0) leases++;
      },
      release: () => {
        if (leases === 0) return; // already back: a second release must not give it out twice
        if (--leases === 0 && buf.length === this.bytes && this.free.length < this.keep) this.free.push(buf);
      },
    };
    return { buf, hold };
  }

  private make(bytes: number): Buffer {
    this.made++;
    return Buffer.from(new SharedArrayBuffer(bytes));
  }
}
