import type { Frame, Rect } from '../frame.js';
import type { InputSpec } from '../models/manifest.js';

/** Height and width of an NCHW input shape [1, 3, H, W]. */
export function inputSize(spec: InputSpec): { width: number; height: number } {
  return { height: spec.shape[2], width: spec.shape[3] };
}

/**
 * Frame → model input: crop to `crop` (the ROI; whole frame by default), bilinear resize to the
 * model's size (pixel centres aligned, as OpenCV and PIL do), colour order, then
 * (pixel × scale − mean) / std, planar NCHW float32. Writes into `out` when given.
 */
export function preprocess(frame: Frame, spec: InputSpec, crop?: Rect, out?: Float32Array): Float32Array {
  const { width: ow, height: oh } = inputSize(spec);
  const r = crop ?? { x: 0, y: 0, width: frame.width, height: frame.height };
  const plane = ow * oh;
  const dst = out ?? new Float32Array(3 * plane);
  const src = frame.data;
  const fw = frame.width;
  const sx = r.width / ow;
  const sy = r.height / oh;
  const bgr = spec.colorOrder === 'BGR';
  const k0 = spec.scale / spec.std[0];
  const k1 = spec.scale / spec.std[1];
  const k2 = spec.scale / spec.std[2];
  const b0 = spec.mean[0] / spec.std[0];
  const b1 = spec.mean[1] / spec.std[1];
  const b2 = spec.mean[2] / spec.std[2];
  const maxX = r.x + r.width - 1;
  const maxY = r.y + r.height - 1;
  for (let y = 0; y < oh; y++) {
    const fy = Math.min(maxY, Math.max(r.y, r.y + (y + 0.5) * sy - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(maxY, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < ow; x++) {
      const fx = Math.min(maxX, Math.max(r.x, r.x + (x + 0.5) * sx - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(maxX, x0 + 1);
      const wx = fx - x0;
      const a = (y0 * fw + x0) * 4;
      const b = (y0 * fw + x1) * 4;
      const c = (y1 * fw + x0) * 4;
      const d = (y1 * fw + x1) * 4;
      const w00 = (1 - wx) * (1 - wy);
      const w01 = wx * (1 - wy);
      const w10 = (1 - wx) * wy;
      const w11 = wx * wy;
      const R = src[a] * w00 + src[b] * w01 + src[c] * w10 + src[d] * w11;
      const G = src[a + 1] * w00 + src[b + 1] * w01 + src[c + 1] * w10 + src[d + 1] * w11;
      const B = src[a + 2] * w00 + src[b + 2] * w01 + src[c + 2] * w10 + src[d + 2] * w11;
      const i = y * ow + x;
      dst[i] = (bgr ? B : R) * k0 - b0;
      dst[plane + i] = G * k1 - b1;
      dst[2 * plane + i] = (bgr ? R : B) * k2 - b2;
    }
  }
  return dst;
}
