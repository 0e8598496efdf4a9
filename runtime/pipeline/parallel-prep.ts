import type { Frame, Rect } from '../frame.js';
import type { ModelSession } from '../inference/model-session.js';
import type { WorkerCalls } from '../util/worker-calls.js';
import type { FrameWorkRequest } from './worker-thread.js';
import { frameWorker } from './worker-spawn.js';

/** Each session's input, prepared; a session missing from it is prepared in line. */
export type PreparedInputs = ReadonlyMap<ModelSession, Float32Array>;

/**
 * The models' preprocessing beside the quality gate, for the live daemon. While the main thread
 * runs the gate (about 2 ms at the analysis size), a worker thread crops and resizes the frame,
 * where it lies in shared memory (the pooled capture buffers), into every model's input. No
 * model runs before the gate's verdict, and a gated frame's inputs are simply not used. The
 * inputs come back in shared memory and are copied into each session's own buffer (ONNX
 * Runtime refuses shared memory): 0.1 ms instead of the ~1 ms of preprocessing. Frames not in
 * shared memory, and every frame once the worker is gone, are prepared in line.
 */
export class ParallelPrep {
  private readonly calls: WorkerCalls<FrameWorkRequest, null>;
  private readonly staging = new WeakMap<ModelSession, Float32Array>();

  /** `onFailure` hears once why the worker is gone; inputs are then prepared in line. */
  constructor(onFailure: (why: string) => void = () => {}) {
    this.calls = frameWorker('preprocessing worker', onFailure);
  }

  /** Why the worker is gone, or null. */
  get failure(): string | null {
    return this.calls.failure;
  }

  /**
   * Starts preparing each session's input from the frame cropped to `crop`; null when it must be
   * done in line. Until the promise settles, nothing may write the frame. It resolves to no
   * inputs (all in line) if the worker fails meanwhile.
   */
  start(frame: Frame, crop: Rect, sessions: readonly ModelSession[]): Promise<PreparedInputs> | null {
    const pixels = frame.data.buffer;
    if (!this.calls.running || !(pixels instanceof SharedArrayBuffer) || sessions.length === 0) return null;
    const inputs = sessions.map((s) => ({ session: s, out: this.stagingOf(s) }));
    const shared = { id: frame.id, width: frame.width, height: frame.height, pixels, offset: frame.data.byteOffset };
    return this.calls.call({ kind: 'prepare', frame: shared, crop, inputs: inputs.map((i) => ({ spec: i.session.manifest.input, out: i.out })) }).then(
      () => new Map(inputs.map((i) => [i.session, i.out])),
      () => new Map(),
    );
  }

  close(): Promise<void> {
    return this.calls.close();
  }

  private stagingOf(s: ModelSession): Float32Array {
    let out = this.staging.get(s);
    if (!out) {
      out = new Float32Array(new SharedArrayBuffer(4 * s.manifest.input.shape.reduce((a, b) => a * b, 1)));
      this.staging.set(s, out);
    }
    return out;
  }
}
