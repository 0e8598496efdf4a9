import type { Frame } from '../frame.js';

/**
 * The live path's analysis size: GStreamer scales each frame to fit inside it (aspect kept,
 * never enlarged) before JavaScript sees it. Tools that judge still images (frame inspect,
 * calibrate, commission) scale the same way, so that what they say is what the daemon does.
 */

/** The size a width × height frame is scaled to: fitted inside box, aspect kept, never enlarged. */
export function fitWithin(width: number, height: number, box: { width: number; height: number }): { width: number; height: number; scale: number } {
  const scale = Math.min(1, box.width / width, box.height / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)), scale };
}

/**
 * Scales frame down to fit box by area averaging (each output pixel the mean of the input
 * pixels under it, fractional edges weighted), which is what a scaler's anti-aliased downscale
 * does; a frame that already fits is returned as it is. `scale` is output / input pixels.
 */
export function scaleToFit(frame: Frame, box: { width: number; height: number }): { frame: Frame; scale: number } {
  const fit = fitWithin(frame.width, frame.height, box);
  if (fit.scale >= 1) return { frame, scale: 1 };
  const { width: W, height: H, data } = frame;
  const ow = fit.width,
    oh = fit.height;
  const fx = W / ow,
    fy = H / oh;
  const out = new Uint8Array(ow * oh * 4);
  const acc = new Float64Array(ow * 4);
  for (let oy = 0; oy < oh; oy++) {
    acc.fill(0);
    const y0 = oy * fy,
      y1 = y0 + fy;
    for (let y = Math.floor(y0); y < Math.min(H, Math.ceil(y1)); y++) {
      const wy = Math.min(y + 1, y1) - Math.max(y, y0);
      for (let ox = 0; ox < ow; ox++) {
        const x0 = ox * fx,
          x1 = x0 + fx;
        for (let x = Math.floor(x0); x < Math.min(W, Math.ceil(x1)); x++) {
          const w = wy * (Math.min(x + 1, x1) - Math.max(x, x0));
          const i = (y * W + x) * 4,
            o = ox * 4;
          acc[o] += data[i] * w;
          acc[o + 1] += data[i + 1] * w;
          acc[o + 2] += data[i + 2] * w;
          acc[o + 3] += data[i + 3] * w;
        }
      }
    }
    const norm = 1 / (fx * fy);
    for (let k = 0; k < ow * 4; k++) out[oy * ow * 4 + k] = Math.round(acc[k] * norm);
  }
  return { frame: { ...frame, width: ow, height: oh, data: out }, scale: ow / W };
}
