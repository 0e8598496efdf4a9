import type { Rect } from '../frame.js';
import { maskOverRoi, sampleMap, type ProbMap } from './mask-geometry.js';

export interface OverlayInput {
  width: number;
  height: number;
  /** The area the models saw, in frame pixels. */
  roi: Rect;
  mask: ProbMap | null;
  maskThreshold: number;
  attention: ProbMap | null;
  box: Rect | null;
  alert: boolean;
}

const CONTOUR = [60, 255, 120, 255] as const;
const BOX_ALERT = [255, 48, 48, 255] as const;
const BOX_WATCH = [255, 210, 0, 255] as const;

/**
 * Draws the overlay in full-frame coordinates on a transparent RGBA canvas: attention heatmap
 * (optional), lesion contour, and box (red while an alert is active, amber otherwise).
 */
export function renderOverlay(o: OverlayInput): Uint8Array {
  const out = new Uint8Array(o.width * o.height * 4);
  const { roi } = o;
  if (o.attention) drawHeatmap(out, o.width, roi, o.attention);
  if (o.mask) drawContour(out, o.width, roi, o.mask, o.maskThreshold);
  if (o.box) drawBox(out, o.width, o.height, o.box, o.alert ? BOX_ALERT : BOX_WATCH, Math.max(2, Math.round(o.width / 320)));
  return out;
}

function drawHeatmap(out: Uint8Array, w: number, roi: Rect, att: ProbMap): void {
  const sx = att.width / roi.width;
  const sy = att.height / roi.height;
  for (let y = 0; y < roi.height; y++) {
    for (let x = 0; x < roi.width; x++) {
      const v = sampleMap(att, (x + 0.5) * sx, (y + 0.5) * sy);
      if (v < 0.2) continue;
      const o = ((roi.y + y) * w + roi.x + x) * 4;
      // Yellow (weak) to red (strong), more opaque as attention grows.
      out[o] = 255;
      out[o + 1] = Math.round(220 * (1 - v));
      out[o + 2] = 0;
      out[o + 3] = Math.round(40 + 100 * v);
    }
  }
}

function drawContour(out: Uint8Array, w: number, roi: Rect, mask: ProbMap, threshold: number): void {
  const inside = maskOverRoi(mask, roi, threshold);
  const t = Math.max(1, Math.round(roi.width / 300)); // line half-width
  for (let y = 0; y < roi.height; y++) {
    for (let x = 0; x < roi.width; x++) {
      if (!inside[y * roi.width + x]) continue;
      let edge = false;
      for (let d = 1; d <= t && !edge; d++) {
        edge =
          x - d < 0 ||
          y - d < 0 ||
          x + d >= roi.width ||
          y + d >= roi.height ||
          !inside[y * roi.width + x - d] ||
          !inside[y * roi.width + x + d] ||
          !inside[(y - d) * roi.width + x] ||
          !inside[(y + d) * roi.width + x];
      }
      if (edge) out.set(CONTOUR, ((roi.y + y) * w + roi.x + x) * 4);
    }
  }
}

function drawBox(out: Uint8Array, w: number, h: number, b: Rect, color: readonly number[], t: number): void {
  const x0 = Math.max(0, b.x);
  const y0 = Math.max(0, b.y);
  const x1 = Math.min(w - 1, b.x + b.width - 1);
  const y1 = Math.min(h - 1, b.y + b.height - 1);
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      if (x - x0 < t || x1 - x < t || y - y0 < t || y1 - y < t) out.set(color, (y * w + x) * 4);
    }
  }
}
