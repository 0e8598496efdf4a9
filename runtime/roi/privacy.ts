import type { Frame, Rect } from '../frame.js';
import { spanAt, type ActiveArea } from './active-area.js';

/**
 * Privacy masking: burned-in patient data (the processor's on-screen text) must never reach a
 * model or a published frame. Two tools: blacking out fixed regions a technician has set, and
 * blacking out everything outside the active area (OSD text in the border and corners). And a
 * finder, findBurnedInText, that proposes regions for the technician to confirm.
 */

/** RGBA fill written over masked pixels; default opaque black [0, 0, 0, 255]. */
export type MaskFill = readonly [number, number, number, number];

const BLACK: MaskFill = [0, 0, 0, 255];

/** Overwrites every pixel inside the regions (frame pixels, clipped to the buffer) with fill; returns the pixel count written. */
export function applyPrivacyMask(data: Uint8Array, width: number, height: number, regions: readonly Rect[], fill: MaskFill = BLACK): number {
  let n = 0;
  for (const r of regions) {
    // Rounding outwards: a fractional region from a model-space mapping must cover every pixel it touches.
    const x0 = Math.max(0, Math.floor(r.x)),
      y0 = Math.max(0, Math.floor(r.y));
    const x1 = Math.min(width, Math.ceil(r.x + r.width)),
      y1 = Math.min(height, Math.ceil(r.y + r.height));
    for (let y = y0; y < y1; y++) {
      for (let i = (y * width + x0) * 4, end = (y * width + x1) * 4; i < end; i += 4) {
        data[i] = fill[0];
        data[i + 1] = fill[1];
        data[i + 2] = fill[2];
        data[i + 3] = fill[3];
        n++;
      }
    }
  }
  return n;
}

/** Overwrites every pixel outside the active area's outline (the border, a circle's or octagon's corners) with fill; returns the count. */
export function blackOutsideArea(data: Uint8Array, width: number, height: number, area: ActiveArea, fill: MaskFill = BLACK): number {
  let n = 0;
  const paint = (y: number, x0: number, x1: number): void => {
    for (let i = (y * width + x0) * 4, end = (y * width + x1) * 4; i < end; i += 4) {
      data[i] = fill[0];
      data[i + 1] = fill[1];
      data[i + 2] = fill[2];
      data[i + 3] = fill[3];
      n++;
    }
  };
  for (let y = 0; y < height; y++) {
    const span = area.shape === 'none' ? null : spanAt(area, y);
    if (!span) {
      paint(y, 0, width);
      continue;
    }
    paint(y, 0, Math.max(0, Math.min(width, span[0])));
    paint(y, Math.max(0, Math.min(width, span[1] + 1)), width);
  }
  return n;
}

/** A block of likely burned-in text, in frame pixels. */
export interface TextBox {
  readonly rect: Rect;
  /** 0–1: grows with the number of glyphs, their alignment on common lines and their equal height. */
  readonly confidence: number;
  readonly lines: number;
  readonly glyphs: number;
  /** True when the text sits on the black border rather than over the picture. */
  readonly onBorder: boolean;
}

/** Options of findBurnedInText; every field is optional. */
export interface TextFinderOptions {
  /** Least luma (0–255) of a glyph pixel; default 140. */
  readonly minLuma?: number;
  /** Least luma above the local mean for a glyph pixel; default 40. */
  readonly minContrast?: number;
  /** Most max−min of R, G, B for a glyph pixel (text is near white, mucosa is red); default 140. */
  readonly maxChroma?: number;
  /** Glyph height range in pixels; default [6, max(24, height / 12)]. */
  readonly glyphHeight?: readonly [number, number];
  /** Blocks below this confidence are dropped; default 0.3. */
  readonly minConfidence?: number;
}

interface Glyph {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  n: number;
}

/**
 * Finds likely burned-in text: bright near-white thin-stroked components of equal height lined up
 * in rows, grouped into blocks. Searches roi (default the whole frame); full resolution, about
 * 25 ms at 1920×1080, meant for setting up privacy regions rather than for every frame.
 */
export function findBurnedInText(frame: Frame, roi?: Rect, opts: TextFinderOptions = {}): TextBox[] {
  const { width: W, height: H, data } = frame;
  const rx = Math.max(0, Math.floor(roi?.x ?? 0)),
    ry = Math.max(0, Math.floor(roi?.y ?? 0));
  const rw = Math.min(W - rx, Math.floor(roi?.width ?? W)),
    rh = Math.min(H - ry, Math.floor(roi?.height ?? H));
  if (rw <= 2 || rh <= 2) return [];
  const minLuma = opts.minLuma ?? 140,
    minContrast = opts.minContrast ?? 40,
    maxChroma = opts.maxChroma ?? 140;
  const [hMin, hMax] = opts.glyphHeight ?? [6, Math.max(24, Math.round(H / 12))];

  // Luma and its integral image, for the local mean that a glyph must stand out from.
  const luma = new Uint8Array(rw * rh);
  const chromaOk = new Uint8Array(rw * rh);
  const integral = new Float64Array((rw + 1) * (rh + 1));
  for (let y = 0; y < rh; y++) {
    let rowSum = 0;
    for (let x = 0; x < rw; x++) {
      const i = ((ry + y) * W + rx + x) * 4;
      const r = data[i],
        g = data[i + 1],
        b = data[i + 2];
      const l = (77 * r + 150 * g + 29 * b) >> 8;
      const mx = Math.max(r, g, b),
        mn = Math.min(r, g, b);
      luma[y * rw + x] = l;
      chromaOk[y * rw + x] = mx - mn <= maxChroma ? 1 : 0;
      rowSum += l;
      integral[(y + 1) * (rw + 1) + x + 1] = integral[y * (rw + 1) + x + 1] + rowSum;
    }
  }
  const rad = Math.max(5, Math.round(hMax / 3));
  const bright = new Uint8Array(rw * rh);
  for (let y = 0; y < rh; y++) {
    const ya = Math.max(0, y - rad),
      yb = Math.min(rh, y + rad + 1);
    for (let x = 0; x < rw; x++) {
      const p = y * rw + x;
      const l = luma[p];
      if (l < minLuma || !chromaOk[p]) continue;
      const xa = Math.max(0, x - rad),
        xb = Math.min(rw, x + rad + 1);
      const sum = integral[yb * (rw + 1) + xb] - integral[ya * (rw + 1) + xb] - integral[yb * (rw + 1) + xa] + integral[ya * (rw + 1) + xa];
      if (l - sum / ((xb - xa) * (yb - ya)) >= minContrast) bright[p] = 1;
    }
  }

  const glyphs = glyphComponents(bright, rw, rh, hMin, hMax);
  const lines = groupLines(glyphs);
  const blocks = groupBlocks(lines);

  const out: TextBox[] = [];
  for (const block of blocks) {
    const gs = block.flat();
    const confidence = blockConfidence(block);
    const x0 = Math.min(...gs.map((g) => g.x0)),
      x1 = Math.max(...gs.map((g) => g.x1));
    const y0 = Math.min(...gs.map((g) => g.y0)),
      y1 = Math.max(...gs.map((g) => g.y1));
    // The block's background: dark (the border) or picture? Sample pixels that are not glyph strokes.
    let dark = 0,
      bg = 0;
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        if (bright[y * rw + x]) continue;
        bg++;
        if (luma[y * rw + x] < 40) dark++;
      }
    }
    const onBorder = bg > 0 && dark / bg >= 0.6;
    // Text on a black border is what an OSD draws; bright speckle on mucosa never has that background.
    const conf = onBorder ? 1 - (1 - confidence) * 0.5 : confidence;
    if (conf < (opts.minConfidence ?? 0.3)) continue;
    const pad = 2;
    const bx = Math.max(0, rx + x0 - pad),
      by = Math.max(0, ry + y0 - pad);
    out.push({
      rect: { x: bx, y: by, width: Math.min(W, rx + x1 + pad + 1) - bx, height: Math.min(H, ry + y1 + pad + 1) - by },
      confidence: Math.round(conf * 1000) / 1000,
      lines: block.length,
      glyphs: gs.length,
      onBorder,
    });
  }
  return out.sort((a, b) => b.confidence - a.confidence);
}

/** 8-connected components of the bright mask that look like glyphs: tall enough, thin-stroked. */
function glyphComponents(m: Uint8Array, w: number, h: number, hMin: number, hMax: number): Glyph[] {
  const seen = new Uint8Array(m.length);
  const stack = new Int32Array(m.length);
  const out: Glyph[] = [];
  for (let s = 0; s < m.length; s++) {
    if (!m[s] || seen[s]) continue;
    let sp = 0,
      n = 0,
      x0 = w,
      y0 = h,
      x1 = -1,
      y1 = -1;
    stack[sp++] = s;
    seen[s] = 1;
    while (sp > 0) {
      const i = stack[--sp];
      const x = i % w,
        y = (i - x) / w;
      n++;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= w) continue;
          const j = yy * w + xx;
          if (m[j] && !seen[j]) {
            seen[j] = 1;
            stack[sp++] = j;
          }
        }
      }
    }
    const gw = x1 - x0 + 1,
      gh = y1 - y0 + 1;
    if (gh < hMin || gh > hMax || gw > 3.5 * gh) continue;
    const fill = n / (gw * gh);
    // Strokes, not blobs: a specular highlight is a filled disc (fill ≈ 0.8); glyphs fill about
    // half their box, except thin bars such as "1", "l" or "/".
    if (fill > 0.7 && gw > 0.45 * gh) continue;
    out.push({ x0, y0, x1, y1, n });
  }
  return out;
}

/** Links glyphs of similar height, side by side on a common baseline, into lines (at least 2 glyphs). */
function groupLines(glyphs: Glyph[]): Glyph[][] {
  const parent = glyphs.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]];
    return i;
  };
  const order = glyphs.map((_, i) => i).sort((a, b) => glyphs[a].x0 - glyphs[b].x0);
  for (let a = 0; a < order.length; a++) {
    const ga = glyphs[order[a]];
    const ha = ga.y1 - ga.y0 + 1;
    for (let b = a + 1; b < order.length; b++) {
      const gb = glyphs[order[b]];
      const hb = gb.y1 - gb.y0 + 1;
      const hm = Math.max(ha, hb);
      if (gb.x0 - ga.x1 > 1.5 * hm) break;
      if (Math.max(ha, hb) / Math.min(ha, hb) > 1.6) continue;
      if (Math.abs(ga.y1 - gb.y1) > 0.3 * hm && Math.abs(ga.y0 + ga.y1 - (gb.y0 + gb.y1)) / 2 > 0.3 * hm) continue;
      parent[find(order[a])] = find(order[b]);
    }
  }
  const sets = new Map<number, Glyph[]>();
  glyphs.forEach((g, i) => {
    const r = find(i);
    if (!sets.has(r)) sets.set(r, []);
    sets.get(r)!.push(g);
  });
  return [...sets.values()].filter((l) => l.length >= 2);
}

/** Stacks lines that overlap horizontally and lie within 1.6 line heights of each other into blocks. */
function groupBlocks(lines: Glyph[][]): Glyph[][][] {
  const box = lines.map((l) => ({
    x0: Math.min(...l.map((g) => g.x0)),
    x1: Math.max(...l.map((g) => g.x1)),
    y0: Math.min(...l.map((g) => g.y0)),
    y1: Math.max(...l.map((g) => g.y1)),
  }));
  const parent = lines.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]];
    return i;
  };
  for (let a = 0; a < lines.length; a++) {
    for (let b = a + 1; b < lines.length; b++) {
      const A = box[a],
        B = box[b];
      const lh = Math.max(A.y1 - A.y0, B.y1 - B.y0) + 1;
      const vGap = Math.max(A.y0, B.y0) - Math.min(A.y1, B.y1);
      const hOverlap = Math.min(A.x1, B.x1) - Math.max(A.x0, B.x0);
      if (vGap <= 1.6 * lh && hOverlap > -lh) parent[find(a)] = find(b);
    }
  }
  const sets = new Map<number, Glyph[][]>();
  lines.forEach((l, i) => {
    const r = find(i);
    if (!sets.has(r)) sets.set(r, []);
    sets.get(r)!.push(l);
  });
  return [...sets.values()];
}

/** Confidence of a block: glyph count, shared baselines, equal heights, more than one line. */
function blockConfidence(block: Glyph[][]): number {
  const gs = block.flat();
  const heights = gs.map((g) => g.y1 - g.y0 + 1).sort((a, b) => a - b);
  const hMed = heights[heights.length >> 1];
  const even = gs.filter((g) => Math.abs(g.y1 - g.y0 + 1 - hMed) <= 0.25 * hMed).length / gs.length;
  let aligned = 0;
  for (const line of block) {
    const bottoms = line.map((g) => g.y1).sort((a, b) => a - b);
    const bMed = bottoms[bottoms.length >> 1];
    aligned += line.filter((g) => Math.abs(g.y1 - bMed) <= Math.max(1, 0.15 * hMed)).length;
  }
  const count = 1 - Math.exp(-gs.length / 6);
  return count * even * (aligned / gs.length) * (block.length >= 2 ? 1 : 0.75);
}
