import { SceneRenderer } from '../../runtime/feed/scene.js';
import { makeSceneSpec } from '../../runtime/feed/schedule.js';
import { OnScreenDisplay } from '../../runtime/feed/osd.js';
import { evaluateQuality } from '../../runtime/quality/quality-gate.js';
import { findActiveArea } from '../../runtime/roi/active-area.js';

/** Gate results on the generator's frames, per truth: ungradable reason, or what is in view. */
export interface GateTally {
  n: number;
  gated: number;
  /** Frames gated with the truth's own reason among the reasons. */
  rightReason: number;
  /** Least and largest usable share seen. */
  usableMin: number;
  usableMax: number;
}

/** Box-filters an RGBA frame down by an integer factor, as a scaler in the capture pipeline would. */
export function downscale(data: Uint8Array, w: number, h: number, k: number): { data: Uint8Array; width: number; height: number } {
  if (k === 1) return { data, width: w, height: h };
  const ow = Math.floor(w / k),
    oh = Math.floor(h / k);
  const out = new Uint8Array(ow * oh * 4);
  for (let y = 0; y < oh; y++)
    for (let x = 0; x < ow; x++)
      for (let c = 0; c < 4; c++) {
        let s = 0;
        for (let dy = 0; dy < k; dy++) for (let dx = 0; dx < k; dx++) s += data[((y * k + dy) * w + x * k + dx) * 4 + c];
        out[(y * ow + x) * 4 + c] = Math.round(s / (k * k));
      }
  return { data: out, width: ow, height: oh };
}

/**
 * Renders every `every`-th frame of the `full` schedule for each seed (OSD burned in), scales it
 * down by `scale`, gates it and tallies by truth: the ungradable reason, 'lesion+trickle' (a
 * lesion in view beside a small bleed), 'blood-below-label' (blood under the label's share, no
 * lesion), 'egc' or 'normal'.
 */
export function tallyGenerator(o: { width: number; height: number; seeds: number[]; every: number; scale?: number }): Record<string, GateTally> {
  const by: Record<string, GateTally> = {};
  for (const seed of o.seeds) {
    const spec = makeSceneSpec({ width: o.width, height: o.height, fps: 10, seconds: 40, seed, episodes: 'full' });
    const r = new SceneRenderer(spec);
    const osd = new OnScreenDisplay(spec);
    for (let i = 0; i < spec.frames; i += o.every) {
      const f = r.render(i);
      osd.draw(f.data, i);
      const frame = { id: i, ts: 0, ...downscale(f.data, spec.width, spec.height, o.scale ?? 1) };
      const q = evaluateQuality(frame, findActiveArea(frame));
      const kind = f.label === 'ungradable' ? f.reason! : f.blood > 0 ? (f.label === 'egc' ? 'lesion+trickle' : 'blood-below-label') : f.label;
      const t = (by[kind] ??= { n: 0, gated: 0, rightReason: 0, usableMin: 1, usableMax: 0 });
      t.n++;
      if (q.gated) t.gated++;
      if (q.reasons.includes(kind as never)) t.rightReason++;
      t.usableMin = Math.min(t.usableMin, q.scores.usableFraction);
      t.usableMax = Math.max(t.usableMax, q.scores.usableFraction);
    }
  }
  return by;
}
