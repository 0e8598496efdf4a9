/**
 * Gaussian statistics for the init-time mean-square estimates of ./layers.ts (BatchNormalization
 * calibration). Each treats a tensor's elements as independent normals; that is what makes them
 * estimates.
 */
import type { Feature } from './layers.js';

/**
 * E[relu(P + S)²] where S ~ N(0, sym) and P ≥ 0 is itself ReLU-like: P = relu(X), X ~ N(0, 2·pos)
 * (so E[P²] = pos, zero half the time). Quadrature over X > 0 of E[relu(x + S)²].
 */
export function reluMeanSquare(pos: number, sym: number): number {
  if (sym <= 0) return pos;
  if (pos <= 0) return sym / 2;
  const sdX = Math.sqrt(2 * pos);
  const sdS = Math.sqrt(sym);
  const n = 400;
  const step = (8 * sdX) / n;
  let sum = 0;
  for (let i = 0; i <= n; i++) {
    const x = i * step;
    const t = x / sdS;
    const inner = sym * ((t * t + 1) * normCdf(t) + t * normPdf(t)); // E[relu(x + S)²]
    sum += inner * (normPdf(x / sdX) / sdX) * (i === 0 || i === n ? 0.5 : 1);
  }
  return sym / 4 + sum * step; // X < 0 (probability ½): E[relu(S)²] = sym/2
}

/** Mean over many elements (a pooled mean): the non-negative part keeps E[relu]² = pos/π. */
export function meanOf(x: Feature): { pos: number; sym: number } {
  return { pos: x.pos / Math.PI, sym: 0 };
}

/** The max of n elements of a ReLU-like tensor: E[max(0, Z₁…Zₙ)²] / E[relu(Z)²] times its mean square. */
export function maxOf(x: Feature, n: number): { pos: number; sym: number } {
  return { pos: (x.pos + x.sym) * maxFactor(n), sym: 0 };
}

const maxFactorCache = new Map<number, number>();

/** E[max(0, Z₁…Zₙ)²] / E[relu(Z)²] for iid standard normals, = 4∫₀^∞ z(1 − Φ(z)ⁿ) dz. */
function maxFactor(n: number): number {
  const cached = maxFactorCache.get(n);
  if (cached !== undefined) return cached;
  const step = 1 / 256;
  let sum = 0;
  for (let i = 1; i <= 12 * 256; i++) {
    const z = i * step;
    // 1 − Φⁿ = 1 − exp(n·log(1 − Q)), computed without cancellation in the tail.
    sum += z * -Math.expm1(n * Math.log1p(-normTail(z)));
  }
  const f = 4 * sum * step;
  maxFactorCache.set(n, f);
  return f;
}

/** E[sigmoid(z)²] for z ~ N(0, v). */
export function sigmoidMeanSquare(v: number): number {
  if (v <= 0) return 0.25;
  const sd = Math.sqrt(v);
  const n = 800;
  const step = (16 * sd) / n;
  let sum = 0;
  for (let i = 0; i <= n; i++) {
    const z = -8 * sd + i * step;
    const s = 1 / (1 + Math.exp(-z));
    sum += s * s * normPdf(z / sd) * (i === 0 || i === n ? 0.5 : 1);
  }
  return (sum * step) / sd;
}

function normPdf(z: number): number {
  return Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
}

function normCdf(z: number): number {
  return z >= 0 ? 1 - normTail(z) : normTail(-z);
}

/** Q(z) = 1 − Φ(z) for z ≥ 0, via erfc (Numerical Recipes' erfcc, relative error < 1.2e-7). */
function normTail(z: number): number {
  const x = z / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const poly =
    -x * x -
    1.26551223 +
    t *
      (1.00002368 +
        t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851638 + t * (-0.82215223 + t * 0.17087277))))))));
  return 0.5 * t * Math.exp(poly);
}
