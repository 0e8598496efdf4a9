import type { Rect } from '../frame.js';
import type { FrameScale } from '../frame-scale.js';
import type { OverlayGeometry } from '../publish/protocol.js';
import { decodeRuns, encodeRuns, traceContours } from './contours.js';
import { insideOf, type ProbMap } from './mask-geometry.js';

/**
 * What a monitor needs to draw a frame's overlay, in full-frame pixels: the lesion outline as
 * polygons, the attention map as a small grid, and the mask itself as run lengths at the
 * segmenter's resolution. A few kilobytes whatever the video's resolution.
 */
export function buildGeometry(o: { roi: Rect; scale: FrameScale; mask: ProbMap | null; maskThreshold: number; attention: ProbMap | null }): OverlayGeometry {
  const rect = o.scale.rectToFull(o.roi);
  let contours: number[][] = [];
  let mask: OverlayGeometry['mask'] = null;
  if (o.mask) {
    const { width: w, height: h } = o.mask;
    const inside = insideOf(o.mask, o.maskThreshold);
    // Cell corners → full-frame pixels, through the ROI the mask covers.
    const kx = rect.width / w;
    const ky = rect.height / h;
    contours = traceContours(inside, w, h).map((poly) => poly.map((v, i) => (i % 2 === 0 ? Math.round(rect.x + v * kx) : Math.round(rect.y + v * ky))));
    mask = { rect, width: w, height: h, threshold: o.maskThreshold, runs: encodeRuns(inside) };
  }
  const attention = o.attention
    ? { rect, width: o.attention.width, height: o.attention.height, values: Array.from(o.attention.data, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255)) }
    : null;
  return { contours, attention, mask };
}

/** The geometry's mask and attention as probability maps (0/1 and 0–1), for drawing. */
export function geometryMaps(g: OverlayGeometry): { mask: ProbMap | null; attention: ProbMap | null; rect: Rect | null } {
  const mask = g.mask ? { width: g.mask.width, height: g.mask.height, data: Float32Array.from(decodeRuns(g.mask.runs, g.mask.width * g.mask.height)) } : null;
  const attention = g.attention ? { width: g.attention.width, height: g.attention.height, data: Float32Array.from(g.attention.values, (v) => v / 255) } : null;
  return { mask, attention, rect: g.mask?.rect ?? g.attention?.rect ?? null };
}
