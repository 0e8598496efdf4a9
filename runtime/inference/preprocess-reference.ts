import type { Frame, Rect } from '../frame.js';
import type { InputSpec } from '../models/manifest.js';

/**
 * The model input, written for clarity rather than speed: the definition the live path
 * (inference/preprocess.ts, and whatever GStreamer did before it) is tested against.
 *
 * 1. crop: only pixels inside `crop` exist; coordinates outside are clamped to its edge;
 * 2. resize: output pixel (x, y) samples the crop at its centre, ((x + 0.5) · cw/W − 0.5,
 *    (y + 0.5) · ch/H − 0.5), bilinearly between the four nearest source pixels;
 * 3. colour order, then normalise: (value × scale − mean[c]) / std[c];
 * 4. layout NCHW: all of channel 0, then channel 1, then channel 2.
 */
export function preprocessReference(frame: Frame, spec: InputSpec, crop: Rect): Float32Array {
  const [, channels, outH, outW] = spec.shape;
  const out = new Float32Array(channels * outH * outW);
  const pixel = (x: number, y: number, c: number): number => {
    const cx = Math.min(crop.x + crop.width - 1, Math.max(crop.x, x));
    const cy = Math.min(crop.y + crop.height - 1, Math.max(crop.y, y));
    return frame.data[(cy * frame.width + cx) * 4 + c];
  };
  const bilinear = (fx: number, fy: number, c: number): number => {
    const x0 = Math.floor(fx);
    const y0 = Math.floor(fy);
    const tx = fx - x0;
    const ty = fy - y0;
    const top = pixel(x0, y0, c) * (1 - tx) + pixel(x0 + 1, y0, c) * tx;
    const bottom = pixel(x0, y0 + 1, c) * (1 - tx) + pixel(x0 + 1, y0 + 1, c) * tx;
    return top * (1 - ty) + bottom * ty;
  };
  const sourceChannel = (c: number) => (spec.colorOrder === 'BGR' ? 2 - c : c);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < outH; y++) {
      for (let x = 0; x < outW; x++) {
        const fx = Math.min(crop.x + crop.width - 1, Math.max(crop.x, crop.x + ((x + 0.5) * crop.width) / outW - 0.5));
        const fy = Math.min(crop.y + crop.height - 1, Math.max(crop.y, crop.y + ((y + 0.5) * crop.height) / outH - 0.5));
        const value = bilinear(fx, fy, sourceChannel(c));
        out[c * outH * outW + y * outW + x] = (value * spec.scale - spec.mean[c]) / spec.std[c];
      }
    }
  }
  return out;
}
