// capture/: the source's own size, read by the size probe beside the analysis stream, and whether
// the analysis pictures delivered may be sent with it.
import type { Logger } from '../log.js';
import { LumenError } from '../errors.js';
import type { Size } from '../frame.js';
import { probedSize, SIZE_PROBE_RATE, SIZE_PROBE_VALVE } from './analysis-stream.js';
import type { AppSink, GstPipeline } from './gst.js';

/**
 * The size every coordinate on the wire is in. Known from the template (a self-scaling one) or
 * reported by the probe a few times a second; after the analysis picture changes shape, unknown
 * until the probe reports a size that fits the new shape.
 */
export class SourceSize {
  /** The source's own size (null while unknown); frames are scaled from it. */
  private full: Size | null;
  private lastAnalysis: Size | null = null;
  private timer: NodeJS.Timeout | undefined;
  /** Every-frame mode waits here for the probe after a change of size. */
  private waiters: (() => void)[] = [];
  private closed = false;

  /** `probe` null: no probe branch, `fixed` (or nothing) is all there is to know. */
  constructor(
    private readonly pipeline: GstPipeline,
    private readonly probe: AppSink | null,
    fixed: Size | null,
    private readonly live: boolean,
    private readonly log: Logger,
  ) {
    this.full = fixed;
  }

  /** The source's own size, once known. */
  get size(): Size | null {
    return this.full;
  }

  /** Whether a frame may go out now: no probe, or a known size that fits the analysis picture. */
  get confirmed(): boolean {
    return !this.probe || (this.full !== null && this.fits(this.full));
  }

  /** Starts reading the probe (if there is one). */
  start(): void {
    if (this.probe) void this.probeLoop();
  }

  /** Reads the source size a few times a second; the probe's frames are dropped in GStreamer. */
  private async probeLoop(): Promise<void> {
    while (!this.closed && this.probe) {
      const s = await this.probe.pull();
      if (!s || this.closed) return;
      const size = probedSize(s.caps);
      if (size && this.fits(size)) {
        if (this.full && (this.full.width !== size.width || this.full.height !== size.height)) {
          this.log.info({ from: this.full, to: size }, 'source size changed');
        }
        this.full = size;
        for (const w of this.waiters.splice(0)) w();
      }
      // Live: closed until the next look, so no frame is payloaded in between. QA keeps it open:
      // its frames wait for their size, and a closed valve would hold back the one that says it.
      const live = this.live;
      if (live) this.pipeline.setProperty(SIZE_PROBE_VALVE, 'drop', true);
      await new Promise<void>((r) => (this.timer = setTimeout(r, (live ? 1000 : 100) / SIZE_PROBE_RATE)));
      if (this.closed) return;
      if (live) this.pipeline.setProperty(SIZE_PROBE_VALVE, 'drop', false);
    }
  }

  /** A reported source size belongs to the analysis stream in flight if their shapes agree. */
  private fits(size: Size): boolean {
    const a = this.lastAnalysis;
    if (!a) return true;
    // The scaler keeps the aspect ratio to within a pixel's rounding.
    return Math.abs(size.width / size.height - a.width / a.height) <= 2 / Math.min(a.width, a.height);
  }

  /** An explicitly configured analysis size must not exceed the source in both dimensions. */
  checkAnalysis(a: Size): void {
    if (!this.full) return;
    if (this.full.width < a.width && this.full.height < a.height) {
      throw new LumenError(
        'CONFIG_INVALID',
        `capture.analysisSize ${a.width}x${a.height} is larger than the source (${this.full.width}×${this.full.height}): use a smaller size or "full"`,
        { key: 'capture.analysisSize' },
      );
    }
  }

  /** Notes the shape of a delivered analysis picture. */
  observe(width: number, height: number): void {
    const prev = this.lastAnalysis;
    if (this.probe && prev && (prev.width !== width || prev.height !== height)) {
      // A new picture shape: the old source size no longer applies until the probe confirms one.
      this.log.info({ from: prev, to: { width, height } }, 'analysis size changed');
      this.full = null;
    }
    this.lastAnalysis = { width, height };
  }

  /**
   * Waits until `confirmed` (every-frame order: a frame is never dropped for its size); throws
   * what `failure()` says, or after `timeoutMs`, or when closed.
   */
  async waitConfirmed(timeoutMs: number, failure: () => LumenError | undefined): Promise<void> {
    for (const until = Date.now() + timeoutMs; !this.confirmed;) {
      const err = failure();
      if (err) throw err;
      if (this.closed || Date.now() > until) {
        throw new LumenError('PIPELINE_RUNTIME', `the source's size was not reported within ${timeoutMs} ms`);
      }
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }

  /** Stops reading the probe. Safe to call twice. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }
}
