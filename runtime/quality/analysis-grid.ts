// quality/: the quality gate: scores each frame (dark, overexposed, blurred, bubbles, bleeding); a gated
// frame is not classified, and the reason is published.
import type { Frame, Rect } from '../frame.js';
import { spanAt, type ActiveArea } from '../roi/active-area.js';
import { cellKind } from './regions.js';

/**
 * The quality gate's view of a frame: about GRID_CELLS cells across the ROI's longer side, each
 * the mean colour of a few sampled pixels plus the whitest of them. Everything the gate measures
 * is counted in these cells, so a measure means the same at 384×288, at 960×540 and at 1080p.
 */

/** Cells across the ROI's longer side. */
export const GRID_CELLS = 256;

export interface AnalysisGrid {
  /** Cells across and down. */
  readonly gw: number;
  readonly gh: number;
  /** Frame pixels per cell side. */
  readonly cellPx: number;
  /** The ROI rectangle the grid covers (clipped to the frame). */
  readonly rect: Rect;
  /** 1 where the cell holds picture (inside the active area's outline). */
  readonly valid: Uint8Array;
  /** Mean luma (Rec. 601, 0–255) of each cell. */
  readonly luma: Float32Array;
  /** What each cell shows (regions.ts KIND bits), from its mean colour and its whitest pixel. */
  readonly kind: Uint8Array;
  /** Cells with picture. */
  readonly cells: number;
  /** Mean of the picture cells' lumas. */
  readonly meanLuma: number;
}

/** Clips a rectangle to the frame, in whole pixels. */
export function clipRect(r: Rect, W: number, H: number): Rect {
  const x = Math.max(0, Math.floor(r.x)),
    y = Math.max(0, Math.floor(r.y));
  return { x, y, width: Math.max(0, Math.min(W, Math.floor(r.x + r.width)) - x), height: Math.max(0, Math.min(H, Math.floor(r.y + r.height)) - y) };
}

/** Buffers reused from frame to frame: a grid is read before the next one is sampled. */
let scratch: { n: number; sums: Int32Array; white: Uint8Array; grid: Pick<AnalysisGrid, 'valid' | 'luma' | 'kind'> } | null = null;

function buffers(n: number): NonNullable<typeof scratch> {
  if (scratch?.n !== n) {
    scratch = {
      n,
      sums: new Int32Array(4 * n),
      white: new Uint8Array(n),
      grid: { valid: new Uint8Array(n), luma: new Float32Array(n), kind: new Uint8Array(n) },
    };
  } else {
    scratch.sums.fill(0);
    scratch.white.fill(0);
  }
  return scratch;
}

/**
 * Samples the frame inside rect (and inside area's outline when given) onto the analysis grid;
 * null when the ROI is too small to judge (under 8 px a side, or under 16 cells of picture).
 * The grid's arrays are reused by the next call: read it before sampling another frame.
 */
export function sampleGrid(frame: Frame, roi: Rect, area: ActiveArea | null): AnalysisGrid | null {
  const { width: W, data } = frame;
  const rect = clipRect(roi, frame.width, frame.height);
  if (rect.width < 8 || rect.height < 8) return null;
  const cs = Math.max(1, Math.max(rect.width, rect.height) / GRID_CELLS);
  const gw = Math.max(1, Math.floor(rect.width / cs)),
    gh = Math.max(1, Math.floor(rect.height / cs));
  // About one sample per cell and axis once cells are two pixels or more (a 960×540 analysis
  // picture reads about 58 k pixels); every pixel of smaller cells, as on small frames.
  const sub = Math.max(1, Math.floor(cs));
  const cellOfX = new Int32Array(rect.width);
  for (let x = 0; x < rect.width; x++) cellOfX[x] = Math.min(gw - 1, Math.floor(x / cs));
  const n = gw * gh;
  // Integer sums of R, G, B and the count, side by side per cell: exact, and one index per sample.
  const { sums, white, grid } = buffers(n);
  const yEnd = rect.y + Math.min(rect.height, Math.floor(gh * cs));
  for (let y = rect.y; y < yEnd; y += sub) {
    const row = Math.min(gh - 1, Math.floor((y - rect.y) / cs)) * gw;
    let xa = rect.x,
      xb = rect.x + rect.width - 1;
    if (area) {
      // Only the picture: the outline leaves out a circle's or octagon's black corners.
      const span = spanAt(area, y);
      if (!span) continue;
      xa = Math.max(xa, span[0]);
      xb = Math.min(xb, span[1]);
    }
    for (let x = xa, i = (y * W + xa) * 4; x <= xb; x += sub, i += 4 * sub) {
      const r = data[i],
        g = data[i + 1],
        b = data[i + 2];
      const c = row + cellOfX[x - rect.x],
        s = 4 * c;
      sums[s] += r;
      sums[s + 1] += g;
      sums[s + 2] += b;
      sums[s + 3]++;
      // Whiteness: the smallest channel; only a near-white pixel is high in all three.
      const mn = r < g ? (r < b ? r : b) : g < b ? g : b;
      if (mn > white[c]) white[c] = mn;
    }
  }
  const { valid, luma, kind } = grid;
  let cells = 0,
    lumaSum = 0;
  for (let c = 0; c < n; c++) {
    const k = sums[4 * c + 3];
    if (k === 0) {
      valid[c] = 0;
      luma[c] = 0;
      kind[c] = 0;
      continue;
    }
    // Means at single precision: the limits were set on these values. (A product by the exact
    // reciprocal rounds to the same single as the quotient: sums are integers, counts small.)
    const inv = 1 / k;
    const r = Math.fround(sums[4 * c] * inv),
      g = Math.fround(sums[4 * c + 1] * inv),
      b = Math.fround(sums[4 * c + 2] * inv);
    const l = Math.fround(0.299 * r + 0.587 * g + 0.114 * b);
    luma[c] = l;
    lumaSum += l;
    kind[c] = cellKind(l, r, g, b, white[c]);
    valid[c] = 1;
    cells++;
  }
  if (cells < 16) return null;
  return { gw, gh, cellPx: cs, rect, ...grid, cells, meanLuma: lumaSum / cells };
}
