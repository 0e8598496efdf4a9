import { gaussian, seededRandom } from '../../util/random.js';

/** A per-pixel colour classifier: RGB (0…1) → hidden ReLU layer → lesion logit. */
export interface PixelMlp {
  hidden: number;
  /** [hidden × 3], row-major. */
  w1: Float32Array;
  b1: Float32Array;
  /** [hidden]. */
  w2: Float32Array;
  b2: number;
}

export function mlpLogit(m: PixelMlp, r: number, g: number, b: number): number {
  let z = m.b2;
  for (let h = 0; h < m.hidden; h++) {
    const a = m.w1[h * 3] * r + m.w1[h * 3 + 1] * g + m.w1[h * 3 + 2] * b + m.b1[h];
    if (a > 0) z += m.w2[h] * a;
  }
  return z;
}

/**
 * Trains the MLP by full-batch Adam on logistic loss. Deterministic: seeded init, fixed order,
 * no parallelism. `x` holds RGB triples, `y` 0/1 labels.
 */
export function trainPixelMlp(x: Float32Array, y: Uint8Array, seed: number, hidden = 8, steps = 400): { model: PixelMlp; loss: number; accuracy: number } {
  const rand = seededRandom(seed);
  const n = y.length;
  const params = new Float32Array(hidden * 3 + hidden + hidden + 1);
  for (let i = 0; i < hidden * 3; i++) params[i] = gaussian(rand) * Math.sqrt(2 / 3);
  for (let i = 0; i < hidden; i++) params[hidden * 4 + i] = gaussian(rand) * Math.sqrt(1 / hidden);
  const grad = new Float32Array(params.length);
  const m1 = new Float32Array(params.length);
  const m2 = new Float32Array(params.length);
  const act = new Float32Array(hidden);
  const lr = 0.05;
  let loss = 0;
  const W2 = hidden * 4;
  const B2 = hidden * 5;
  for (let step = 1; step <= steps; step++) {
    grad.fill(0);
    loss = 0;
    for (let s = 0; s < n; s++) {
      const r = x[s * 3];
      const g = x[s * 3 + 1];
      const b = x[s * 3 + 2];
      let z = params[B2];
      for (let h = 0; h < hidden; h++) {
        const a = params[h * 3] * r + params[h * 3 + 1] * g + params[h * 3 + 2] * b + params[hidden * 3 + h];
        act[h] = a > 0 ? a : 0;
        z += params[W2 + h] * act[h];
      }
      const p = 1 / (1 + Math.exp(-z));
      loss += -(y[s] ? Math.log(p + 1e-9) : Math.log(1 - p + 1e-9));
      const dz = p - y[s];
      grad[B2] += dz;
      for (let h = 0; h < hidden; h++) {
        grad[W2 + h] += dz * act[h];
        if (act[h] > 0) {
          const da = dz * params[W2 + h];
          grad[h * 3] += da * r;
          grad[h * 3 + 1] += da * g;
          grad[h * 3 + 2] += da * b;
          grad[hidden * 3 + h] += da;
        }
      }
    }
    for (let i = 0; i < params.length; i++) {
      const gi = grad[i] / n;
      m1[i] = 0.9 * m1[i] + 0.1 * gi;
      m2[i] = 0.999 * m2[i] + 0.001 * gi * gi;
      const mh = m1[i] / (1 - 0.9 ** step);
      const vh = m2[i] / (1 - 0.999 ** step);
      params[i] -= (lr * mh) / (Math.sqrt(vh) + 1e-8);
    }
  }
  const model: PixelMlp = {
    hidden,
    w1: params.slice(0, hidden * 3),
    b1: params.slice(hidden * 3, hidden * 4),
    w2: params.slice(W2, W2 + hidden),
    b2: params[B2],
  };
  let correct = 0;
  for (let s = 0; s < n; s++) if (mlpLogit(model, x[s * 3], x[s * 3 + 1], x[s * 3 + 2]) > 0 === (y[s] === 1)) correct++;
  return { model, loss: loss / n, accuracy: correct / n };
}
