import { Worker } from 'node:worker_threads';
import { messageOf } from '../errors.js';

/**
 * Calls to a worker thread: one message each, each answered by one. The per-frame work that can
 * run beside the main thread goes through this (pipeline/worker-thread.ts). When the worker
 * fails or exits, the calls in flight reject, `failure` says why, `onFailure` hears it once, and
 * the owner does the work in line from then on.
 */
export class WorkerCalls<Req, Res> {
  private worker: Worker | null;
  private seq = 0;
  private readonly waiting = new Map<number, { resolve: (r: Res) => void; reject: (e: Error) => void }>();
  /** Why the worker is gone, or null while it runs. */
  failure: string | null = null;

  /** `what` names the worker in the failure ("ROI detection worker"). */
  constructor(url: URL, what: string, onFailure: (why: string) => void) {
    this.worker = new Worker(url);
    this.worker.unref(); // it never holds the daemon open
    this.worker.on('message', (m: { seq: number; res?: Res; error?: string }) => {
      const w = this.waiting.get(m.seq);
      if (!w) return;
      this.waiting.delete(m.seq);
      if (m.error !== undefined) w.reject(new Error(`${what}: ${m.error}`));
      else w.resolve(m.res as Res);
    });
    const gone = (why: string): void => {
      if (this.worker && !this.failure) {
        this.failure = why;
        onFailure(why);
      }
      this.worker = null;
      for (const w of this.waiting.values()) w.reject(new Error(why));
      this.waiting.clear();
    };
    this.worker.on('error', (err) => gone(`${what} failed: ${messageOf(err)}`));
    this.worker.on('exit', (code) => gone(`${what} exited (code ${code})`));
  }

  /** Whether the worker can take calls. */
  get running(): boolean {
    return this.worker !== null;
  }

  /** Sends `req`; rejects when the worker is gone (or goes before it answers). */
  call(req: Req): Promise<Res> {
    const w = this.worker;
    if (!w) return Promise.reject(new Error(this.failure ?? 'worker closed'));
    const seq = ++this.seq;
    return new Promise<Res>((resolve, reject) => {
      this.waiting.set(seq, { resolve, reject });
      w.postMessage({ seq, req });
    });
  }

  /** Stops the worker; calls in flight reject. */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    for (const c of this.waiting.values()) c.reject(new Error('worker closed'));
    this.waiting.clear();
    await w?.terminate();
  }
}
