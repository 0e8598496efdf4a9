import type { Frame, Rect, Size } from './frame.js';

/**
 * The one place where analysis pixels and full-frame pixels meet. The models, the ROI and the
 * quality gate work on the analysis frame; the protocol, the config's privacy masks and the
 * monitors speak full-frame pixels.
 */
export class FrameScale {
  /** Full-frame pixels per analysis pixel, horizontally and vertically. */
  readonly sx: number;
  readonly sy: number;

  constructor(
    readonly analysis: Size,
    readonly full: Size,
  ) {
    this.sx = full.width / analysis.width;
    this.sy = full.height / analysis.height;
  }

  static of(frame: Frame): FrameScale {
    return new FrameScale(frame, frame.full ?? frame);
  }

  get identity(): boolean {
    return this.sx === 1 && this.sy === 1;
  }

  /** Same sizes on both sides. */
  equals(o: FrameScale | null): boolean {
    return (
      !!o &&
      o.analysis.width === this.analysis.width &&
      o.analysis.height === this.analysis.height &&
      o.full.width === this.full.width &&
      o.full.height === this.full.height
    );
  }

  /** An analysis rectangle in full-frame pixels (edges rounded to the nearest pixel). */
  rectToFull(r: Rect): Rect {
    const x = Math.round(r.x * this.sx);
    const y = Math.round(r.y * this.sy);
    return { x, y, width: Math.round((r.x + r.width) * this.sx) - x, height: Math.round((r.y + r.height) * this.sy) - y };
  }

  /**
   * A full-frame rectangle in analysis pixels, rounded outwards and clipped: a privacy mask
   * must cover every analysis pixel that any of its full-frame pixels contributes to.
   */
  rectToAnalysis(r: Rect): Rect {
    // A scaler's filter reads source pixels beyond each destination pixel's own footprint: one
    // analysis pixel of margin covers bilinear and 4-tap filters at any downscale.
    const m = this.identity ? 0 : 1;
    const x0 = Math.max(0, Math.floor(r.x / this.sx) - m);
    const y0 = Math.max(0, Math.floor(r.y / this.sy) - m);
    const x1 = Math.min(this.analysis.width, Math.ceil((r.x + r.width) / this.sx) + m);
    const y1 = Math.min(this.analysis.height, Math.ceil((r.y + r.height) / this.sy) + m);
    return { x: x0, y: y0, width: Math.max(0, x1 - x0), height: Math.max(0, y1 - y0) };
  }
}
