import type { AnalysisGrid } from './analysis-grid.js';
import { CELL_LIMITS } from './regions.js';

/** Cells pooled per side before measuring sharpness: the measuring scale is near 1/128 of the ROI. */
const POOL = 2;

/**
 * RMS Laplacian over RMS gradient of the luma grid pooled POOL × POOL, over pooled cells with a
 * full cross of picture around them. Pooling puts the scale above pixel noise and JPEG blocks,
 * which would otherwise dominate on small frames. A ratio, not the Laplacian alone: a gain in
 * brightness or contrast cancels out (what is left, up to ~25 %, comes from 8-bit rounding and
 * from which cells fall into shadow), while blur, which removes fine detail first, lowers it 3–5 fold.
 * Sharp real frames 1.1–3.6, heavily blurred 0.3–0.6.
 */
export function sharpnessOf(grid: AnalysisGrid): number {
  const { gw, gh, valid, luma: mean, white } = grid;
  const pw = Math.floor(gw / POOL), ph = Math.floor(gh / POOL);
  const pm = new Float32Array(pw * ph);
  const ok = new Uint8Array(pw * ph);
  for (let py = 0; py < ph; py++) {
    for (let px = 0; px < pw; px++) {
      let sum = 0, good = true;
      for (let dy = 0; dy < POOL && good; dy++) {
        for (let dx = 0; dx < POOL; dx++) {
          const c = (py * POOL + dy) * gw + px * POOL + dx;
          const m = mean[c];
          // Shadow and clipped highlights carry no focus information, and glints stay sharp in a
          // blurred frame: a pooled cell holding any of them is left out. A glint is told by a
          // pixel whose smallest channel beats the cell's mean luma — true at any exposure, so a
          // dimmed frame does not turn its glints into 'detail'.
          const bright = m >= CELL_LIMITS.clippedLuma || (white[c] >= CELL_LIMITS.whiteLevel && m >= 150);
          if (!valid[c] || bright || m < CELL_LIMITS.darkLuma || white[c] > 1.15 * m + 10) { good = false; break; }
          sum += m;
        }
      }
      if (good) { pm[py * pw + px] = sum / (POOL * POOL); ok[py * pw + px] = 1; }
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
  return gradSq > 0 ? Math.sqrt(lapSq / gradSq) : 0;
}
