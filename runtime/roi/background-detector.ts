import type { Frame } from '../frame.js';
import { frameWorker, sharedFrame } from '../pipeline/worker-spawn.js';
import type { WorkerCalls } from '../util/worker-calls.js';
import type { FrameWorkRequest, SharedFrame } from '../pipeline/worker-thread.js';
import type { ActiveArea } from './active-area.js';

/**
 * Active-area detection off the frame path, for the live daemon. Once the ROI is steady, a due
 * detection (about 2 ms at the analysis size) goes to a worker thread with the frame as
 * conditioning left it, and the area comes back to the tracker between frames. The frames in
 * between keep the ROI in use, as they would anyway: a change is adopted only after several
 * agreeing detections. A pooled frame (shared memory) is read where it lies, held until the
 * worker is done; any other is copied into shared memory first. QA replay and the tests detect
 * in line, so their results never depend on timing.
 *
 * A detection is sent when the owner calls flush(), once the frame's overlay is out: it then runs
 * in the gap before the next frame. Sent at once, it ran beside that frame's work on a two-core
 * box and delayed it by 2–4 ms on every detection frame.
 */
export class BackgroundDetector {
  private readonly calls: WorkerCalls<FrameWorkRequest, ActiveArea>;
  private pixels: SharedArrayBuffer | null = null;
  /** The detection in flight; cancel() drops it by replacing it. */
  private pending: object | null = null;
  private done: Promise<void> = Promise.resolve();
  /** Sends (true) or drops (false) the detection submitted and not yet flushed. */
  private queued: ((send: boolean) => void) | null = null;

  /** `onFailure` hears once why the worker is gone; detection then goes on in line. */
  constructor(onFailure: (why: string) => void = () => {}) {
    this.calls = frameWorker('ROI detection worker', onFailure);
  }

  /** Whether a detection is in flight (its result not yet delivered). */
  get busy(): boolean {
    return this.pending !== null;
  }

  /** Resolves once no detection is in flight (its result delivered, dropped, or the worker gone). */
  idle(): Promise<void> {
    return this.done;
  }

  /**
   * Takes the frame for the worker, which gets it at the next flush(); `done` gets the area
   * (shape 'none' when nothing was found) with the frame's id. False when the worker is gone or
   * busy: nothing was taken.
   */
  submit(frame: Frame, done: (area: ActiveArea, frameId: number) => void): boolean {
    if (!this.calls.running || this.pending) return false;
    const inPlace = sharedFrame(frame);
    const hold = inPlace ? frame.hold : undefined;
    let shared: SharedFrame;
    if (inPlace && hold) {
      hold.retain();
      shared = inPlace;
    } else {
      const bytes = frame.width * frame.height * 4;
      if ((this.pixels?.byteLength ?? 0) < bytes) this.pixels = new SharedArrayBuffer(bytes);
      // One detection at a time, so the worker never reads the buffer while it is rewritten.
      new Uint8Array(this.pixels!, 0, bytes).set(frame.data.subarray(0, bytes));
      shared = { id: frame.id, width: frame.width, height: frame.height, pixels: this.pixels!, offset: 0 };
    }
    const token = {};
    this.pending = token;
    const request: FrameWorkRequest = { kind: 'detect', frame: shared };
    // Delivered only while still the pending one; null: dropped unsent, or the worker is gone
    // (failure says why: the next detection runs in line).
    const finish = (area: ActiveArea | null) => {
      hold?.release();
      if (this.pending !== token) return;
      this.pending = null;
      if (area) done(area, frame.id);
    };
    this.done = new Promise<boolean>((resolve) => (this.queued = resolve)).then((send) =>
      send ? this.calls.call(request).then(finish, () => finish(null)) : finish(null),
    );
    return true;
  }

  /** Sends the detection taken by submit(), if any: the owner calls it once the frame is out. */
  flush(): void {
    this.settle(true);
  }

  /** Drops a detection taken or in flight: its result is not delivered (the picture size changed). */
  cancel(): void {
    this.pending = null;
    this.settle(false);
  }

  close(): Promise<void> {
    this.cancel();
    return this.calls.close();
  }

  private settle(send: boolean): void {
    const q = this.queued;
    this.queued = null;
    q?.(send);
  }
}
