// overlay/: the overlay stage: mask to contour and box, attention map to grid, sent as geometry in
// full-frame coordinates; a rendered PNG and a preview JPEG are options.
/**
 * Outlines of a binary grid as closed polygons on cell corners: every edge between a set cell
 * and an unset one (or the border) is walked with the set side on its left, so an outer outline
 * runs one way and a hole the other. Staircase steps are then simplified away
 * (Ramer–Douglas–Peucker), which keeps a lesion outline to a few dozen points.
 */

/** A closed polygon: flat [x0, y0, x1, y1, …] in cell units (0..width, 0..height). */
export type Polygon = number[];

/** Outlines of the cells where `inside[y * width + x]` is non-zero, largest first, at most `max`. */
export function traceContours(inside: Uint8Array, width: number, height: number, epsilon = 0.75, max = 16): Polygon[] {
  const at = (x: number, y: number) => x >= 0 && y >= 0 && x < width && y < height && inside[y * width + x] !== 0;
  // Directed boundary edges keyed by their start corner; corners are (width + 1) × (height + 1).
  const cw = width + 1;
  const next = new Map<number, number[]>();
  const add = (x0: number, y0: number, x1: number, y1: number) => {
    const k = y0 * cw + x0;
    const list = next.get(k);
    if (list) list.push(y1 * cw + x1);
    else next.set(k, [y1 * cw + x1]);
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!at(x, y)) continue;
      // Set side on the left of each edge (y grows downwards).
      if (!at(x, y - 1)) add(x + 1, y, x, y);
      if (!at(x, y + 1)) add(x, y + 1, x + 1, y + 1);
      if (!at(x - 1, y)) add(x, y, x, y + 1);
      if (!at(x + 1, y)) add(x + 1, y + 1, x + 1, y);
    }
  }
  const loops: { poly: Polygon; area: number }[] = [];
  for (const [start] of next) {
    while (next.get(start)?.length) {
      const pts: number[] = [];
      let k = start;
      do {
        const list = next.get(k)!;
        const to = list.pop()!;
        if (!list.length) next.delete(k);
        pts.push(k % cw, Math.floor(k / cw));
        k = to;
      } while (k !== start && next.has(k));
      const poly = dropCollinear(simplifyClosed(pts, epsilon));
      loops.push({ poly, area: Math.abs(shoelace(pts)) });
    }
  }
  return loops
    .sort((a, b) => b.area - a.area)
    .slice(0, max)
    .map((l) => l.poly);
}

function shoelace(p: number[]): number {
  let s = 0;
  for (let i = 0; i < p.length; i += 2) {
    const j = (i + 2) % p.length;
    s += p[i] * p[j + 1] - p[j] * p[i + 1];
  }
  return s / 2;
}

/** Removes points that lie on the line through their neighbours (the ring's start included). */
function dropCollinear(p: number[]): number[] {
  const n = p.length / 2;
  if (n <= 3) return p;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = (i + n - 1) % n;
    const b = (i + 1) % n;
    const cross = (p[2 * i] - p[2 * a]) * (p[2 * b + 1] - p[2 * a + 1]) - (p[2 * i + 1] - p[2 * a + 1]) * (p[2 * b] - p[2 * a]);
    if (cross !== 0) out.push(p[2 * i], p[2 * i + 1]);
  }
  return out.length >= 6 ? out : p;
}

/** RDP on a closed ring: split at the point farthest from the first, simplify both halves. */
function simplifyClosed(p: number[], epsilon: number): number[] {
  const n = p.length / 2;
  if (n <= 4) return p;
  let far = 0;
  let best = -1;
  for (let i = 1; i < n; i++) {
    const d = (p[2 * i] - p[0]) ** 2 + (p[2 * i + 1] - p[1]) ** 2;
    if (d > best) {
      best = d;
      far = i;
    }
  }
  const a = rdp(p, 0, far, epsilon);
  const b = rdp([...p.slice(2 * far), p[0], p[1]], 0, n - far, epsilon);
  return [...a.slice(0, -2), ...b.slice(0, -2)];
}

function rdp(p: number[], i0: number, i1: number, epsilon: number): number[] {
  const x0 = p[2 * i0],
    y0 = p[2 * i0 + 1],
    x1 = p[2 * i1],
    y1 = p[2 * i1 + 1];
  const len = Math.hypot(x1 - x0, y1 - y0) || 1;
  let far = -1;
  let best = epsilon;
  for (let i = i0 + 1; i < i1; i++) {
    const d = Math.abs((x1 - x0) * (y0 - p[2 * i + 1]) - (x0 - p[2 * i]) * (y1 - y0)) / len;
    if (d > best) {
      best = d;
      far = i;
    }
  }
  if (far < 0) return [x0, y0, x1, y1];
  const left = rdp(p, i0, far, epsilon);
  return [...left.slice(0, -2), ...rdp(p, far, i1, epsilon)];
}

/** Run lengths of a binary grid, row-major, starting with a run of unset cells (maybe 0). */
export function encodeRuns(inside: Uint8Array): number[] {
  const runs: number[] = [];
  let value = 0;
  let run = 0;
  for (let i = 0; i < inside.length; i++) {
    const v = inside[i] ? 1 : 0;
    if (v === value) run++;
    else {
      runs.push(run);
      value = v;
      run = 1;
    }
  }
  runs.push(run);
  return runs;
}

/** The grid back from its run lengths; throws when they do not add up to `cells`. */
export function decodeRuns(runs: readonly number[], cells: number): Uint8Array {
  const out = new Uint8Array(cells);
  let i = 0;
  runs.forEach((r, k) => {
    if (!Number.isInteger(r) || r < 0 || i + r > cells) throw new RangeError(`run ${k} (${r}) does not fit a grid of ${cells} cells`);
    if (k % 2 === 1) out.fill(1, i, i + r);
    i += r;
  });
  if (i !== cells) throw new RangeError(`runs cover ${i} cells, the grid has ${cells}`);
  return out;
}
