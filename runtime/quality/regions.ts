import type { Rect } from '../frame.js';
import type { AnalysisGrid } from './analysis-grid.js';
import type { RegionCause } from './gate-reasons.js';
import { kernels } from '../native/kernels.js';

/**
 * Regions of the picture and what hides the mucosa in each. The ROI is cut into square regions,
 * REGIONS_ACROSS along its longer side (8: each about 1/8 of the picture wide, the size of a
 * small polyp in view); every region is judged on its own from its analysis cells. A region is
 * unusable when most of it is shadow, blown out, blood, or strewn with highlights; the gate then
 * asks how much of the picture is usable, never whether some part of it glares.
 */

/** Regions along the ROI's longer side. */
export const REGIONS_ACROSS = 8;
/** Cells per side of a highlight patch (4: about 1/64 of the picture wide). */
const HIGHLIGHT_PATCH = 4;

/** Why a region hides the mucosa (a region cause of gate-reasons.ts); 'usable' when nothing does. */
export type RegionState = 'usable' | RegionCause;

/** Cell-level limits (0–255 levels); see docs/conditioning.md for how they were chosen. */
export const CELL_LIMITS = Object.freeze({
  /** Cell mean luma below this is shadow. */
  darkLuma: 25,
  /** Cell mean luma at or above this is blown out. */
  clippedLuma: 230,
  /** A cell whose mean R, G and B all reach this is washed out to white: blown out as well. */
  washedOut: 190,
  /** A pixel whose smallest channel reaches this is a white highlight (glint, bubble rim). */
  whiteLevel: 200,
  /**
   * Blood: red clearly above the floor and green and blue far below it (mean G ≤ 0.3·R,
   * B ≤ 0.45·R). Mucosa, polyps and red lesions keep G at 0.35–0.7 of R; fresh blood and clots
   * absorb green almost entirely.
   */
  bloodMinRed: 45,
  bloodMaxGreenRatio: 0.2,
  bloodMaxBlueRatio: 0.45,
});

/** Region-level limits: the share of a region's cells that makes it unusable. */
export const REGION_LIMITS = Object.freeze({
  /** Shadow, blown-out and blood cells together (each alone decides the state when it dominates). */
  hidden: 0.5,
  /**
   * Patches (HIGHLIGHT_PATCH² cells, about 1/64 of the picture wide) holding a white highlight:
   * froth leaves hardly a patch without a bubble rim; glints on wet mucosa cluster on its crests.
   */
  highlights: 0.6,
});

/** One region's judgement. */
export interface Region {
  /** Region in frame pixels. */
  readonly rect: Rect;
  readonly state: RegionState;
  /** Shares (0–1) of the region's picture cells that are shadow, blown out, blood; share of its patches holding a highlight. */
  readonly dark: number;
  readonly clipped: number;
  readonly blood: number;
  readonly highlights: number;
}

/** The picture's regions; regions mostly outside the picture (black corners) are left out. */
export interface RegionMap {
  /** Regions across and down. */
  readonly cols: number;
  readonly rows: number;
  readonly regions: Region[];
}

/** Whether a cell's mean colour is blood (fresh or clotted). */
export function isBloodCell(r: number, g: number, b: number): boolean {
  return r >= CELL_LIMITS.bloodMinRed && g <= CELL_LIMITS.bloodMaxGreenRatio * r && b <= CELL_LIMITS.bloodMaxBlueRatio * r;
}

/**
 * When a cell carries focus information (cellKind): not bright — clipped, or lit by a glint at
 * mean luma brightLitLuma or more — not dark, and its whitest pixel at most slope × luma +
 * offset, so that a glint (a pixel whose smallest channel beats the mean) is not taken for detail.
 */
export const FOCUS_RULE = Object.freeze({ slope: 1.15, offset: 10, brightLitLuma: 150 });

/** Bits of a cell's kind (AnalysisGrid.kind): what the cell shows, decided once per frame. */
export const KIND = Object.freeze({ dark: 1, clipped: 2, blood: 4, lit: 8, focus: 16 });

// The cell limits as plain constants for cellKind, which runs once per cell (~60 k per frame).
const DARK_LUMA = CELL_LIMITS.darkLuma,
  CLIPPED_LUMA = CELL_LIMITS.clippedLuma,
  WASHED_OUT = CELL_LIMITS.washedOut,
  WHITE_LEVEL = CELL_LIMITS.whiteLevel,
  BLOOD_MIN_RED = CELL_LIMITS.bloodMinRed,
  BLOOD_GREEN = CELL_LIMITS.bloodMaxGreenRatio,
  BLOOD_BLUE = CELL_LIMITS.bloodMaxBlueRatio,
  FOCUS_SLOPE = FOCUS_RULE.slope,
  FOCUS_OFFSET = FOCUS_RULE.offset,
  BRIGHT_LIT_LUMA = FOCUS_RULE.brightLitLuma;

/**
 * The kind of a cell of mean luma l, mean colour r, g, b and whitest pixel `white`: shadow,
 * blown out or blood (at most one of the three, in that order of precedence), holding a white
 * highlight, and whether it carries focus information (sharpness.ts).
 */
export function cellKind(l: number, r: number, g: number, b: number, white: number): number {
  let k = 0;
  if (l < DARK_LUMA) k = KIND.dark;
  // min(r, g, b) ≥ washedOut written as all three reaching it: no branch on which channel is least.
  else if (l >= CLIPPED_LUMA || (r >= WASHED_OUT && g >= WASHED_OUT && b >= WASHED_OUT)) k = KIND.clipped;
  else if (r >= BLOOD_MIN_RED && g <= BLOOD_GREEN * r && b <= BLOOD_BLUE * r) k = KIND.blood;
  const lit = white >= WHITE_LEVEL;
  if (lit) k |= KIND.lit;
  // Shadow and clipped highlights carry no focus information, and glints stay sharp in a blurred
  // frame. A glint is told by a pixel whose smallest channel beats the cell's mean luma — true at
  // any exposure, so a dimmed frame does not turn its glints into 'detail'.
  const bright = l >= CLIPPED_LUMA || (lit && l >= BRIGHT_LIT_LUMA);
  if (!bright && l >= DARK_LUMA && white <= FOCUS_SLOPE * l + FOCUS_OFFSET) k |= KIND.focus;
  return k;
}

/** The cut of a gw × gh grid into regions and highlight patches, which depends on its size only. */
interface Layout {
  readonly gw: number;
  readonly gh: number;
  readonly cols: number;
  readonly rows: number;
  readonly xs: Int32Array;
  readonly ys: Int32Array;
  readonly px: PatchIndex;
  readonly py: PatchIndex;
  /** The layout as the compiled counting pass takes it (grid-measures.c regionCounts). */
  readonly packed: Int32Array;
  /** Per-region counts (n, dark, clipped, blood: views of one array) and per-patch flags (any, lit: of another), cleared and reused from frame to frame. */
  readonly counts: Int32Array;
  readonly flags: Uint8Array;
  readonly n: Int32Array;
  readonly dark: Int32Array;
  readonly clipped: Int32Array;
  readonly blood: Int32Array;
  readonly patches: Int32Array;
  readonly hi: Int32Array;
  readonly any: Uint8Array;
  readonly lit: Uint8Array;
}

/** The last grid size's layout: the ROI, hence the grid, holds still for seconds. */
let layoutCache: Layout | null = null;

function layoutOf(gw: number, gh: number): Layout {
  if (layoutCache?.gw === gw && layoutCache.gh === gh) {
    const l = layoutCache;
    for (const a of [l.counts, l.flags, l.patches, l.hi]) a.fill(0);
    return l;
  }
  const side = Math.max(1, Math.ceil(Math.max(gw, gh) / REGIONS_ACROSS));
  const cols = Math.max(1, Math.round(gw / side)),
    rows = Math.max(1, Math.round(gh / side));
  const xs = cuts(gw, cols),
    ys = cuts(gh, rows);
  const px = patchIndex(xs),
    py = patchIndex(ys);
  const nReg = cols * rows,
    nPatch = px.count * py.count;
  const counts = new Int32Array(4 * nReg),
    flags = new Uint8Array(2 * nPatch);
  const head = [gw, gh, cols, px.count, KIND.dark, KIND.clipped, KIND.blood, KIND.lit];
  layoutCache = {
    gw,
    gh,
    cols,
    rows,
    xs,
    ys,
    px,
    py,
    packed: Int32Array.from([...head, ...xs, ...py.region, ...py.patch, ...px.patch]),
    counts,
    flags,
    n: counts.subarray(0, nReg),
    dark: counts.subarray(nReg, 2 * nReg),
    clipped: counts.subarray(2 * nReg, 3 * nReg),
    blood: counts.subarray(3 * nReg),
    patches: new Int32Array(nReg),
    hi: new Int32Array(nReg),
    any: flags.subarray(0, nPatch),
    lit: flags.subarray(nPatch),
  };
  return layoutCache;
}

/**
 * Cuts the grid into regions and judges each: one pass over the cells (compiled when the loops
 * are built, native/kernels.ts, unless `javascript` asks for this one; both count the same), one
 * over the patches.
 */
export function judgeRegions(grid: AnalysisGrid, javascript = false): RegionMap {
  const { gw, gh, valid, kind } = grid;
  const layout = layoutOf(gw, gh);
  if (kernels && !javascript) kernels.regionCounts(valid, kind, layout.packed, layout.counts, layout.flags);
  else countCells(grid, layout);
  return regionsOf(grid, layout);
}

/** The counting pass in JavaScript: picture, shadow, blown-out and blood cells per region; picture and highlights per patch. */
function countCells(grid: AnalysisGrid, layout: Layout): void {
  const { gw, gh, valid, kind } = grid;
  const { cols, xs, px, py, n, dark, clipped, blood, any, lit } = layout;
  const pw = px.count;
  // Counted in locals along each row's run of cells inside one region, then added once; the run
  // is taken a highlight patch (HIGHLIGHT_PATCH cells from the region's start) at a time, so that
  // a patch's flags are written once. No branch per cell: m is -1 for a picture cell, 0 otherwise.
  for (let y = 0; y < gh; y++) {
    const regRow = py.region[y] * cols,
      patchRow = py.patch[y] * pw;
    for (let tx = 0; tx < cols; tx++) {
      let cn = 0,
        cd = 0,
        cc = 0,
        cb = 0;
      const end = xs[tx + 1];
      for (let x = xs[tx], c = y * gw + x; x < end;) {
        const stop = Math.min(end, x + HIGHLIGHT_PATCH);
        let seen = 0,
          kinds = 0;
        const patch = patchRow + px.patch[x];
        for (; x < stop; x++, c++) {
          const m = -valid[c] >> 31,
            k = kind[c] & m;
          cn -= m;
          cd += k & KIND.dark;
          cc += k & KIND.clipped;
          cb += k & KIND.blood;
          kinds |= k;
          seen |= m;
        }
        if (seen) any[patch] = 1;
        if (kinds & KIND.lit) lit[patch] = 1;
      }
      const reg = regRow + tx;
      n[reg] += cn;
      dark[reg] += cd;
      clipped[reg] += cc >> 1;
      blood[reg] += cb >> 2;
    }
  }
}

/** Each region's shares and state from the counts. */
function regionsOf(grid: AnalysisGrid, layout: Layout): RegionMap {
  const { rect, cellPx } = grid;
  const { cols, rows, xs, ys, px, py, n, dark, clipped, blood, patches, hi, any, lit } = layout;
  const pw = px.count;
  for (let yy = 0; yy < py.count; yy++) {
    for (let xx = 0; xx < pw; xx++) {
      const reg = py.regionOfPatch[yy] * cols + px.regionOfPatch[xx];
      patches[reg] += any[yy * pw + xx];
      hi[reg] += lit[yy * pw + xx];
    }
  }
  const regions: Region[] = [];
  for (let ty = 0; ty < rows; ty++) {
    const y0 = ys[ty],
      y1 = ys[ty + 1];
    for (let tx = 0; tx < cols; tx++) {
      const x0 = xs[tx],
        x1 = xs[tx + 1];
      const k = ty * cols + tx;
      // A region mostly in the black corners is not picture: judged by too few cells.
      if (n[k] < 0.5 * (x1 - x0) * (y1 - y0)) continue;
      const s = { dark: dark[k] / n[k], clipped: clipped[k] / n[k], blood: blood[k] / n[k], highlights: hi[k] / patches[k] };
      regions.push({
        rect: {
          x: Math.round(rect.x + x0 * cellPx),
          y: Math.round(rect.y + y0 * cellPx),
          width: Math.round((x1 - x0) * cellPx),
          height: Math.round((y1 - y0) * cellPx),
        },
        state: stateOf(s),
        ...s,
      });
    }
  }
  return { cols, rows, regions };
}

/** Region boundaries along one axis: parts + 1 cell indices from 0 to cells. */
function cuts(cells: number, parts: number): Int32Array {
  const at = new Int32Array(parts + 1);
  for (let i = 0; i <= parts; i++) at[i] = Math.floor((i * cells) / parts);
  return at;
}

interface PatchIndex {
  readonly region: Int32Array;
  readonly patch: Int32Array;
  readonly regionOfPatch: Int32Array;
  readonly count: number;
}

/**
 * Along one axis: each cell's region, and its highlight patch (HIGHLIGHT_PATCH cells counted from
 * its region's start, so no patch straddles two regions), numbered across the whole axis.
 */
function patchIndex(at: Int32Array): PatchIndex {
  const cells = at[at.length - 1];
  const region = new Int32Array(cells),
    patch = new Int32Array(cells);
  const owners: number[] = [];
  for (let t = 0; t + 1 < at.length; t++) {
    const first = owners.length;
    for (let x = at[t]; x < at[t + 1]; x++) {
      region[x] = t;
      patch[x] = first + Math.floor((x - at[t]) / HIGHLIGHT_PATCH);
      if (patch[x] === owners.length) owners.push(t);
    }
  }
  return { region, patch, regionOfPatch: Int32Array.from(owners), count: owners.length };
}

function stateOf(s: { dark: number; clipped: number; blood: number; highlights: number }): RegionState {
  if (s.dark + s.clipped + s.blood >= REGION_LIMITS.hidden) {
    // The largest of the three names it: a region half shadow, half clot is called by the larger.
    if (s.dark >= s.clipped && s.dark >= s.blood) return 'dark';
    return s.clipped >= s.blood ? 'overexposed' : 'bleeding';
  }
  if (s.highlights >= REGION_LIMITS.highlights) return 'bubbles';
  return 'usable';
}
