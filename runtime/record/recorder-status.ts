import type { Config } from '../config/schema.js';
import type { ErrorCode } from '../errors.js';
import type { RecordingInfo } from './catalogue.js';

/** lumen.status `recording` (docs/protocol.md). */
export interface RecordingStatus {
  /** off (config), ready (encoding into the pre-roll), recording (a file is open), stopped (a fault, in `error`). */
  state: 'off' | 'ready' | 'recording' | 'stopped';
  clips: boolean;
  segments: boolean;
  encoder: string;
  /** Why recording stopped: a code from the error catalogue, what happened, since when (ms). */
  error: { code: ErrorCode; message: string; since: number } | null;
  /** Ids of the files being written. */
  active: string[];
  /** Encoded pre-roll held in memory: its span, size and cap. */
  preRoll: { seconds: number; bytes: number; maxBytes: number };
  /** Frames encoded; skipped above maxFps, or because the encoder was behind; in the encoder now. */
  frames: { recorded: number; skippedRate: number; skippedBusy: number; inFlight: number };
  /** Disk: recordings' size, the quota, free space where they live (MB). */
  diskMB: { used: number; quota: number; free: number | null };
  /** Recordings on disk per state (deleted: tombstones of clips retention removed). */
  recordings: Record<RecordingInfo['state'], number>;
}

/** Counters and the fault behind the recorder's status. */
export class RecordingStats {
  recorded = 0;
  skippedRate = 0;
  skippedBusy = 0;
  freeMB: number | null = null;
  fault: RecordingStatus['error'] = null;
  status(
    state: RecordingStatus['state'],
    r: Readonly<Config['record']>,
    active: string[],
    pre: { seconds: number; bytes: number },
    inFlight: number,
    onDisk: readonly RecordingInfo[],
  ): RecordingStatus {
    const mb = (b: number) => Math.round(b / 104857.6) / 10;
    const states: RecordingStatus['recordings'] = { recording: 0, complete: 0, incomplete: 0, failed: 0, deleted: 0 };
    let used = 0;
    for (const rec of onDisk) {
      states[rec.state]++;
      used += rec.bytes;
    }
    return {
      state,
      clips: r.clips.enabled,
      segments: r.segments.enabled,
      encoder: r.encoder,
      error: this.fault,
      active,
      preRoll: { seconds: Math.round(pre.seconds * 100) / 100, bytes: pre.bytes, maxBytes: r.preRollMaxMB * 2 ** 20 },
      frames: { recorded: this.recorded, skippedRate: this.skippedRate, skippedBusy: this.skippedBusy, inFlight },
      diskMB: { used: mb(used), quota: r.retention.quotaMB, free: this.freeMB === null ? null : Math.round(this.freeMB) },
      recordings: states,
    };
  }
}

/** Capture times of the frames handled lately, by id: where a clip's pre-roll is counted from. */
export class RecentFrames {
  private readonly ids: Float64Array;
  private readonly ts: Float64Array;
  private n = 0;

  constructor(private readonly size: number) {
    this.ids = new Float64Array(size).fill(-1);
    this.ts = new Float64Array(size);
  }

  add(id: number, ts: number): void {
    // Ids start again from 0 when capture re-opens the source: the old ones mean nothing now.
    if (this.n > 0 && id < this.ids[(this.n - 1) % this.size]) this.ids.fill(-1);
    const i = this.n++ % this.size;
    this.ids[i] = id;
    this.ts[i] = ts;
  }

  /**
   * Frame ids per ms over the newest `spanMs` of frames: the source's rate (ids count every frame
   * GStreamer delivered, handled or not), or null with fewer than two frames to measure it on.
   * Ten seconds, because a frame's time is when it left GStreamer: frames held back by a stall
   * leave in a burst, and over a short window would read as a faster source.
   */
  idRate(spanMs = 10_000): number | null {
    const count = Math.min(this.n, this.size);
    if (count < 2) return null;
    const newest = (this.n - 1) % this.size;
    let oldest = newest;
    for (let k = 1; k < count; k++) {
      const i = (this.n - 1 - k) % this.size;
      if (this.ids[i] < 0 || this.ts[newest] - this.ts[i] > spanMs) break;
      oldest = i;
    }
    const dt = this.ts[newest] - this.ts[oldest];
    return dt > 0 ? (this.ids[newest] - this.ids[oldest]) / dt : null;
  }

  /** The capture time of frame `id`, or of the first frame after it that was handled; null if older than the window. */
  tsOf(id: number): number | null {
    let best: number | null = null;
    let bestId = Infinity;
    for (let i = 0; i < this.size; i++) {
      const fid = this.ids[i];
      if (fid >= id && fid < bestId) {
        bestId = fid;
        best = this.ts[i];
      }
    }
    return best;
  }
}
