import type { Frame, Rect } from '../frame.js';
import { spanAt, type ActiveArea } from '../roi/active-area.js';

/**
 * The frame quality gate: scores a frame inside its ROI and says whether it is fit to classify.
 * Everything is measured on an analysis grid of about 256 cells across the ROI's longer side, each
 * cell the mean luma of a few sampled pixels, so that a score means the same at 384×288 and at
 * 1920×1080, and 1080p costs 2–3 ms. docs/conditioning.md says how the thresholds were chosen.
 */

/** Scores of one frame; fractions are 0–1 of the picture's grid cells inside the ROI, lumas 0–255 (Rec. 601). */
export interface QualityScores {
  /** Mean luma of the picture. */
  readonly meanLuma: number;
  /** Share of cells darker than DARK_CELL_LUMA (35): unlit or shadowed picture. */
  readonly darkFraction: number;
  /** Share of cells clipped (mean luma ≥ CLIPPED_LUMA, 230) inside a patch thicker than 8 % of the ROI: blown-out wall. */
  readonly overexposedFraction: number;
  /** RMS Laplacian over RMS gradient of the luma grid (a ratio; sharp frames 1.5–3.5, heavily blurred 0.3–0.6). */
  readonly sharpness: number;
  /** Share of cells that are near-white but not part of a large clipped patch: specular glints, bubbles, froth. */
  readonly specularFraction: number;
  /**
   * Share of coarse cells (about 50 across the ROI) holding any near-white pixel: highlights
   * spread over the whole view, as bubble rims and froth draw them, rather than a few glints.
   */
  readonly speckleFraction: number;
}

/** Reasons a frame is gated; published as they are. */
export type QualityReason = 'no-picture' | 'dark' | 'overexposed' | 'blurred' | 'specular' | 'bubbles';

/** Limits of the gate; a frame is gated when any limit is crossed. Defaults in DEFAULT_QUALITY_THRESHOLDS. */
export interface QualityThresholds {
  /** Least mean luma, 0–255; default 40. */
  readonly minMeanLuma: number;
  /** Most share of dark cells, 0–1; default 0.55. */
  readonly maxDarkFraction: number;
  /** Most share of blown-out cells, 0–1; default 0.2. */
  readonly maxOverexposedFraction: number;
  /** Least sharpness ratio; default 0.8. */
  readonly minSharpness: number;
  /** Most share of glint and bubble cells, 0–1; default 0.12. */
  readonly maxSpecularFraction: number;
  /** Most share of coarse cells with a near-white pixel, 0–1; default 0.22. */
  readonly maxSpeckleFraction: number;
}

/**
 * Default thresholds, set from the 60 real frames in shared/data (all gradable) and from copies
 * of them made dark, blown out, blurred and bubble-covered; see docs/conditioning.md.
 */
export const DEFAULT_QUALITY_THRESHOLDS: Readonly<QualityThresholds> = Object.freeze({
  /**
   * Mean luma below 40/255: the picture is nearly black on the monitor — lamp off, or the tip far
   * down an empty lumen. Real frames here: 64–155.
   */
  minMeanLuma: 40,
  /**
   * More than 55 % of the picture in shadow (cell luma < 35): less than half of it can be seen.
   * Real frames here: at most 21 %.
   */
  maxDarkFraction: 0.55,
  /**
   * More than 20 % of the picture a solid white patch: the tip is pressed against the wall or
   * the light is too strong, and the mucosa under it is gone. Real frames here: at most 7 %.
   */
  maxOverexposedFraction: 0.2,
  /**
   * Sharpness below 0.8: vessels and pit pattern are smeared, as by motion or focus blur of about
   * 1 % of the picture's width or more. Real frames here: 1.5 or more; blurred by 1.2 %: 0.3–0.6.
   */
  minSharpness: 0.8,
  /**
   * More than 12 % of the picture dotted with small white blobs: bubbles or froth over the view.
   * Real frames here, wet mucosa with many glints included: at most 6 %.
   */
  maxSpecularFraction: 0.12,
  /**
   * More than 22 % of the view (in cells about 1/50 of it wide) holding a white highlight: bubbles
   * or froth spread over the picture. Real frames here: at most 15 % (wet mucosa with glints);
   * the generator's bubble frames: 28–32 %. Ring-shaped bubble rims hardly move the specular
   * share above, which counts mostly-white cells; this counts where highlights are.
   */
  maxSpeckleFraction: 0.22,
});

/** Result of evaluateQuality. */
export interface QualityResult {
  readonly scores: QualityScores;
  readonly gated: boolean;
  /** Why the frame is gated, in the order dark, overexposed, blurred, specular; empty when it passes. */
  readonly reasons: QualityReason[];
}

/** Luma (0–255) below which a grid cell counts as shadow. */
export const DARK_CELL_LUMA = 35;
/** Cell mean luma (0–255) at or above which a cell counts as clipped. */
export const CLIPPED_LUMA = 230;
const GRID_CELLS = 256;
/** Analysis cells per coarse cell (per side) for the speckle share: about 50 across. */
const SPECKLE_GROUP = 5;
/** Smallest channel (0–255) of a pixel that counts as a white highlight. */
const WHITE_LEVEL = 200;
/** Least thickness of a clipped patch, as a share of the ROI's longer side, to count as overexposure rather than glare. */
const LARGE_BLOB = 0.08;
/** Cells pooled per side before measuring sharpness. */
const SHARPNESS_POOL = 2;

/**
 * Scores a frame within roi (a Rect, or an ActiveArea whose outline then excludes the black
 * corners) and gates it against thresholds (default DEFAULT_QUALITY_THRESHOLDS).
 */
export function evaluateQuality(
  frame: Frame, roi: Rect | ActiveArea, thresholds: Partial<QualityThresholds> = {},
): QualityResult {
  const th = { ...DEFAULT_QUALITY_THRESHOLDS, ...thresholds };
  const area = 'rect' in roi ? roi : null;
  const rect = clipRect('rect' in roi ? roi.rect : roi, frame.width, frame.height);
  const scores = scoreFrame(frame, rect, area);
  const reasons: QualityReason[] = [];
  if (scores === null) return { scores: EMPTY_SCORES, gated: true, reasons: ['no-picture'] };
  if (scores.meanLuma < th.minMeanLuma || scores.darkFraction > th.maxDarkFraction) reasons.push('dark');
  if (scores.overexposedFraction > th.maxOverexposedFraction) reasons.push('overexposed');
  if (scores.sharpness < th.minSharpness) reasons.push('blurred');
  if (scores.specularFraction > th.maxSpecularFraction) reasons.push('specular');
  if (scores.speckleFraction > th.maxSpeckleFraction) reasons.push('bubbles');
  return { scores, gated: reasons.length > 0, reasons };
}

const EMPTY_SCORES: QualityScores = Object.freeze({
  meanLuma: 0, darkFraction: 1, overexposedFraction: 0, sharpness: 0, specularFraction: 0, speckleFraction: 0,
});

function clipRect(r: Rect, W: number, H: number): Rect {
  const x = Math.max(0, Math.floor(r.x)), y = Math.max(0, Math.floor(r.y));
  return { x, y, width: Math.max(0, Math.min(W, Math.floor(r.x + r.width)) - x), height: Math.max(0, Math.min(H, Math.floor(r.y + r.height)) - y) };
}

function scoreFrame(frame: Frame, rect: Rect, area: ActiveArea | null): QualityScores | null {
  const { width: W, data } = frame;
  if (rect.width < 8 || rect.height < 8) return null;
  const cs = Math.max(1, Math.max(rect.width, rect.height) / GRID_CELLS);
  const gw = Math.max(1, Math.floor(rect.width / cs)), gh = Math.max(1, Math.floor(rect.height / cs));
  // About two samples per cell and axis are enough for a mean: 1080p reads about 300 k pixels.
  const sub = Math.max(1, Math.floor(cs / 2));
  const cellOfX = new Int32Array(rect.width);
  for (let x = 0; x < rect.width; x++) cellOfX[x] = Math.min(gw - 1, Math.floor(x / cs));
  const sum = new Float32Array(gw * gh);
  const count = new Uint16Array(gw * gh);
  const white = new Uint8Array(gw * gh);
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
      sum[c] += (77 * r + 150 * g + 29 * b) >> 8;
      count[c]++;
      // Whiteness: the smallest channel; only a near-white pixel is high in all three.
      const mn = r < g ? (r < b ? r : b) : g < b ? g : b;
      if (mn > white[c]) white[c] = mn;
    }
  }
  const mean = new Float32Array(gw * gh);
  const valid = new Uint8Array(gw * gh);
  let nCells = 0, lumaSum = 0, dark = 0;
  for (let c = 0; c < mean.length; c++) {
    if (count[c] === 0) continue;
    const m = sum[c] / count[c];
    mean[c] = m;
    valid[c] = 1;
    nCells++;
    lumaSum += m;
    if (m < DARK_CELL_LUMA) dark++;
  }
  if (nCells < 16) return null;

  // Clipped area thicker than a large-blob side (it survives an opening) is overexposure; every
  // other bright cell — mostly white, or holding a near-white glint — is a glint or a bubble.
  const clippedMask = new Uint8Array(gw * gh);
  const bright = new Uint8Array(gw * gh);
  let nClipped = 0;
  for (let c = 0; c < bright.length; c++) {
    if (!valid[c]) continue;
    if (mean[c] >= CLIPPED_LUMA) { clippedMask[c] = 1; nClipped++; }
    if (mean[c] >= CLIPPED_LUMA || (white[c] >= 200 && mean[c] >= 150)) bright[c] = 1;
  }
  const rad = Math.max(1, Math.round((LARGE_BLOB * Math.max(gw, gh)) / 2));
  // Most frames have too few clipped cells to hold even one large patch: skip the opening then.
  const large = nClipped >= (2 * rad + 1) ** 2
    ? squareFilter(squareFilter(clippedMask, gw, gh, rad, true), gw, gh, rad, false)
    : new Uint8Array(gw * gh);
  let small = 0, largeClipped = 0;
  for (let c = 0; c < bright.length; c++) {
    if (large[c] && clippedMask[c]) largeClipped++;
    else if (bright[c]) small++;
  }

  return {
    meanLuma: lumaSum / nCells,
    darkFraction: dark / nCells,
    overexposedFraction: largeClipped / nCells,
    sharpness: sharpnessOf(mean, white, valid, bright, gw, gh),
    specularFraction: small / nCells,
    speckleFraction: speckleOf(white, valid, gw, gh),
  };
}

/**
 * RMS Laplacian over RMS gradient of the luma grid pooled SHARPNESS_POOL × SHARPNESS_POOL, over
 * pooled cells with a full cross of picture around them. Pooling puts the measuring scale near
 * 1/128 of the ROI, above pixel noise and JPEG blocks, which would otherwise dominate on small frames.
 */
function sharpnessOf(mean: Float32Array, white: Uint8Array, valid: Uint8Array, bright: Uint8Array, gw: number, gh: number): number {
  const k = SHARPNESS_POOL;
  const pw = Math.floor(gw / k), ph = Math.floor(gh / k);
  const pm = new Float32Array(pw * ph);
  const ok = new Uint8Array(pw * ph);
  for (let py = 0; py < ph; py++) {
    for (let px = 0; px < pw; px++) {
      let sum = 0, good = true;
      for (let dy = 0; dy < k && good; dy++) {
        for (let dx = 0; dx < k; dx++) {
          const c = (py * k + dy) * gw + px * k + dx;
          // Shadow and clipped highlights carry no focus information, and glints stay sharp in a
          // blurred frame: a pooled cell holding any of them is left out. A glint is told by a
          // pixel whose smallest channel beats the cell's mean luma — true at any exposure, so a
          // dimmed frame does not turn its glints into 'detail'.
          if (!valid[c] || bright[c] || mean[c] < DARK_CELL_LUMA || white[c] > 1.15 * mean[c] + 10) { good = false; break; }
          sum += mean[c];
        }
      }
      if (good) { pm[py * pw + px] = sum / (k * k); ok[py * pw + px] = 1; }
    }
  }
  let lapSq = 0, gradSq = 0;
  for (let y = 1; y < ph - 1; y++) {
    for (let x = 1; x < pw - 1; x++) {
      const c = y * pw + x;
      if (!ok[c] || !ok[c - 1] || !ok[c + 1] || !ok[c - pw] || !ok[c + pw]) continue;
      const lap = pm[c - 1] + pm[c + 1] + pm[c - pw] + pm[c + pw] - 4 * pm[c];
      const gx = (pm[c + 1] - pm[c - 1]) / 2, gy = (pm[c + pw] - pm[c - pw]) / 2;
      lapSq += lap * lap;
      gradSq += gx * gx + gy * gy;
    }
  }
  // The ratio, not the Laplacian alone: a gain in brightness or contrast cancels out (what is left,
  // up to ~25 %, comes from 8-bit rounding and from which cells fall into shadow), while blur,
  // which removes fine detail first, lowers it 3–5 fold.
  return gradSq > 0 ? Math.sqrt(lapSq / gradSq) : 0;
}

/**
 * Binary erosion (all = true) or dilation (all = false) by a (2·rad+1)² square, separable, with
 * running counts; cells beyond the grid count as unset.
 */
function squareFilter(m: Uint8Array, w: number, h: number, rad: number, all: boolean): Uint8Array {
  const tmp = new Uint8Array(m.length), out = new Uint8Array(m.length);
  const need = all ? 2 * rad + 1 : 1;
  for (let y = 0; y < h; y++) {
    let cnt = 0;
    for (let x = 0; x < Math.min(w, rad); x++) cnt += m[y * w + x];
    for (let x = 0; x < w; x++) {
      if (x + rad < w) cnt += m[y * w + x + rad];
      if (x - rad - 1 >= 0) cnt -= m[y * w + x - rad - 1];
      tmp[y * w + x] = cnt >= need ? 1 : 0;
    }
  }
  for (let x = 0; x < w; x++) {
    let cnt = 0;
    for (let y = 0; y < Math.min(h, rad); y++) cnt += tmp[y * w + x];
    for (let y = 0; y < h; y++) {
      if (y + rad < h) cnt += tmp[(y + rad) * w + x];
      if (y - rad - 1 >= 0) cnt -= tmp[(y - rad - 1) * w + x];
      out[y * w + x] = cnt >= need ? 1 : 0;
    }
  }
  return out;
}

/** Share of coarse cells (SPECKLE_GROUP² analysis cells) in the picture whose whitest pixel is white. */
function speckleOf(white: Uint8Array, valid: Uint8Array, gw: number, gh: number): number {
  const cw = Math.ceil(gw / SPECKLE_GROUP);
  const ch = Math.ceil(gh / SPECKLE_GROUP);
  const any = new Uint8Array(cw * ch);
  const hit = new Uint8Array(cw * ch);
  for (let y = 0; y < gh; y++) {
    for (let x = 0; x < gw; x++) {
      const c = y * gw + x;
      if (!valid[c]) continue;
      const k = Math.floor(y / SPECKLE_GROUP) * cw + Math.floor(x / SPECKLE_GROUP);
      any[k] = 1;
      if (white[c] >= WHITE_LEVEL) hit[k] = 1;
    }
  }
  let n = 0;
  let h = 0;
  for (let k = 0; k < any.length; k++) {
    n += any[k];
    h += hit[k];
  }
  return n ? h / n : 0;
}
