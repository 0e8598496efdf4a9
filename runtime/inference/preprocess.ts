import type { Frame, Rect } from '../frame.js';
import type { InputSpec } from '../models/manifest.js';
import { kernels } from '../native/kernels.js';

/** Height and width of an NCHW input shape [1, 3, H, W]. */
export function inputSize(spec: InputSpec): { width: number; height: number } {
  return { height: spec.shape[2], width: spec.shape[3] };
}

/** Source taps of one output axis: first and second sample index and the second's weight. */
interface Taps {
  readonly i0: Int32Array;
  readonly i1: Int32Array;
  readonly w: Float64Array;
  /** 1 − w, as the per-pixel weights used it. */
  readonly w0: Float64Array;
}

/** Bilinear taps along one axis, pixel centres aligned; clamped to [start, start + length). */
function taps(start: number, length: number, out: number): Taps {
  const s = length / out;
  const max = start + length - 1;
  const i0 = new Int32Array(out),
    i1 = new Int32Array(out),
    w = new Float64Array(out);
  for (let k = 0; k < out; k++) {
    const f = Math.min(max, Math.max(start, start + (k + 0.5) * s - 0.5));
    i0[k] = Math.floor(f);
    i1[k] = Math.min(max, i0[k] + 1);
    w[k] = f - i0[k];
  }
  return { i0, i1, w, w0: w.map((v) => 1 - v) };
}

/** Whether typed arrays are little-endian, so a Uint32Array over RGBA bytes reads R in its low byte. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Taps of recent crops: the ROI holds still for seconds, so they are computed once, not per frame. */
const tapCache = new Map<string, { x: Taps; y: Taps }>();

function tapsFor(r: Rect, ow: number, oh: number): { x: Taps; y: Taps } {
  const key = `${r.x},${r.y},${r.width},${r.height},${ow},${oh}`;
  let t = tapCache.get(key);
  if (!t) {
    if (tapCache.size >= 8) tapCache.delete(tapCache.keys().next().value!);
    t = { x: taps(r.x, r.width, ow), y: taps(r.y, r.height, oh) };
    tapCache.set(key, t);
  }
  return t;
}

/**
 * Frame → model input: crop to `crop` (the ROI; whole frame by default), bilinear resize to the
 * model's size (pixel centres aligned, as OpenCV and PIL do), colour order, then
 * (pixel × scale − mean) / std, planar NCHW float32. Writes into `out` when given. The compiled
 * loop (native/kernels.ts) runs when it is built, unless `javascript` asks for this file's; both
 * give the same input.
 */
export function preprocess(frame: Frame, spec: InputSpec, crop?: Rect, out?: Float32Array, javascript = false): Float32Array {
  const { width: ow, height: oh } = inputSize(spec);
  const r = crop ?? { x: 0, y: 0, width: frame.width, height: frame.height };
  const plane = ow * oh;
  const dst = out ?? new Float32Array(3 * plane);
  const src = frame.data;
  const fw = frame.width;
  const bgr = spec.colorOrder === 'BGR';
  const k0 = spec.scale / spec.std[0];
  const k1 = spec.scale / spec.std[1];
  const k2 = spec.scale / spec.std[2];
  const b0 = spec.mean[0] / spec.std[0];
  const b1 = spec.mean[1] / spec.std[1];
  const b2 = spec.mean[2] / spec.std[2];
  const { x: tx, y: ty } = tapsFor(r, ow, oh);
  if (kernels && !javascript) {
    const p = Float64Array.of(fw, frame.height, ow, oh, bgr ? 1 : 0, k0, k1, k2, b0, b1, b2);
    kernels.resizeInput(src, p, tx.i0, tx.i1, tx.w, tx.w0, ty.i0, ty.i1, ty.w, ty.w0, dst);
    return dst;
  }
  // Each source pixel read as one 32-bit word (R in the low byte) where the bytes allow it; the
  // arithmetic is the same, term by term, so the output is identical either way.
  if (LITTLE_ENDIAN && src.byteOffset % 4 === 0) {
    const words = new Uint32Array(src.buffer, src.byteOffset, src.length >> 2);
    // Planes in output order: BGR takes B (bits 16–23) first.
    const s0 = bgr ? 16 : 0,
      s2 = bgr ? 0 : 16;
    const { i0: xi0, i1: xi1, w: xw, w0: xw0 } = tx;
    for (let y = 0; y < oh; y++) {
      const row0 = ty.i0[y] * fw,
        row1 = ty.i1[y] * fw,
        wy = ty.w[y],
        wy0 = ty.w0[y];
      for (let x = 0, i = y * ow; x < ow; x++, i++) {
        const x0 = xi0[x],
          x1 = xi1[x],
          wx = xw[x],
          wx0 = xw0[x];
        const a = words[row0 + x0],
          b = words[row0 + x1],
          c = words[row1 + x0],
          d = words[row1 + x1];
        const w00 = wx0 * wy0;
        const w01 = wx * wy0;
        const w10 = wx0 * wy;
        const w11 = wx * wy;
        const C0 = ((a >>> s0) & 255) * w00 + ((b >>> s0) & 255) * w01 + ((c >>> s0) & 255) * w10 + ((d >>> s0) & 255) * w11;
        const G = ((a >>> 8) & 255) * w00 + ((b >>> 8) & 255) * w01 + ((c >>> 8) & 255) * w10 + ((d >>> 8) & 255) * w11;
        const C2 = ((a >>> s2) & 255) * w00 + ((b >>> s2) & 255) * w01 + ((c >>> s2) & 255) * w10 + ((d >>> s2) & 255) * w11;
        dst[i] = C0 * k0 - b0;
        dst[plane + i] = G * k1 - b1;
        dst[2 * plane + i] = C2 * k2 - b2;
      }
    }
    return dst;
  }
  for (let y = 0; y < oh; y++) {
    const row0 = ty.i0[y] * fw,
      row1 = ty.i1[y] * fw,
      wy = ty.w[y];
    for (let x = 0; x < ow; x++) {
      const x0 = tx.i0[x],
        x1 = tx.i1[x],
        wx = tx.w[x];
      const a = (row0 + x0) * 4;
      const b = (row0 + x1) * 4;
      const c = (row1 + x0) * 4;
      const d = (row1 + x1) * 4;
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
