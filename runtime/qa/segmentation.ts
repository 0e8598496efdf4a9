import type { Rect } from '../frame.js';
import { maskOverRoi, type ProbMap } from '../overlay/mask-geometry.js';

/**
 * The segmenter's mask in full-frame pixels, through the mapping the overlay draws its contour
 * with (maskOverRoi). Outside the ROI: 0.
 */
export function maskToFrame(mask: ProbMap, roi: Rect, width: number, height: number, threshold: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const inside = maskOverRoi(mask, roi, threshold);
  const x0 = Math.max(0, roi.x);
  const y0 = Math.max(0, roi.y);
  const x1 = Math.min(width, roi.x + roi.width);
  const y1 = Math.min(height, roi.y + roi.height);
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) out[y * width + x] = inside[(y - roi.y) * roi.width + x - roi.x];
  }
  return out;
}

/** A full-frame mask at another size (nearest pixel centre), e.g. the analysis picture's. */
export function resampleMask(mask: Uint8Array, from: { width: number; height: number }, to: { width: number; height: number }): Uint8Array {
  const out = new Uint8Array(to.width * to.height);
  for (let y = 0; y < to.height; y++) {
    const sy = Math.min(from.height - 1, Math.floor(((y + 0.5) * from.height) / to.height));
    for (let x = 0; x < to.width; x++) {
      out[y * to.width + x] = mask[sy * from.width + Math.min(from.width - 1, Math.floor(((x + 0.5) * from.width) / to.width))];
    }
  }
  return out;
}

/** Pixel counts of a predicted mask against the truth over one frame. */
export interface PixelCounts {
  tp: number;
  fp: number;
  fn: number;
  /** All pixels of the frame. */
  total: number;
}

export function countPixels(pred: Uint8Array | null, truth: Uint8Array | null, total: number, truthPx: number): PixelCounts {
  if (!pred) return { tp: 0, fp: 0, fn: truthPx, total };
  let tp = 0;
  let fp = 0;
  for (let p = 0; p < total; p++) {
    if (!pred[p]) continue;
    if (truth && truth[p]) tp++;
    else fp++;
  }
  return { tp, fp, fn: truthPx - tp, total };
}

/** IoU, Dice and pixel accuracy of one frame; IoU and Dice are 1 when both masks are empty. */
export function overlapScores(c: PixelCounts): { iou: number; dice: number; pixelAccuracy: number } {
  const union = c.tp + c.fp + c.fn;
  return {
    iou: union === 0 ? 1 : c.tp / union,
    dice: union === 0 ? 1 : (2 * c.tp) / (2 * c.tp + c.fp + c.fn),
    pixelAccuracy: (c.total - c.fp - c.fn) / c.total,
  };
}
