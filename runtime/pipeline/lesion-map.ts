import { cellsAtOrAbove, type ProbMap } from '../overlay/mask-geometry.js';

/** Per-pixel probability of class 1 (lesion) from [1, 2, H, W] logits. */
export function lesionProbability(logits: Float32Array, plane: number): Float32Array {
  const p = new Float32Array(plane);
  for (let i = 0; i < plane; i++) p[i] = 1 / (1 + Math.exp(logits[i] - logits[plane + i]));
  return p;
}

// Logit differences this close to the threshold's are decided by the probability itself, so the
// shortcut below agrees with data[i] >= threshold to the last bit of the stored single. Outside
// the band the probability is at least 1e-7 from a threshold in [0.001, 0.999], well past a
// single's rounding there; other thresholds read the probabilities.
const NEAR = 1e-4;
const SHORTCUT = { min: 0.001, max: 0.999 };

/**
 * The segmenter's lesion map, from its logits. The live path needs only the cells at or above
 * the threshold (box, contour, run lengths): a comparison of the two logits gives them without
 * an exponential per cell. The probabilities are computed the first time something reads
 * `data` (a rendered PNG, QA's pixel scores).
 */
export class LesionMap implements ProbMap {
  #data: Float32Array | null = null;
  #inside: { threshold: number; cells: Uint8Array } | null = null;

  constructor(
    readonly width: number,
    readonly height: number,
    /** [1, 2, height, width] logits, background first; not modified. */
    private readonly logits: Float32Array,
  ) {}

  get data(): Float32Array {
    this.#data ??= lesionProbability(this.logits, this.width * this.height);
    return this.#data;
  }

  /** 1 where the probability is at or above `threshold`; the array is shared, read it only. */
  inside(threshold: number): Uint8Array {
    if (this.#inside?.threshold === threshold) return this.#inside.cells;
    const cells = threshold >= SHORTCUT.min && threshold <= SHORTCUT.max ? this.fromLogits(threshold) : cellsAtOrAbove(this.data, threshold);
    this.#inside = { threshold, cells };
    return cells;
  }

  private fromLogits(threshold: number): Uint8Array {
    const plane = this.width * this.height;
    const cells = new Uint8Array(plane);
    const l = this.logits;
    // p = 1 / (1 + e^(l0 − l1)) ≥ t  ⇔  l0 − l1 ≤ ln((1 − t) / t), as the probability falls
    // monotonically with the difference.
    const limit = Math.log((1 - threshold) / threshold);
    for (let i = 0; i < plane; i++) {
      const d = l[i] - l[plane + i];
      if (d < limit - NEAR) cells[i] = 1;
      else if (d <= limit + NEAR) cells[i] = Math.fround(1 / (1 + Math.exp(d))) >= threshold ? 1 : 0;
    }
    return cells;
  }
}
