import type { Rect } from '../frame.js';

/** A probability map of size w × h (row-major), as the segmenter gives it. */
export interface ProbMap {
  width: number;
  height: number;
  data: Float32Array;
  /** The cells at or above a threshold, where the map knows them cheaper than by reading data (a shared array: read only). */
  inside?(threshold: number): Uint8Array;
}

/** 1 where the map is at or above `threshold`: `data[i] >= threshold`, cell by cell. */
export function insideOf(map: ProbMap, threshold: number): Uint8Array {
  return map.inside ? map.inside(threshold) : cellsAtOrAbove(map.data, threshold);
}

/** 1 where `data[i] >= threshold`, else 0. */
export function cellsAtOrAbove(data: Float32Array, threshold: number): Uint8Array {
  const inside = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) inside[i] = data[i] >= threshold ? 1 : 0;
  return inside;
}

export interface Blob {
  /** Bounding box in map cells. */
  box: Rect;
  /** Cells in the component. */
  cells: number;
}

let scratch = { seen: new Uint8Array(0), stack: new Int32Array(0) };

/** The largest 8-connected component of cells at or above `threshold`, or null. */
export function largestBlob(map: ProbMap, threshold: number): Blob | null {
  const { width: w, height: h } = map;
  const inside = insideOf(map, threshold);
  // Labels and the flood's stack in typed arrays (each cell is pushed at most once), kept from
  // call to call: fresh ones cost more than the flood itself (zeroed pages, 80 KB a frame).
  if (scratch.stack.length < w * h) scratch = { seen: new Uint8Array(w * h), stack: new Int32Array(w * h) };
  const { seen, stack } = scratch;
  seen.fill(0, 0, w * h);
  let best: Blob | null = null;
  for (let start = 0; start < w * h; start++) {
    if (!inside[start] || seen[start]) continue;
    let minX = w;
    let minY = h;
    let maxX = -1;
    let maxY = -1;
    let cells = 0;
    let top = 0;
    seen[start] = 1;
    stack[top++] = start;
    while (top > 0) {
      const p = stack[--top];
      const y = (p / w) | 0;
      const x = p - y * w;
      cells++;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
      const x0 = x > 0 ? x - 1 : x,
        x1 = x < w - 1 ? x + 1 : x;
      const y0 = y > 0 ? y - 1 : y,
        y1 = y < h - 1 ? y + 1 : y;
      for (let ny = y0; ny <= y1; ny++) {
        for (let q = ny * w + x0, qEnd = ny * w + x1; q <= qEnd; q++) {
          if (inside[q] && !seen[q]) {
            seen[q] = 1;
            stack[top++] = q;
          }
        }
      }
    }
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
