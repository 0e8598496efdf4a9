import type { Rect } from '../frame.js';
import type { ConditionedFrame } from '../pipeline/condition.js';

/**
 * The composited preview: the frame's ROI with the overlay blended on top, as RGBA of the ROI's
 * size. Nothing outside the ROI is copied, so burned-in text beside the picture never leaves
 * the appliance in a preview; and only a conditioned frame (privacy masks black) is accepted.
 */
export function compositeRoi(frame: ConditionedFrame, overlay: Uint8Array, roi: Rect): { width: number; height: number; data: Uint8Array } {
  const out = new Uint8Array(roi.width * roi.height * 4);
  for (let y = 0; y < roi.height; y++) {
    for (let x = 0; x < roi.width; x++) {
      const s = ((roi.y + y) * frame.width + roi.x + x) * 4;
      const d = (y * roi.width + x) * 4;
      const a = overlay[s + 3] / 255;
      out[d] = frame.data[s] * (1 - a) + overlay[s] * a;
      out[d + 1] = frame.data[s + 1] * (1 - a) + overlay[s + 1] * a;
      out[d + 2] = frame.data[s + 2] * (1 - a) + overlay[s + 2] * a;
      out[d + 3] = 255;
    }
  }
  return { width: roi.width, height: roi.height, data: out };
}
