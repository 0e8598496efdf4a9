/**
 * The outline family of an active area (circle, octagon, rectangle, …), read from the corners of
 * its row extents on the sample grid of ./active-area.ts.
 */
import type { ActiveAreaShape } from './active-area.js';

type CornerKind = 'square' | 'diagonal' | 'arc' | 'notch';

/**
 * Reads the shape from the four corners of the component: the inset of each row from the box
 * side, walked from the top (or bottom) row inwards, fills a c × t0 corner box to a share q —
 * about 0.5 for a straight diagonal (octagon), 0.2–0.35 for an arc (circle, rounded corner),
 * near 1 for a step (a thumbnail box cut into the corner), which is left out of the vote.
 */
export function classifyShape(left: Int32Array, right: Int32Array, gTop: number, gBottom: number, gLeft: number, gRight: number): ActiveAreaShape {
  const heightG = gBottom - gTop + 1,
    widthG = gRight - gLeft + 1;
  const half = Math.max(1, Math.floor(heightG / 2));
  const corners: { kind: CornerKind; depth: number }[] = [];
  for (const fromTop of [true, false]) {
    for (const isLeft of [true, false]) {
      const inset: number[] = [];
      for (let t = 0; t < half; t++) {
        const gy = fromTop ? gTop + t : gBottom - t;
        if (left[gy] < 0) {
          inset.push(widthG);
          continue;
        }
        inset.push(isLeft ? left[gy] - gLeft : gRight - right[gy]);
      }
      corners.push(cornerKind(inset, widthG, heightG));
    }
  }
  const votes = corners.filter((c) => c.kind !== 'notch');
  if (votes.length === 0) return 'irregular';
  const count = (k: CornerKind): number => votes.filter((c) => c.kind === k).length;
  const sq = count('square'),
    dia = count('diagonal'),
    arc = count('arc');
  if (sq > dia && sq > arc) return 'rectangle';
  if (dia >= arc && dia > 0) return 'octagon';
  if (arc > 0) {
    const arcs = votes.filter((c) => c.kind === 'arc');
    const depth = arcs.reduce((s, c) => s + c.depth, 0) / arcs.length;
    // A circle's corner arc runs most of the way to the middle row; a rounded rectangle's does not.
    return depth >= 0.3 * heightG ? 'circle' : 'rounded-rectangle';
  }
  return 'rectangle';
}

function cornerKind(inset: number[], widthG: number, heightG: number): { kind: CornerKind; depth: number } {
  const c = Math.max(inset[0] ?? 0, inset[1] ?? 0);
  let t0 = inset.length;
  // The corner ends where the outline comes within 6 % of c of the side: enough slack for a soft,
  // vignetted edge that never quite reaches it, too little to cut an arc's creeping tail so short
  // that the arc looks straight.
  const slack = Math.floor(0.06 * c);
  for (let t = 0; t < inset.length; t++)
    if (inset[t] <= slack) {
      t0 = t;
      break;
    }
  if (c <= Math.max(1, 0.03 * widthG) && t0 <= Math.max(1, 0.03 * heightG)) return { kind: 'square', depth: t0 };
  let sum = 0;
  // Trapezoid rule (half the first row): a straight diagonal then fills exactly half the box.
  for (let t = 0; t < t0; t++) sum += Math.min(inset[t], c) * (t === 0 ? 0.5 : 1);
  const q = sum / Math.max(1, c * t0);
  if (q >= 0.75) return { kind: 'notch', depth: t0 };
  return { kind: q >= 0.4 ? 'diagonal' : 'arc', depth: t0 };
}
