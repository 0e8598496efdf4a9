import { preprocess } from '../../inference/preprocess.js';
import { SceneRenderer } from '../../feed/scene.js';
import { makeSceneSpec } from '../../feed/schedule.js';
import type { InputSpec } from '../manifest.js';
import { seededRandom } from '../../util/random.js';

/** A rendered training frame: RGBA pixels, the lesion mask (or null) and its size. */
export interface TrainingFrame {
  width: number;
  height: number;
  data: Uint8Array;
  mask: Uint8Array | null;
}

/**
 * Frames from the synthetic feed generator (the demo's lesion palette), half with a lesion in
 * view, under random exposure so the models do not learn one brightness. The demo's bleeding is
 * left out: the graphs leave blood out by colour (reference-graphs.ts), and a colour model
 * trained on blood narrows its idea of red until real polyps fall outside it.
 */
export function trainingFrames(seed: number, scenes = 14, perScene = 6): TrainingFrame[] {
  const rand = seededRandom(seed);
  const out: TrainingFrame[] = [];
  for (let s = 0; s < scenes; s++) {
    const spec = makeSceneSpec({ width: 320, height: 240, fps: 10, seconds: 12, seed: seed * 100 + s, episodes: 'demo', bleeding: false });
    const r = new SceneRenderer(spec);
    for (let k = 0; k < perScene; k++) {
      const i = Math.floor(rand() * spec.frames);
      const f = r.render(i);
      const gain = 0.7 + 0.5 * rand();
      for (let p = 0; p < f.data.length; p += 4) {
        f.data[p] = Math.min(255, f.data[p] * gain);
        f.data[p + 1] = Math.min(255, f.data[p + 1] * gain);
        f.data[p + 2] = Math.min(255, f.data[p + 2] * gain);
      }
      out.push({ width: spec.width, height: spec.height, data: f.data, mask: f.mask });
    }
  }
  return out;
}

/** Balanced pixel samples (RGB scaled to 0…1) and labels from the frames. */
export function samplePixels(frames: TrainingFrame[], seed: number, perClass = 250): { x: Float32Array; y: Uint8Array } {
  const rand = seededRandom(seed);
  const xs: number[] = [];
  const ys: number[] = [];
  for (const f of frames) {
    const n = f.width * f.height;
    let pos = 0;
    let neg = 0;
    for (let tries = 0; tries < n && (pos < perClass || neg < perClass); tries++) {
      const p = Math.floor(rand() * n);
      const label = f.mask?.[p] ? 1 : 0;
      if (label ? pos >= perClass : neg >= perClass) continue;
      if (label) pos++;
      else neg++;
      xs.push(f.data[p * 4] / 255, f.data[p * 4 + 1] / 255, f.data[p * 4 + 2] / 255);
      ys.push(label);
    }
  }
  return { x: Float32Array.from(xs), y: Uint8Array.from(ys) };
}

/** A frame's model input tensor, through the runtime's own preprocessing. */
export function tensorOf(f: TrainingFrame, spec: InputSpec): Float32Array {
  return preprocess({ id: 0, ts: 0, width: f.width, height: f.height, data: f.data }, spec);
}
