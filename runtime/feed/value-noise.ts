import { seededRandom } from '../util/random.js';

/**
 * Smooth 2-D value noise on a wrapping lattice: cheap texture for synthetic mucosa.
 * `sample(x, y)` returns [0, 1); one lattice cell is one unit of x and y.
 */
export class ValueNoise {
  private readonly grid: Float32Array;

  constructor(
    seed: number,
    private readonly size = 256,
  ) {
    const rand = seededRandom(seed);
    this.grid = new Float32Array(size * size);
    for (let i = 0; i < this.grid.length; i++) this.grid[i] = rand();
  }

  sample(x: number, y: number): number {
    const n = this.size;
    const x0 = Math.floor(x);
    const y0 = Math.floor(y);
    const fx = x - x0;
    const fy = y - y0;
    const sx = fx * fx * (3 - 2 * fx);
    const sy = fy * fy * (3 - 2 * fy);
    const xi = ((x0 % n) + n) % n;
    const yi = ((y0 % n) + n) % n;
    const x1 = (xi + 1) % n;
    const y1 = (yi + 1) % n;
    const g = this.grid;
    const a = g[yi * n + xi] + (g[yi * n + x1] - g[yi * n + xi]) * sx;
    const b = g[y1 * n + xi] + (g[y1 * n + x1] - g[y1 * n + xi]) * sx;
    return a + (b - a) * sy;
  }
}
