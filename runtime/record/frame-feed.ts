// The recording's intake: which handled frames are recorded (record.maxFps), their pixels, and the
// long-lived encoder they go into.
import type { Config } from '../config/schema.js';
import type { DecisionOutput } from '../decision/decision.js';
import { isLumenError, LumenError, messageOf } from '../errors.js';
import type { Size } from '../frame.js';
import type { Logger } from '../log.js';
import type { ProcessedFrame } from '../pipeline/processed-frame.js';
import { Encoder, type EncodedUnit, type EncoderOptions } from './encoder.js';
import { RecordPixels } from './frame-pixels.js';
import { PROFILES } from './profiles.js';
import type { RecordingStats } from './recorder-status.js';
import type { FrameDecision } from './sidecar.js';

/** Frames pushed but not yet encoded before further frames are skipped (each is width × height × 4 bytes). */
const MAX_IN_FLIGHT = 4;
/** Frames the rate cap lets through back to back (see due()). */
const BURST = 3;

/** What the feed tells the recorder that owns it. */
export interface FeedEvents {
  /** An encoded unit, in frame order. */
  unit(u: EncodedUnit<FrameDecision>): void;
  /** The encoder failed or could not be opened. */
  fault(err: LumenError): void;
  /** The picture size changed: the open files and the encoder end (the recorder's restart). */
  restart(reason: string): void;
}

/** Frames to the encoder, at most record.maxFps; counts what was recorded and skipped in the stats. */
export class FrameFeed {
  private enc: Encoder<FrameDecision> | null = null;
  private readonly pixels: RecordPixels;
  private tokens = BURST;
  private lastTs = 0;

  constructor(
    private readonly r: Readonly<Config['record']>,
    roi: Readonly<Config['roi']>,
    private readonly stats: RecordingStats,
    private readonly events: FeedEvents,
    private readonly log: Logger,
  ) {
    this.pixels = new RecordPixels(roi);
  }

  /** The running encoder, or null (none yet, or ended by a fault or a new picture size). */
  get encoder(): Encoder<FrameDecision> | null {
    return this.enc;
  }

  /** A handled frame: skipped by the rate cap or a busy encoder, or pushed to the encoder. */
  take(p: ProcessedFrame, d: DecisionOutput): void {
    const f = p.frame;
    if (!this.due(f.ts)) this.stats.skippedRate++;
    else {
      if (this.enc && (this.enc.size.width !== f.width || this.enc.size.height !== f.height)) this.events.restart('size-change');
      if (this.enc || this.open(f)) {
        const data = this.pixels.of(p);
        const meta: FrameDecision = { score: p.score, smoothed: d.smoothed, alert: d.alert, gated: p.gated, box: p.box };
        // The frame's own (pooled) buffer is read by GStreamer until encoded: held until then.
        const hold = data === f.data ? f.hold : undefined;
        hold?.retain();
        if (this.enc!.push(data, f.id, f.ts, meta, hold)) this.stats.recorded++;
        else {
          hold?.release();
          this.stats.skippedBusy++;
        }
      }
    }
  }

  /**
   * Every frame up to maxFps on average; above it, as many as keep the rate at maxFps. A token
   * bucket rather than a minimum spacing: frames that left GStreamer close together after a
   * stall (their capture times are when they left it) are real frames, not a higher rate.
   */
  private due(ts: number): boolean {
    this.tokens = Math.min(BURST, this.tokens + (Math.max(0, ts - this.lastTs) * this.r.maxFps) / 1000);
    this.lastTs = ts;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private open(f: Size): boolean {
    try {
      this.enc = Encoder.open<FrameDecision>(
        this.options({ width: f.width, height: f.height }),
        (u) => this.events.unit(u),
        (err) => this.events.fault(err),
        this.log,
      );
      return true;
    } catch (err) {
      this.events.fault(isLumenError(err) ? err : new LumenError('RECORD_ENCODER', messageOf(err)));
      return false;
    }
  }

  private options(size: Size): EncoderOptions {
    const gop = Math.max(1, Math.round(this.r.keyframeEveryS * this.r.maxFps));
    return { profile: PROFILES[this.r.encoder], size, fps: this.r.maxFps, gop, kbps: this.r.bitrateKbps, maxInFlight: MAX_IN_FLIGHT };
  }

  /** Ends the encoder, with what it had encoded within `ms` delivered; the next frame opens a new one. */
  async end(ms: number): Promise<void> {
    const enc = this.enc;
    this.enc = null;
    await enc?.close(ms);
  }
}
