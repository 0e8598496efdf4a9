import type { Frame, Rect } from '../frame.js';
import { spanAt, type ActiveArea } from '../roi/active-area.js';

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
  /** Mean luma (Rec. 601, 0–255), and mean R, G, B (0–255) of each cell. */
  readonly luma: Float32Array;
  readonly r: Float32Array;
  readonly g: Float32Array;
  readonly b: Float32Array;
  /** Whiteness of the cell's whitest pixel: max over its pixels of min(R, G, B). */
  readonly white: Uint8Array;
  /** Cells with picture. */
  readonly cells: number;
}

/** Clips a rectangle to the frame, in whole pixels. */
export function clipRect(r: Rect, W: number, H: number): Rect {
  const x = Math.max(0, Math.floor(r.x)), y = Math.max(0, Math.floor(r.y));
  return { x, y, width: Math.max(0, Math.min(W, Math.floor(r.x + r.width)) - x), height: Math.max(0, Math.min(H, Math.floor(r.y + r.height)) - y) };
}

/**
 * Samples the frame inside rect (and inside area's outline when given) onto the analysis grid;
 * null when the ROI is too small to judge (under 8 px a side, or under 16 cells of picture).
 */
export function sampleGrid(frame: Frame, roi: Rect, area: ActiveArea | null): AnalysisGrid | null {
  const { width: W, data } = frame;
  const rect = clipRect(roi, frame.width, frame.height);
  if (rect.width < 8 || rect.height < 8) return null;
  const cs = Math.max(1, Math.max(rect.width, rect.height) / GRID_CELLS);
  const gw = Math.max(1, Math.floor(rect.width / cs)), gh = Math.max(1, Math.floor(rect.height / cs));
  // About one sample per cell and axis once cells are two pixels or more (a 960×540 analysis
  // picture reads about 75 k pixels); every pixel of smaller cells, as on small frames.
  const sub = Math.max(1, Math.floor(cs));
  const cellOfX = new Int32Array(rect.width);
  for (let x = 0; x < rect.width; x++) cellOfX[x] = Math.min(gw - 1, Math.floor(x / cs));
  const n = gw * gh;
  const sr = new Float32Array(n), sg = new Float32Array(n), sb = new Float32Array(n);
  const count = new Uint16Array(n);
  const white = new Uint8Array(n);
  const yEnd = rect.y + Math.min(rect.height, Math.floor(gh * cs));
  for (let y = rect.y; y < yEnd; y += sub) {
    const row = Math.min(gh - 1, Math.floor((y - rect.y) / cs)) * gw;
    let xa = rect.x, xb = rect.x + rect.width - 1;
    if (area) {
      // Only the picture: the outline leaves out a circle's or octagon's black corners.
      const span = spanAt(area, y);
      if (!span) continue;
      xa = Math.max(xa, span[0]);
      xb = Math.min(xb, span[1]);
    }
    for (let x = xa, i = (y * W + xa) * 4; x <= xb; x += sub, i += 4 * sub) {
      const r = data[i], g = data[i + 1], b = data[i + 2];
      const c = row + cellOfX[x - rect.x];
      sr[c] += r;
      sg[c] += g;
      sb[c] += b;
      count[c]++;
      // Whiteness: the smallest channel; only a near-white pixel is high in all three.
      const mn = r < g ? (r < b ? r : b) : g < b ? g : b;
      if (mn > white[c]) white[c] = mn;
    }
  }
  const valid = new Uint8Array(n);
  const luma = new Float32Array(n);
  let cells = 0;
  for (let c = 0; c < n; c++) {
    if (count[c] === 0) continue;
    sr[c] /= count[c];
    sg[c] /= count[c];
    sb[c] /= count[c];
    luma[c] = 0.299 * sr[c] + 0.587 * sg[c] + 0.114 * sb[c];
    valid[c] = 1;
    cells++;
  }
  if (cells < 16) return null;
  return { gw, gh, cellPx: cs, rect, valid, luma, r: sr, g: sg, b: sb, white, cells };
}
