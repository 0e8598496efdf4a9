// roi/: the ROI stage: the endoscope's active image area, and the privacy masks that keep burned-in
// text away from the models and from published frames.
import type { Frame, Rect } from '../frame.js';
import { dilate, erode, largestComponent } from './grid-mask.js';
import { classifyShape } from './outline-shape.js';

/**
 * Finds the endoscope's active image area: the lit picture inside the processor's black border.
 *
 * Algorithm (see docs/conditioning.md): sample the frame on a coarse grid, mark samples brighter
 * than the border's black level, open the mask (erode then dilate, 3×3) so thin glyph strokes of
 * burned-in text and speckle vanish, keep the largest 4-connected component, then refine its four
 * extreme edges at full resolution. The shape is read from the component's four corners.
 */

/** The outline family of an active area; 'none' when no picture was found. */
export type ActiveAreaShape = 'circle' | 'octagon' | 'rectangle' | 'rounded-rectangle' | 'irregular' | 'none';

/** Options of findActiveArea; every field is optional. */
export interface ActiveAreaOptions {
  /** Grid step in pixels; default ceil(max(width, height) / 320), i.e. about 320 samples across. */
  readonly step?: number;
  /** Fixed black level (max of R, G, B; 0–255); default: measured on the frame's outer ring. */
  readonly blackLevel?: number;
  /** Added to the measured border level to get the threshold; default 18. */
  readonly blackMargin?: number;
  /** Smallest share of the frame (0–1) accepted as a picture; default 0.05. */
  readonly minCoverage?: number;
  /**
   * Pixels added on each side of the found box (clamped to the frame); default 4. The picture's
   * edge is soft — a 2–3 px ramp from border to mucosa — and lesion annotations reach into it.
   */
  readonly margin?: number;
}

/**
 * Horizontal extent of the active area, one entry per grid row: row i is frame row
 * y0 + i × step, and spans [left[i], right[i]] in frame pixels (inclusive); -1 marks an empty row.
 */
export interface AreaOutline {
  readonly step: number;
  readonly y0: number;
  readonly left: Int32Array;
  readonly right: Int32Array;
}

/** Result of findActiveArea; all lengths in frame pixels. */
export interface ActiveArea {
  /** Bounding box of the active area plus the margin option; zero-sized when shape is 'none'. */
  readonly rect: Rect;
  readonly shape: ActiveAreaShape;
  /** Share of the whole frame covered by the active area, 0–1. */
  readonly coverage: number;
  /** Share of the box (without margin) covered by the area, 0–1: circle ≈ 0.79, octagon ≈ 0.9, rectangle ≈ 1. */
  readonly fill: number;
  /** Threshold used on max(R, G, B): samples above it count as picture. */
  readonly blackLevel: number;
  /** Per-row extent, for blacking out the border around a circle or octagon (privacy.ts). */
  readonly outline: AreaOutline;
}

const EMPTY_RECT: Rect = { x: 0, y: 0, width: 0, height: 0 };

/** Finds the active image area of an RGBA frame; costs about 1 ms at 1920×1080 (grid of ~320 columns). */
export function findActiveArea(frame: Frame, opts: ActiveAreaOptions = {}): ActiveArea {
  const { width: W, height: H, data } = frame;
  const step = Math.max(1, Math.floor(opts.step ?? Math.ceil(Math.max(W, H) / 320)));
  const off = step >> 1;
  const gw = Math.max(1, Math.floor((W - off - 1) / step) + 1);
  const gh = Math.max(1, Math.floor((H - off - 1) / step) + 1);

  // Max of R, G, B rather than luma: a dark-red mucosa and a blue OSD bar are both picture.
  const grid = new Uint8Array(gw * gh);
  for (let gy = 0; gy < gh; gy++) {
    const row = (gy * step + off) * W;
    for (let gx = 0; gx < gw; gx++) {
      const i = (row + gx * step + off) * 4;
      const r = data[i],
        g = data[i + 1],
        b = data[i + 2];
      grid[gy * gw + gx] = r > g ? (r > b ? r : b) : g > b ? g : b;
    }
  }

  const blackLevel = opts.blackLevel ?? measureBlackLevel(grid, gw, gh, opts.blackMargin ?? 18);
  const mask = new Uint8Array(gw * gh);
  for (let i = 0; i < mask.length; i++) mask[i] = grid[i] > blackLevel ? 1 : 0;
  const opened = dilate(erode(mask, gw, gh), gw, gh);
  const comp = largestComponent(opened, gw, gh);

  const none = (): ActiveArea => ({
    rect: EMPTY_RECT,
    shape: 'none',
    coverage: 0,
    fill: 0,
    blackLevel,
    outline: { step, y0: off, left: new Int32Array(0), right: new Int32Array(0) },
  });
  if (comp.size === 0) return none();

  // Extent of the component in each grid row; holes (the thumbnail box, a dark lumen) do not matter.
  const left = new Int32Array(gh).fill(-1);
  const right = new Int32Array(gh).fill(-1);
  for (let gy = 0; gy < gh; gy++) {
    for (let gx = 0; gx < gw; gx++) {
      if (comp.labels[gy * gw + gx]) {
        if (left[gy] < 0) left[gy] = gx;
        right[gy] = gx;
      }
    }
  }
  let gTop = -1,
    gBottom = -1,
    gLeft = gw,
    gRight = -1,
    area = 0;
  for (let gy = 0; gy < gh; gy++) {
    if (left[gy] < 0) continue;
    if (gTop < 0) gTop = gy;
    gBottom = gy;
    if (left[gy] < gLeft) gLeft = left[gy];
    if (right[gy] > gRight) gRight = right[gy];
    area += right[gy] - left[gy] + 1;
  }
  const coverage = Math.min(1, (area * step * step) / (W * H));
  if (coverage < (opts.minCoverage ?? 0.05)) return none();

  const px = (g: number): number => g * step + off;
  const isOn = (x: number, y: number): boolean => {
    const i = (y * W + x) * 4;
    return data[i] > blackLevel || data[i + 1] > blackLevel || data[i + 2] > blackLevel;
  };
  const rowsAt = (pred: (gy: number) => boolean): number[] => {
    const out: number[] = [];
    for (let gy = gTop; gy <= gBottom; gy++) if (left[gy] >= 0 && pred(gy)) out.push(gy);
    return thin(out, 48);
  };
  const colsAt = (pred: (gx: number) => boolean): number[] => {
    const out: number[] = [];
    for (let gx = gLeft; gx <= gRight; gx++) if (pred(gx)) out.push(gx);
    return thin(out, 48);
  };

  // Refine each edge at full resolution, between the last dark sample and the first lit one,
  // along the grid lines where the component reaches that edge (±1 sample).
  const x0 = refineEdge(
    rowsAt((gy) => left[gy] <= gLeft + 1),
    (y, x) => isOn(x, y),
    px,
    step,
    H,
    Math.max(0, px(gLeft - 1) + 1),
    px(gLeft),
    +1,
  );
  const x1 = refineEdge(
    rowsAt((gy) => right[gy] >= gRight - 1),
    (y, x) => isOn(x, y),
    px,
    step,
    H,
    Math.min(W - 1, px(gRight + 1) - 1),
    px(gRight),
    -1,
  );
  const colTop = new Int32Array(gw).fill(-1);
  const colBottom = new Int32Array(gw).fill(-1);
  for (let gy = gTop; gy <= gBottom; gy++) {
    for (let gx = left[gy]; gx >= 0 && gx <= right[gy]; gx++) {
      if (!comp.labels[gy * gw + gx]) continue;
      if (colTop[gx] < 0) colTop[gx] = gy;
      colBottom[gx] = gy;
    }
  }
  const y0 = refineEdge(
    colsAt((gx) => colTop[gx] >= 0 && colTop[gx] <= gTop + 1),
    (x, y) => isOn(x, y),
    px,
    step,
    W,
    Math.max(0, px(gTop - 1) + 1),
    px(gTop),
    +1,
  );
  const y1 = refineEdge(
    colsAt((gx) => colBottom[gx] >= 0 && colBottom[gx] >= gBottom - 1),
    (x, y) => isOn(x, y),
    px,
    step,
    W,
    Math.min(H - 1, px(gBottom + 1) - 1),
    px(gBottom),
    -1,
  );
  const margin = Math.max(0, Math.round(opts.margin ?? 4));
  const rx0 = Math.max(0, x0 - margin),
    ry0 = Math.max(0, y0 - margin);
  const rx1 = Math.min(W - 1, x1 + margin),
    ry1 = Math.min(H - 1, y1 + margin);
  const rect: Rect = { x: rx0, y: ry0, width: rx1 - rx0 + 1, height: ry1 - ry0 + 1 };

  const outlineLeft = new Int32Array(gh).fill(-1);
  const outlineRight = new Int32Array(gh).fill(-1);
  for (let gy = 0; gy < gh; gy++) {
    if (left[gy] < 0) continue;
    // Half a step outwards from the outermost lit sample, clamped to the refined box.
    outlineLeft[gy] = Math.max(x0, px(left[gy]) - (step >> 1));
    outlineRight[gy] = Math.min(x1, px(right[gy]) + (step >> 1));
  }
  // Rows of the margin above the first and below the last lit row take that row's extent, so the
  // soft top and bottom edges stay inside as the sides do.
  for (let gy = gTop - 1; gy >= 0 && px(gy) >= ry0 - (step >> 1); gy--) {
    outlineLeft[gy] = outlineLeft[gTop];
    outlineRight[gy] = outlineRight[gTop];
  }
  for (let gy = gBottom + 1; gy < gh && px(gy) <= ry1 + (step >> 1); gy++) {
    outlineLeft[gy] = outlineLeft[gBottom];
    outlineRight[gy] = outlineRight[gBottom];
  }

  return {
    rect,
    shape: classifyShape(left, right, gTop, gBottom, gLeft, gRight),
    coverage,
    fill: Math.min(1, (area * step * step) / ((x1 - x0 + 1) * (y1 - y0 + 1))),
    blackLevel,
    outline: { step, y0: off, left: outlineLeft, right: outlineRight },
  };
}

/** The active area's extent on frame row y as [x0, x1] (inclusive), or null when the row is outside it. */
export function spanAt(area: ActiveArea, y: number): [number, number] | null {
  const { step, y0, left, right } = area.outline;
  const r = area.rect;
  if (y < r.y || y >= r.y + r.height || left.length === 0) return null;
  // Linear interpolation between the two nearest grid rows keeps diagonal and curved edges smooth.
  const t = Math.max(0, (y - y0) / step);
  const i = Math.min(left.length - 1, Math.floor(t));
  const j = Math.min(left.length - 1, i + 1);
  const f = t - Math.floor(t);
  if (left[i] < 0 && left[j] < 0) return null;
  const a = left[i] < 0 ? j : i,
    b = left[j] < 0 ? i : j;
  return [Math.round(left[a] * (1 - f) + left[b] * f), Math.round(right[a] * (1 - f) + right[b] * f)];
}

/** Border level: 10th percentile of the outer ring of the grid, plus a margin; clamped to 12–64. */
function measureBlackLevel(grid: Uint8Array, gw: number, gh: number, margin: number): number {
  const hist = new Uint32Array(256);
  let n = 0;
  const add = (i: number): void => {
    hist[grid[i]]++;
    n++;
  };
  for (let gx = 0; gx < gw; gx++) {
    add(gx);
    if (gh > 1) add((gh - 1) * gw + gx);
  }
  for (let gy = 1; gy < gh - 1; gy++) {
    add(gy * gw);
    if (gw > 1) add(gy * gw + gw - 1);
  }
  // The 10th percentile: a circle or octagon leaves most of the ring black; a full-frame picture
  // yields its darkest tenth, and the clamp keeps that from swallowing dim mucosa.
  let acc = 0,
    p10 = 0;
  for (let v = 0; v < 256; v++) {
    acc += hist[v];
    if (acc >= n * 0.1) {
      p10 = v;
      break;
    }
  }
  return Math.max(12, Math.min(64, p10 + margin));
}

/** At most n evenly spread items of xs. */
function thin(xs: number[], n: number): number[] {
  if (xs.length <= n) return xs;
  const out: number[] = [];
  for (let k = 0; k < n; k++) out.push(xs[Math.floor((k * xs.length) / n)]);
  return out;
}

/**
 * Scans, across each grid line in `lines` (±step/2 full-resolution lines around it), from `from`
 * towards `to` for the first lit pixel followed by a second lit one; returns the outermost found.
 * `on(line, pos)` tests one pixel; dir is +1 when scanning towards larger coordinates.
 */
function refineEdge(
  lines: number[],
  on: (line: number, pos: number) => boolean,
  px: (g: number) => number,
  step: number,
  lineLimit: number,
  from: number,
  to: number,
  dir: 1 | -1,
): number {
  let best = to;
  const half = step >> 1;
  for (const g of lines) {
    const c = px(g);
    for (let l = Math.max(0, c - half); l <= Math.min(lineLimit - 1, c + half); l++) {
      for (let p = from; dir > 0 ? p < best : p > best; p += dir) {
        // Two lit pixels in a row: one JPEG-ringing pixel in the border is not an edge.
        if (on(l, p) && on(l, p + dir)) {
          best = p;
          break;
        }
      }
    }
  }
  return best;
}
