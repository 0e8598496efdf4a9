import type { AnalysisGrid } from './analysis-grid.js';
import { KIND } from './regions.js';

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
  const { gw, gh, luma: mean, kind } = grid;
  // Cells without focus information (shadow, clipped highlights, glints: see cellKind) leave
  // their pooled cell out.
  const pw = Math.floor(gw / POOL),
    ph = Math.floor(gh / POOL);
  const pm = new Float32Array(pw * ph);
  const ok = new Uint8Array(pw * ph);
  for (let py = 0; py < ph; py++) {
    for (let px = 0; px < pw; px++) {
      let sum = 0,
        all = KIND.focus;
      for (let dy = 0; dy < POOL; dy++) {
        const c = (py * POOL + dy) * gw + px * POOL;
        for (let dx = 0; dx < POOL; dx++) {
          all &= kind[c + dx];
          sum += mean[c + dx];
        }
      }
      if (all) {
        pm[py * pw + px] = sum / (POOL * POOL);
        ok[py * pw + px] = 1;
      }
    }
  }
  let lapSq = 0,
    gradSq = 0;
  for (let y = 1; y < ph - 1; y++) {
    for (let x = 1; x < pw - 1; x++) {
      const c = y * pw + x;
      if (!ok[c] || !ok[c - 1] || !ok[c + 1] || !ok[c - pw] || !ok[c + pw]) continue;
      const lap = pm[c - 1] + pm[c + 1] + pm[c - pw] + pm[c + pw] - 4 * pm[c];
      const gx = (pm[c + 1] - pm[c - 1]) / 2,
        gy = (pm[c + pw] - pm[c - pw]) / 2;
      lapSq += lap * lap;
      gradSq += gx * gx + gy * gy;
    }
  }
  return gradSq > 0 ? Math.sqrt(lapSq / gradSq) : 0;
}
