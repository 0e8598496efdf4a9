import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { messageOf } from '../errors.js';
import type { Frame } from '../frame.js';
import type { ActiveArea } from './active-area.js';
import type { DetectRequest } from './detect-worker.js';

/**
 * Active-area detection off the frame path, for the live daemon. Once the ROI is steady, a due
 * detection (about 2 ms at the analysis size) goes to a worker thread with a copy of the frame
 * as conditioning left it, and the area comes back to the tracker between frames. The frames in
 * between keep the ROI in use, as they would anyway: a change is adopted only after several
 * agreeing detections. The main thread pays for the copy (a few hundred µs, every detectEvery
 * frames). QA replay and the tests detect in line, so their results never depend on timing.
 */
export class BackgroundDetector {
  private worker: Worker | null;
  private pixels: SharedArrayBuffer | null = null;
  private seq = 0;
  private pending: { seq: number; frameId: number; done: (area: ActiveArea, frameId: number) => void } | null = null;
  private idleWaiters: (() => void)[] = [];
  /** Why the worker is gone (it failed or exited): the caller then detects in line. */
  failure: string | null = null;

  /** `onFailure` hears once why the worker is gone; detection then goes on in line. */
  constructor(onFailure: (why: string) => void = () => {}) {
    // The worker is this module's sibling, compiled (.js) or run from source (.ts) alike.
    const self = fileURLToPath(import.meta.url);
    this.worker = new Worker(new URL(`./detect-worker${extname(self)}`, import.meta.url));
    this.worker.unref(); // it never holds the daemon open
    this.worker.on('message', (m: { seq: number; area: ActiveArea }) => {
      const p = this.pending;
      if (!p || p.seq !== m.seq) return;
      this.pending = null;
      p.done(m.area, p.frameId);
      this.settle();
    });
    const gone = (why: string): void => {
      if (this.worker && !this.failure) {
        this.failure = why;
        onFailure(why);
      }
      this.worker = null;
      this.pending = null;
      this.settle();
    };
    this.worker.on('error', (err) => gone(`ROI detection worker failed: ${messageOf(err)}`));
    this.worker.on('exit', (code) => gone(`ROI detection worker exited (code ${code})`));
  }

  /** Whether a detection is in flight (its result not yet delivered). */
  get busy(): boolean {
    return this.pending !== null;
  }

  /**
   * Hands the frame to the worker; `done` gets the area (shape 'none' when nothing was found)
   * with the frame's id. False when the worker is gone or busy: nothing was sent.
   */
  submit(frame: Frame, done: (area: ActiveArea, frameId: number) => void): boolean {
    if (!this.worker || this.pending) return false;
    const bytes = frame.width * frame.height * 4;
    if ((this.pixels?.byteLength ?? 0) < bytes) this.pixels = new SharedArrayBuffer(bytes);
    // One detection at a time, so the worker never reads the buffer while it is rewritten.
    new Uint8Array(this.pixels!, 0, bytes).set(frame.data.subarray(0, bytes));
    const req: DetectRequest = { seq: ++this.seq, width: frame.width, height: frame.height, pixels: this.pixels! };
    this.pending = { seq: req.seq, frameId: frame.id, done };
    this.worker.postMessage(req);
    return true;
  }

  /** Resolves once no detection is in flight (its result delivered, dropped, or the worker gone). */
  idle(): Promise<void> {
    return this.pending ? new Promise((resolve) => this.idleWaiters.push(resolve)) : Promise.resolve();
  }

  /** Drops a detection in flight: its result is not delivered (the picture size changed). */
  cancel(): void {
    this.pending = null;
    this.settle();
  }

  private settle(): void {
    for (const w of this.idleWaiters.splice(0)) w();
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    this.pending = null;
    this.settle();
    await w?.terminate();
  }
}
