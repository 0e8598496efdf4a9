// quality/: the quality gate: scores each frame (dark, overexposed, blurred, bubbles, bleeding); a gated
// frame is not classified, and the reason is published.
import type { Frame, Rect } from '../frame.js';
import { spanAt, type ActiveArea } from '../roi/active-area.js';
import { kernels } from '../native/kernels.js';
import { CELL_LIMITS, cellKind, FOCUS_RULE, KIND } from './regions.js';

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

/** Whether typed arrays are little-endian, so a Uint32Array over RGBA bytes reads R in its low byte. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Buffers reused from frame to frame: a grid is read before the next one is sampled. Samples are
 * summed one row of cells at a time (acc: R, G, B and count side by side per cell; white: the
 * whitest sample) and each row is turned into cells as soon as sampling leaves it: the sums stay
 * in the cache and are cleared as they are read.
 */
let scratch: {
  n: number;
  gw: number;
  acc: Int32Array;
  white: Uint8Array;
  /** Per ROI column: 4 × the index of its cell in the row (an index into acc). */
  accOfX: Int32Array;
  /** The column cut accOfX was made for. */
  cs: number;
  width: number;
  grid: Pick<AnalysisGrid, 'valid' | 'luma' | 'kind'>;
} | null = null;

function buffers(n: number, gw: number): NonNullable<typeof scratch> {
  if (scratch?.n !== n || scratch.gw !== gw) {
    scratch = {
      n,
      gw,
      acc: new Int32Array(4 * gw),
      white: new Uint8Array(gw),
      accOfX: new Int32Array(0),
      cs: 0,
      width: 0,
      grid: { valid: new Uint8Array(n), luma: new Float32Array(n), kind: new Uint8Array(n) },
    };
  }
  return scratch;
}

/** Where a call's scalar results land: picture cells and the sum of their lumas. */
const sums = new Float64Array(2);
/** The compiled sampler's parameters (grid-cells.c): the geometry per call, then the limits and kind bits. */
const params = (() => {
  const c = CELL_LIMITS,
    f = FOCUS_RULE;
  const limits = [c.darkLuma, c.clippedLuma, c.washedOut, c.whiteLevel, c.bloodMinRed, c.bloodMaxGreenRatio, c.bloodMaxBlueRatio];
  const kinds = [KIND.dark, KIND.clipped, KIND.blood, KIND.lit, KIND.focus];
  return Float64Array.from([...new Array<number>(9).fill(0), ...limits, f.slope, f.offset, f.brightLitLuma, ...kinds]);
})();

/**
 * Samples the frame inside rect (and inside area's outline when given) onto the analysis grid;
 * null when the ROI is too small to judge (under 8 px a side, or under 16 cells of picture).
 * The grid's arrays are reused by the next call: read it before sampling another frame. The
 * compiled sampler (native/kernels.ts) runs when it is built, unless `javascript` asks for this
 * file's loop; both give the same grid.
 */
export function sampleGrid(frame: Frame, roi: Rect, area: ActiveArea | null, javascript = false): AnalysisGrid | null {
  const rect = clipRect(roi, frame.width, frame.height);
  if (rect.width < 8 || rect.height < 8) return null;
  const cs = Math.max(1, Math.max(rect.width, rect.height) / GRID_CELLS);
  const gw = Math.max(1, Math.floor(rect.width / cs)),
    gh = Math.max(1, Math.floor(rect.height / cs));
  const buf = buffers(gw * gh, gw);
  const { valid, luma, kind } = buf.grid;
  if (kernels && !javascript) {
    params.set([frame.width, frame.height, rect.x, rect.y, rect.width, rect.height, cs, gw, gh]);
    kernels.gridSample(frame.data, params, area ? spansOf(area, rect) : NO_SPANS, valid, luma, kind, sums);
  } else {
    sampleCells(frame, rect, cs, gw, gh, area, buf);
  }
  const cells = sums[0];
  if (cells < 16) return null;
  return { gw, gh, cellPx: cs, rect, ...buf.grid, cells, meanLuma: sums[1] / cells };
}

/** No outline: the compiled sampler reads the whole rect. */
const NO_SPANS = new Int32Array(0);

/** The picture's first and last column on each row of rect (first > last: none), for the compiled sampler; kept while the area holds. */
let spanCache: { area: ActiveArea; y: number; height: number; spans: Int32Array } | null = null;

function spansOf(area: ActiveArea, rect: Rect): Int32Array {
  if (spanCache?.area === area && spanCache.y === rect.y && spanCache.height === rect.height) return spanCache.spans;
  const spans = new Int32Array(2 * rect.height);
  for (let i = 0; i < rect.height; i++) {
    const span = spanAt(area, rect.y + i);
    spans[2 * i] = span ? span[0] : 1;
    spans[2 * i + 1] = span ? span[1] : 0;
  }
  spanCache = { area, y: rect.y, height: rect.height, spans };
  return spans;
}

/** The sampling pass in JavaScript: the grid's cells into buf.grid, the scalar results into `sums`. */
function sampleCells(frame: Frame, rect: Rect, cs: number, gw: number, gh: number, area: ActiveArea | null, buf: NonNullable<typeof scratch>): void {
  const { width: W, data } = frame;
  // About one sample per cell and axis once cells are two pixels or more (a 960×540 analysis
  // picture reads about 58 k pixels); every pixel of smaller cells, as on small frames.
  const sub = Math.max(1, Math.floor(cs));
  // Integer sums of R, G, B and the count, side by side per cell: exact, and one index per sample.
  const { acc, white, grid } = buf;
  if (buf.cs !== cs || buf.width !== rect.width) {
    // The column → cell map depends on the ROI's width and cell size only: kept while they hold.
    if (buf.accOfX.length < rect.width) buf.accOfX = new Int32Array(rect.width);
    for (let x = 0; x < rect.width; x++) buf.accOfX[x] = 4 * Math.min(gw - 1, Math.floor(x / cs));
    buf.cs = cs;
    buf.width = rect.width;
  }
  const accOfX = buf.accOfX;
  const { valid, luma, kind } = grid;
  let cells = 0,
    lumaSum = 0;
  // Each pixel read once as a 32-bit word where the bytes are aligned for it (always, for a
  // frame of its own buffer); byte by byte otherwise.
  const words = LITTLE_ENDIAN && data.byteOffset % 4 === 0 ? new Uint32Array(data.buffer, data.byteOffset, data.length >> 2) : null;
  const x0 = rect.x;
  const yEnd = rect.y + Math.min(rect.height, Math.floor(gh * cs));
  let y = rect.y;
  for (let cy = 0; cy < gh; cy++) {
    // The sampled rows of this row of cells (rows map to cells in order).
    for (; y < yEnd && Math.min(gh - 1, Math.floor((y - rect.y) / cs)) === cy; y += sub) {
      let xa = rect.x,
        xb = rect.x + rect.width - 1;
      if (area) {
        // Only the picture: the outline leaves out a circle's or octagon's black corners.
        const span = spanAt(area, y);
        if (!span) continue;
        xa = Math.max(xa, span[0]);
        xb = Math.min(xb, span[1]);
      }
      if (words) {
        for (let x = xa, p = y * W + xa; x <= xb; x += sub, p += sub) {
          const v = words[p];
          const r = v & 255,
            g = (v >>> 8) & 255,
            b = (v >>> 16) & 255;
          const s = accOfX[x - x0];
          acc[s] += r;
          acc[s + 1] += g;
          acc[s + 2] += b;
          acc[s + 3]++;
          // Whiteness: the smallest channel; only a near-white pixel is high in all three. Taken
          // without branches (G against B is a coin toss on mucosa): t & (t >> 31) is min(0, t).
          const t = r - g,
            rg = g + (t & (t >> 31)),
            u = rg - b,
            mn = b + (u & (u >> 31));
          const w = white[s >> 2],
            d = mn - w;
          white[s >> 2] = w + (d & ~(d >> 31));
        }
      } else {
        for (let x = xa, i = (y * W + xa) * 4; x <= xb; x += sub, i += 4 * sub) {
          const r = data[i],
            g = data[i + 1],
            b = data[i + 2];
          const s = accOfX[x - x0];
          acc[s] += r;
          acc[s + 1] += g;
          acc[s + 2] += b;
          acc[s + 3]++;
          const mn = r < g ? (r < b ? r : b) : g < b ? g : b;
          if (mn > white[s >> 2]) white[s >> 2] = mn;
        }
      }
    }
    // The row of cells is complete: its cells, in cell order; the sums are cleared as read.
    for (let x = 0, c = cy * gw, s = 0; x < gw; x++, c++, s += 4) {
      const k = acc[s + 3];
      if (k === 0) {
        valid[c] = 0;
        luma[c] = 0;
        kind[c] = 0;
        continue;
      }
      // Means at single precision: the limits were set on these values. (A product by the exact
      // reciprocal rounds to the same single as the quotient: sums are integers, counts small.)
      // One sample (most cells at 960×540): the mean is the sample itself, exactly.
      let r = acc[s],
        g = acc[s + 1],
        b = acc[s + 2];
      if (k !== 1) {
        const inv = 1 / k;
        r = Math.fround(r * inv);
        g = Math.fround(g * inv);
        b = Math.fround(b * inv);
      }
      const l = Math.fround(0.299 * r + 0.587 * g + 0.114 * b);
      luma[c] = l;
      lumaSum += l;
      kind[c] = cellKind(l, r, g, b, white[x]);
      valid[c] = 1;
      cells++;
      acc[s] = 0;
      acc[s + 1] = 0;
      acc[s + 2] = 0;
      acc[s + 3] = 0;
      white[x] = 0;
    }
  }
  sums[0] = cells;
  sums[1] = lumaSum;
}
