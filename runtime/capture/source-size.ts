// capture/: the source's own size, read at the analysis scaler's input, and whether the analysis
// pictures delivered may be sent with it.
import type { Logger } from '../log.js';
import { LumenError } from '../errors.js';
import type { Size } from '../frame.js';

/** How often a wait for the source's size reads it again, ms. */
const WAIT_POLL_MS = 20;

/**
 * The size every coordinate on the wire is in. Known from the template (a self-scaling one) or
 * read at the scaler's input with each delivered frame; after the analysis picture changes
 * shape, unknown until a reading fits the new shape (the scaler may have moved on to a frame
 * of another source size before the appsink's frame is taken: such a reading is not this
 * frame's, and is left alone).
 */
export class SourceSize {
  /** The source's own size (null while unknown); frames are scaled from it. */
  private full: Size | null;
  private lastAnalysis: Size | null = null;
  private closed = false;

  /** `read` null: no scaler, `fixed` (or nothing) is all there is to know. */
  constructor(
    private readonly read: (() => Size | null) | null,
    fixed: Size | null,
    private readonly log: Logger,
  ) {
    this.full = fixed;
  }

  /** The source's own size, once known. */
  get size(): Size | null {
    return this.full;
  }

  /** Whether a frame may go out now: no scaler, or a known size that fits the analysis picture. */
  get confirmed(): boolean {
    return !this.read || (this.full !== null && this.fits(this.full));
  }

  /** Notes the shape of a delivered analysis picture and reads the source's size for it. */
  observe(width: number, height: number): void {
    const prev = this.lastAnalysis;
    if (!prev || prev.width !== width || prev.height !== height) {
      if (this.read && prev) {
        // A new picture shape: the old source size no longer applies until a reading confirms one.
        this.log.info({ from: prev, to: { width, height } }, 'analysis size changed');
        this.full = null;
      }
      this.lastAnalysis = { width, height };
    }
    this.refresh();
  }

  /** Reads the scaler's input (a few microseconds) and keeps the size if it fits the picture. */
  private refresh(): void {
    const size = this.read?.() ?? null;
    if (!size || !this.fits(size)) return;
    if (this.full && (this.full.width !== size.width || this.full.height !== size.height)) {
      this.log.info({ from: this.full, to: size }, 'source size changed');
    }
    this.full = size;
  }

  /** A source size belongs to the analysis picture in flight if their shapes agree. */
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

  /**
   * Waits until `confirmed` (every-frame order: a frame is never dropped for its size); throws
   * what `failure()` says, or after `timeoutMs`, or when closed.
   */
  async waitConfirmed(timeoutMs: number, failure: () => LumenError | undefined): Promise<void> {
    for (const until = Date.now() + timeoutMs; !this.confirmed; this.refresh()) {
      const err = failure();
      if (err) throw err;
      if (this.closed || Date.now() > until) {
        throw new LumenError('PIPELINE_RUNTIME', `the source's size was not reported within ${timeoutMs} ms`);
      }
      await new Promise<void>((r) => setTimeout(r, WAIT_POLL_MS));
    }
  }

  /** Ends any wait. Safe to call twice. */
  close(): void {
    this.closed = true;
  }
}
