// Continuous procedure recording: one segment file at a time, rolled at a keyframe every
// record.segments.seconds so that each segment plays on its own.
import type { Size } from '../frame.js';
import type { EncodedUnit } from './encoder.js';
import type { FrameDecision } from './sidecar.js';
import type { RecordingStore } from './store.js';
import type { RecordingWriter } from './writer.js';

/** The segment being written, if any. Owned by the Recorder, which feeds it encoded units. */
export class Segments {
  private writer: RecordingWriter | null = null;

  constructor(
    /** Length of a segment, s. */
    private readonly seconds: number,
    private readonly store: RecordingStore,
    /** Ids of every file being written (retention leaves them alone). */
    private readonly busy: () => ReadonlySet<string>,
  ) {}

  /** Id of the segment being written, or null. */
  get id(): string | null {
    return this.writer?.id ?? null;
  }

  /** An encoded unit: a segment starts and rolls over only at a keyframe. */
  push(u: EncodedUnit<FrameDecision>, size: Size): void {
    const seg = this.writer;
    if (seg && u.key && u.ts - (seg.startTs ?? u.ts) >= this.seconds * 1000) {
      this.store.finish(seg, 'segment', this.busy);
      this.writer = null;
    }
    if (!this.writer && u.key) this.writer = this.store.writer('segment', u.ts, size);
    this.writer?.push(u);
  }

  /** Ends the segment if its file stopped growing (health check). */
  async endStalled(): Promise<void> {
    const seg = this.writer;
    if (seg && !(await seg.progress()) && this.writer === seg) this.end('stalled');
  }

  /** Ends the segment being written (a new picture size, a fault, stop). */
  end(reason: string): void {
    if (this.writer) this.store.finish(this.writer, reason, this.busy);
    this.writer = null;
  }
}
