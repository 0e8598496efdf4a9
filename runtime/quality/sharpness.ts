import type { AnalysisGrid } from './analysis-grid.js';
import { kernels } from '../native/kernels.js';
import { KIND } from './regions.js';

/** Cells pooled per side before measuring sharpness: the measuring scale is near 1/128 of the ROI. */
const POOL = 2;

/**
 * RMS Laplacian over RMS gradient of the luma grid pooled POOL × POOL, over pooled cells with a
 * full cross of picture around them. Pooling puts the scale above pixel noise and JPEG blocks,
 * which would otherwise dominate on small frames. A ratio, not the Laplacian alone: a gain in
 * brightness or contrast cancels out (what is left, up to ~25 %, comes from 8-bit rounding and
 * from which cells fall into shadow), while blur, which removes fine detail first, lowers it 3–5 fold.
 * Sharp real frames 1.1–3.6, heavily blurred 0.3–0.6. The compiled loop (native/kernels.ts)
 * runs when it is built, unless `javascript` asks for this one; both give the same number.
 */
export function sharpnessOf(grid: AnalysisGrid, javascript = false): number {
  const { gw, gh, luma: mean, kind } = grid;
  if (kernels && !javascript) return kernels.gridSharpness(mean, kind, Float64Array.of(gw, gh, KIND.focus));
  // Cells without focus information (shadow, clipped highlights, glints: see cellKind) leave
  // their pooled cell out.
  const pw = Math.floor(gw / POOL),
    ph = Math.floor(gh / POOL);
  // Pooled means, NaN where the pooled cell is left out: NaN carries through the Laplacian, so
  // one test per cross replaces five.
  const pm = pooled(pw * ph);
  for (let py = 0; py < ph; py++) {
    for (let px = 0, c = py * POOL * gw, p = py * pw; px < pw; px++, c += POOL, p++) {
      // The POOL × POOL (2 × 2) cells written out, summed in the order the loops over dy, dx did.
      const all = KIND.focus & kind[c] & kind[c + 1] & kind[c + gw] & kind[c + gw + 1];
      pm[p] = all ? (mean[c] + mean[c + 1] + mean[c + gw] + mean[c + gw + 1]) / (POOL * POOL) : NaN;
    }
  }
  let lapSq = 0,
    gradSq = 0;
  for (let y = 1; y < ph - 1; y++) {
    for (let x = 1, c = y * pw + 1; x < pw - 1; x++, c++) {
      const l = pm[c - 1],
        r = pm[c + 1],
        u = pm[c - pw],
        d = pm[c + pw];
      const lap = l + r + u + d - 4 * pm[c];
      if (lap !== lap) continue; // NaN: some cell of the cross is left out
      const gx = (r - l) / 2,
        gy = (d - u) / 2;
      lapSq += lap * lap;
      gradSq += gx * gx + gy * gy;
    }
  }
  return gradSq > 0 ? Math.sqrt(lapSq / gradSq) : 0;
}

/** The pooled grid, reused from frame to frame (sized for the largest grid seen). */
let scratch = new Float32Array(0);

function pooled(n: number): Float32Array {
  if (scratch.length < n) scratch = new Float32Array(n);
  return scratch;
}
