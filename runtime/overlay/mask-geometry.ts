import type { Rect } from '../frame.js';

/** A probability map of size w × h (row-major), as the segmenter gives it. */
export interface ProbMap {
  width: number;
  height: number;
  data: Float32Array;
}

export interface Blob {
  /** Bounding box in map cells. */
  box: Rect;
  /** Cells in the component. */
  cells: number;
}

/** The largest 8-connected component of cells at or above `threshold`, or null. */
export function largestBlob(map: ProbMap, threshold: number): Blob | null {
  const { width: w, height: h, data } = map;
  const label = new Int32Array(w * h);
  const stack: number[] = [];
  let best: Blob | null = null;
  let next = 1;
  for (let start = 0; start < w * h; start++) {
    if (data[start] < threshold || label[start]) continue;
    let minX = w;
    let minY = h;
    let maxX = -1;
    let maxY = -1;
    let cells = 0;
    label[start] = next;
    stack.push(start);
    while (stack.length) {
      const p = stack.pop()!;
      const x = p % w;
      const y = (p - x) / w;
      cells++;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          const ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
          const q = ny * w + nx;
          if (!label[q] && data[q] >= threshold) {
            label[q] = next;
            stack.push(q);
          }
        }
      }
    }
    next++;
    if (!best || cells > best.cells) best = { box: { x: minX, y: minY, width: maxX - minX + 1, height: maxY - minY + 1 }, cells };
  }
  return best;
}

/** Maps a box in map cells to frame pixels through the ROI the map was computed on. */
export function mapBoxToFrame(box: Rect, map: { width: number; height: number }, roi: Rect): Rect {
  const sx = roi.width / map.width;
  const sy = roi.height / map.height;
  const x = Math.round(roi.x + box.x * sx);
  const y = Math.round(roi.y + box.y * sy);
  return { x, y, width: Math.round(roi.x + (box.x + box.width) * sx) - x, height: Math.round(roi.y + (box.y + box.height) * sy) - y };
}

/**
 * The map over the ROI it was computed on, thresholded: 1 where the bilinear sample at a ROI
 * pixel's centre is at or above `threshold`. Row-major, roi.width × roi.height. The drawn contour
 * and QA's pixel scores both read the segmenter's mask through this one mapping.
 */
export function maskOverRoi(map: ProbMap, roi: { width: number; height: number }, threshold: number): Uint8Array {
  const sx = map.width / roi.width;
  const sy = map.height / roi.height;
  const inside = new Uint8Array(roi.width * roi.height);
  for (let y = 0; y < roi.height; y++) {
    for (let x = 0; x < roi.width; x++) inside[y * roi.width + x] = sampleMap(map, (x + 0.5) * sx, (y + 0.5) * sy) >= threshold ? 1 : 0;
  }
  return inside;
}

/** Bilinear sample of a map at fractional cell coordinates (cell centres at .5). */
export function sampleMap(map: ProbMap, fx: number, fy: number): number {
  const x = Math.min(map.width - 1, Math.max(0, fx - 0.5));
  const y = Math.min(map.height - 1, Math.max(0, fy - 0.5));
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const x1 = Math.min(map.width - 1, x0 + 1);
  const y1 = Math.min(map.height - 1, y0 + 1);
  const wx = x - x0;
  const wy = y - y0;
  const d = map.data;
  const w = map.width;
  return (d[y0 * w + x0] * (1 - wx) + d[y0 * w + x1] * wx) * (1 - wy) + (d[y1 * w + x0] * (1 - wx) + d[y1 * w + x1] * wx) * wy;
}
