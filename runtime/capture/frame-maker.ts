// capture/: turns the appsink's samples into Frames: checked, numbered, counted, with the
// source's size attached, and held back while that size is not confirmed.
import { LumenError } from '../errors.js';
import type { Frame } from '../frame.js';
import type { FrameHold } from './frame-pool.js';
import type { Sample } from './gst.js';
import type { SourceSize } from './source-size.js';

/** A sample that passed the checks: its frame id and picture size. */
interface Admitted {
  id: number;
  width: number;
  height: number;
}

/** Makes each sample into a Frame; one per capture, in the order GStreamer delivers. */
export class FrameMaker {
  private nextId = 0;
  /** Frames that left GStreamer. */
  captured = 0;

  /** `failure()`: the capture's failure, thrown by a wait for the source size. */
  constructor(
    private readonly source: SourceSize,
    private readonly readyTimeoutMs: number,
    private readonly failure: () => LumenError | undefined,
  ) {}

  /** Live: the frame, or null (not sent) while the source's size after a change is not yet confirmed; `hold` when its buffer is pooled. */
  sized(s: Sample, hold?: FrameHold): Frame | null {
    const m = this.admit(s);
    return this.source.confirmed ? this.frame(s, m, hold) : null;
  }

  /**
   * The first frame, and every frame in QA order: never dropped for its size, it waits for the
   * source size to be read instead (at start, and after a change of size).
   */
  async inOrder(s: Sample): Promise<Frame> {
    const m = this.admit(s);
    if (!this.source.confirmed) await this.source.waitConfirmed(this.readyTimeoutMs, this.failure);
    return this.frame(s, m);
  }

  /** Checks and counts a sample; notes a change of the analysis picture's shape. */
  private admit(s: Sample): Admitted {
    const width = Number(s.caps.width);
    const height = Number(s.caps.height);
    if (s.buf.length !== width * height * 4) {
      throw new LumenError('PIPELINE_RUNTIME', `frame of ${s.buf.length} bytes does not match RGBA ${width}×${height}`);
    }
    this.captured++;
    // Ids count every frame GStreamer delivered, so a held-back frame leaves a gap, not a shift.
    const id = this.nextId++;
    this.source.observe(width, height);
    return { id, width, height };
  }

  private frame(s: Sample, m: Admitted, hold?: FrameHold): Frame {
    const size = this.source.size;
    const full = size && (size.width !== m.width || size.height !== m.height) ? { full: size } : {};
    return { id: m.id, ts: Date.now(), width: m.width, height: m.height, data: s.buf, ...full, ...(hold ? { hold } : {}) };
  }
}
