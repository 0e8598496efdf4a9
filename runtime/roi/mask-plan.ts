import type { Rect } from '../frame.js';
import { kernels } from '../native/kernels.js';
import { spanAt, type ActiveArea } from './active-area.js';

/**
 * Everything a frame must lose before a model or a monitor sees it — the privacy masks and the
 * black outside the active area's outline — as runs of pixels per frame size. Built once when
 * the ROI, the masks or the picture size change; applying it is a few fills per row, with no
 * per-pixel decision and no allocation.
 */
export class MaskPlan {
  /** Start and end pixel offsets (end exclusive), ascending and disjoint. */
  private readonly runs: Int32Array;

  constructor(
    readonly width: number,
    readonly height: number,
    regions: readonly Rect[],
    area: ActiveArea | null,
  ) {
    const runs: number[] = [];
    const row: [number, number][] = [];
    for (let y = 0; y < height; y++) {
      row.length = 0;
      if (area) {
        const span = area.shape === 'none' ? null : spanAt(area, y);
        if (!span) row.push([0, width]);
        else {
          row.push([0, clamp(span[0], width)]);
          row.push([clamp(span[1] + 1, width), width]);
        }
      }
      for (const r of regions) {
        const y0 = Math.max(0, Math.floor(r.y));
        const y1 = Math.min(height, Math.ceil(r.y + r.height));
        if (y >= y0 && y < y1) row.push([clamp(Math.floor(r.x), width), clamp(Math.ceil(r.x + r.width), width)]);
      }
      row.sort((a, b) => a[0] - b[0]);
      let cur: [number, number] | null = null;
      for (const [a, b] of row) {
        if (b <= a) continue;
        if (cur && a <= cur[1]) cur[1] = Math.max(cur[1], b);
        else {
          if (cur) runs.push(y * width + cur[0], y * width + cur[1]);
          cur = [a, b];
        }
      }
      if (cur) runs.push(y * width + cur[0], y * width + cur[1]);
    }
    this.runs = Int32Array.from(runs);
  }

  /** Pixels the plan blacks out. */
  get pixels(): number {
    let n = 0;
    for (let i = 0; i < this.runs.length; i += 2) n += this.runs[i + 1] - this.runs[i];
    return n;
  }

  /**
   * Writes opaque black over every planned pixel of an RGBA frame of the plan's size: in one
   * compiled call when the loops are built (native/kernels.ts) unless `javascript` asks for the fills here.
   */
  apply(data: Uint8Array, javascript = false): void {
    if (data.length !== this.width * this.height * 4) throw new RangeError(`mask plan is for ${this.width}×${this.height}, the frame has ${data.length} bytes`);
    if (kernels && !javascript) return kernels.fillRuns(data, this.runs);
    if (data.byteOffset % 4 !== 0) {
      for (let i = 0; i < this.runs.length; i += 2) {
        data.fill(0, this.runs[i] * 4, this.runs[i + 1] * 4);
        for (let p = this.runs[i] * 4 + 3; p < this.runs[i + 1] * 4; p += 4) data[p] = 255;
      }
      return;
    }
    const px = new Uint32Array(data.buffer, data.byteOffset, data.length >> 2);
    for (let i = 0; i < this.runs.length; i += 2) px.fill(BLACK_WORD, this.runs[i], this.runs[i + 1]);
  }
}

// Opaque black is the bytes 0, 0, 0, 255, read as one word in this machine's byte order.
const BLACK_WORD = new Uint32Array(new Uint8Array([0, 0, 0, 255]).buffer)[0];

function clamp(v: number, max: number): number {
  return Math.max(0, Math.min(max, v));
}
