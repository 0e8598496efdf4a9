// feed/: the synthetic endoscopy feed generator (`lumen feed make`): scenes, lesions, bleeding, bubbles
// and on-screen text, written as a video with its annotations.
import type { Rect } from '../frame.js';
import type { ValueNoise } from './value-noise.js';

/**
 * Blood in the synthetic view: a pool of fresh blood that fills the lumen from the bottom of the
 * picture with dark clots in it and glints on its wet surface, a trickle running down into it
 * from above, and a diluted pink wash along the pool's edge. The pool grows from nothing to its
 * peak over the first 40 % of the episode and then stays.
 */

/** One bleeding episode's look. */
export interface BleedingSpec {
  /** Share of the picture the pool covers at its peak, 0–1 (a trickle: 0.05–0.2; heavy: 0.85+). */
  readonly peak: number;
  /** Where the trickle runs, 0–1 across the picture (kept away from a lesion in view). */
  readonly streamU: number;
  readonly phase: number;
}

/**
 * Share of the picture (0–1) under blood from which a frame is labelled ungradable (`bleeding`):
 * "most of the view". Below it the frame keeps its label: a lesion beside a trickle is gradable.
 */
export const BLEEDING_UNGRADABLE = 0.6;

const FRESH: readonly [number, number, number] = [0.6, 0.03, 0.04];
const CLOT: readonly [number, number, number] = [0.27, 0.05, 0.035];
const WASH: readonly [number, number, number] = [0.88, 0.38, 0.4];

/**
 * Paints blood over the picture pixels of `data` (RGBA, width w) where `inside` is 1, for a
 * point `progress` (0–1) through the episode at time t (s). Returns the share of the picture
 * under blood (wash excluded: it is translucent).
 */
export function paintBleeding(
  data: Uint8Array,
  w: number,
  a: Rect,
  inside: Uint8Array,
  spec: BleedingSpec,
  progress: number,
  t: number,
  noise: ValueNoise,
): number {
  const level = spec.peak * Math.min(1, progress / 0.4);
  const s = Math.min(a.width, a.height);
  const streamHalf = 0.018;
  let picture = 0,
    blood = 0;
  for (let y = a.y; y < a.y + a.height; y++) {
    const v = (y - a.y + 0.5) / a.height;
    for (let x = a.x; x < a.x + a.width; x++) {
      const p = y * w + x;
      if (!inside[p]) continue;
      picture++;
      const u = (x - a.x + 0.5) / a.width;
      // The pool's surface: a wavy line that rises with the level; the flow moves the waves.
      const surface = 1 - level * 1.04 + 0.035 * Math.sin(9 * u + 2.1 * t + spec.phase) + 0.03 * (noise.sample(u * 6 + t * 0.7, 3.3) - 0.5);
      const streamX = spec.streamU + 0.04 * Math.sin(7 * v + 1.3 * t + spec.phase);
      const inStream = level > 0 && v > 0.08 && Math.abs(u - streamX) < streamHalf * (0.6 + 0.8 * v);
      const o = p * 4;
      if (v >= surface || inStream) {
        blood++;
        const tx = (x / s) * 40,
          ty = (y / s) * 40;
        const clot = v >= surface && noise.sample(tx * 0.35 + 11, ty * 0.35 - t * 0.2) > 0.66;
        const c = clot ? CLOT : FRESH;
        const ripple = 0.8 + 0.35 * noise.sample(tx + 31 - t * 0.9, ty + 7);
        // Glints on the wet surface: a few small, moving highlights.
        const glint = !clot && noise.sample(tx * 0.9 + 97 + t * 0.5, ty * 0.9 + 51) > 0.93 ? 1 : 0;
        for (let k = 0; k < 3; k++) data[o + k] = clamp255((glint ? 0.97 : c[k] * ripple) * 255);
      } else if (level > 0 && v >= surface - 0.07) {
        // Diluted blood along the edge: a translucent pink wash over the mucosa.
        const alpha = 0.45 * (1 - (surface - v) / 0.07);
        for (let k = 0; k < 3; k++) data[o + k] = clamp255(data[o + k] + (WASH[k] * 255 - data[o + k]) * alpha);
      }
    }
  }
  return picture ? blood / picture : 0;
}

function clamp255(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : v;
}
