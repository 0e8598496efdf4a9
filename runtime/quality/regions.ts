import type { Rect } from '../frame.js';
import type { AnalysisGrid } from './analysis-grid.js';

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

/** Why a region hides the mucosa; 'usable' when nothing does. */
export type RegionState = 'usable' | 'dark' | 'overexposed' | 'bleeding' | 'bubbles';

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

/** Cuts the grid into regions and judges each. */
export function judgeRegions(grid: AnalysisGrid): RegionMap {
  const { gw, gh, valid, luma, r, g, b, white, rect, cellPx } = grid;
  const side = Math.max(1, Math.ceil(Math.max(gw, gh) / REGIONS_ACROSS));
  const cols = Math.max(1, Math.round(gw / side)), rows = Math.max(1, Math.round(gh / side));
  const regions: Region[] = [];
  for (let ty = 0; ty < rows; ty++) {
    const y0 = Math.floor((ty * gh) / rows), y1 = Math.floor(((ty + 1) * gh) / rows);
    for (let tx = 0; tx < cols; tx++) {
      const x0 = Math.floor((tx * gw) / cols), x1 = Math.floor(((tx + 1) * gw) / cols);
      let n = 0, dark = 0, clipped = 0, blood = 0, patches = 0, hi = 0;
      for (let py = y0; py < y1; py += HIGHLIGHT_PATCH) {
        for (let px = x0; px < x1; px += HIGHLIGHT_PATCH) {
          let any = false, lit = false;
          for (let y = py; y < Math.min(y1, py + HIGHLIGHT_PATCH); y++) {
            for (let x = px; x < Math.min(x1, px + HIGHLIGHT_PATCH); x++) {
              const c = y * gw + x;
              if (!valid[c]) continue;
              n++;
              any = true;
              const l = luma[c];
              if (l < CELL_LIMITS.darkLuma) dark++;
              else if (l >= CELL_LIMITS.clippedLuma || Math.min(r[c], g[c], b[c]) >= CELL_LIMITS.washedOut) clipped++;
              else if (isBloodCell(r[c], g[c], b[c])) blood++;
              if (white[c] >= CELL_LIMITS.whiteLevel) lit = true;
            }
          }
          if (any) patches++;
          if (lit) hi++;
        }
      }
      // A region mostly in the black corners is not picture: judged by too few cells.
      if (n < 0.5 * (x1 - x0) * (y1 - y0)) continue;
      const s = { dark: dark / n, clipped: clipped / n, blood: blood / n, highlights: hi / patches };
      regions.push({
        rect: {
          x: Math.round(rect.x + x0 * cellPx), y: Math.round(rect.y + y0 * cellPx),
          width: Math.round((x1 - x0) * cellPx), height: Math.round((y1 - y0) * cellPx),
        },
        state: stateOf(s),
        ...s,
      });
    }
  }
  return { cols, rows, regions };
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
