import type { Frame, Rect } from '../frame.js';
import type { ModelSession } from '../inference/model-session.js';
import type { InputSpec } from '../models/manifest.js';
import type { WorkerCalls } from '../util/worker-calls.js';
import type { FrameWorkRequest } from './worker-thread.js';
import { frameWorker, sharedFrame } from './worker-spawn.js';

/** Each session's input, prepared; a session missing from it is prepared in line. */
export type PreparedInputs = ReadonlyMap<ModelSession, Float32Array>;

/** No inputs from the worker: every session's is prepared in line. */
const NONE: PreparedInputs = new Map();

/** One frame's preprocessing, offered to the worker (ParallelPrep.start). */
export interface PrepJob {
  /**
   * The inputs once the gate is done: the worker's, when it has begun them (waited for); none,
   * to be prepared in line, when it has not begun by now: it then leaves the frame alone. A late
   * worker (a busy core) so costs the ~1 ms of preprocessing, not the wait for it.
   */
  take(): Promise<PreparedInputs>;
  /** What the worker made of the offer: its inputs, or none when it was taken back or failed. */
  readonly settled: Promise<PreparedInputs>;
}

/**
 * The models' preprocessing beside the quality gate, for the live daemon. While the main thread
 * runs the gate (about 2 ms at the analysis size), a worker thread crops and resizes the frame,
 * where it lies in shared memory (the pooled capture buffers), into every model's input. No
 * model runs before the gate's verdict, and a gated frame's inputs are simply not used. The
 * inputs come back in shared memory and are copied into each session's own buffer (ONNX
 * Runtime refuses shared memory): 0.1 ms instead of the ~1 ms of preprocessing. Frames not in
 * shared memory, and every frame once the worker is gone, are prepared in line. So is a frame
 * whose job the worker has not begun when the gate is done (PrepJob.take): a worker kept off
 * its core then costs the preprocessing, not an unbounded wait.
 */
export class ParallelPrep {
  private readonly calls: WorkerCalls<FrameWorkRequest, boolean>;
  /** The sessions' staging buffers (shared memory) and what a request and its answer name, per sessions list. */
  private stage: { sessions: readonly ModelSession[]; inputs: { spec: InputSpec; out: Float32Array }[]; prepared: PreparedInputs } | null = null;
  /** The ticket of the job on offer; the worker claims it (-1) or the main thread takes it back (0). */
  private readonly offer = new Int32Array(new SharedArrayBuffer(4));
  private ticket = 0;

  /** `onFailure` hears once why the worker is gone; inputs are then prepared in line. */
  constructor(onFailure: (why: string) => void = () => {}) {
    this.calls = frameWorker('preprocessing worker', onFailure);
  }

  /**
   * Offers the worker each session's input from the frame cropped to `crop`; null when it must
   * be done in line. Until take() settles, nothing may write the frame. No inputs (all in line)
   * if the worker fails meanwhile.
   */
  start(frame: Frame, crop: Rect, sessions: readonly ModelSession[]): PrepJob | null {
    const shared = sharedFrame(frame);
    if (!this.calls.running || !shared || sessions.length === 0) return null;
    const { inputs, prepared } = this.stagingFor(sessions);
    // A ticket per job, never 0: a request still queued from a job taken back finds another ticket on offer.
    const ticket = (this.ticket = (this.ticket % 0x7fffffff) + 1);
    Atomics.store(this.offer, 0, ticket);
    const request: FrameWorkRequest = {
      kind: 'prepare',
      frame: shared,
      crop,
      inputs,
      offer: this.offer,
      ticket,
    };
    const settled = this.calls.call(request).then(
      (done) => (done ? prepared : NONE),
      () => NONE,
    );
    return { settled, take: () => (Atomics.compareExchange(this.offer, 0, ticket, 0) === ticket ? Promise.resolve(NONE) : settled) };
  }

  close(): Promise<void> {
    return this.calls.close();
  }

  /** Made once per sessions list (a model reload brings a new one), not per frame. */
  private stagingFor(sessions: readonly ModelSession[]): NonNullable<ParallelPrep['stage']> {
    if (this.stage?.sessions !== sessions) {
      const outs = sessions.map((s) => new Float32Array(new SharedArrayBuffer(4 * s.manifest.input.shape.reduce((a, b) => a * b, 1))));
      this.stage = {
        sessions,
        inputs: sessions.map((s, i) => ({ spec: s.manifest.input, out: outs[i] })),
        prepared: new Map(sessions.map((s, i) => [s, outs[i]])),
      };
    }
    return this.stage;
  }
}
