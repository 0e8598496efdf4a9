import type { Frame, Rect } from '../frame.js';
import type { GateShares } from '../publish/protocol.js';
import type { ActiveArea } from '../roi/active-area.js';
import { sampleGrid } from './analysis-grid.js';
import { joinReasons, QUALITY_REASONS, REGION_CAUSES, type GatedReasons, type QualityReason, type RegionCause } from './gate-reasons.js';
import { judgeRegions, type Region, type RegionMap, type RegionState } from './regions.js';
import { sharpnessOf } from './sharpness.js';

/**
 * The frame quality gate: is enough of the picture visible to classify? It judges the picture a
 * clinician sees, region by region (regions.ts): a frame is ungradable when too little of it is
 * usable — most of it in shadow, blown out, under blood or under froth — or when all of it is
 * smeared. Glare on part of the view, a dark lumen beside a lit polyp, a wet polyp covered in
 * glints: the rest of the picture is usable and the frame is classified. docs/conditioning.md
 * gives the figures on 753 real lesion frames and on the generator's artefact episodes.
 */

/** Share of regions each region cause hides (`darkFraction`, `bleedingFraction`…; gate-reasons.ts), 0–1. */
export type CauseFractions = { readonly [C in RegionCause as `${C}Fraction`]: number };

/** Scores of one frame; fractions are 0–1 of the picture's regions (or cells, where said), lumas 0–255. */
export interface QualityScores extends CauseFractions {
  /** Mean luma of the picture (cells). */
  readonly meanLuma: number;
  /** Share of regions where the mucosa can be seen. */
  readonly usableFraction: number;
  /** RMS Laplacian over RMS gradient of the luma grid (sharp real frames 1.1–3.6, heavily blurred 0.3–0.6). */
  readonly sharpness: number;
}

export { QUALITY_REASONS, type QualityReason } from './gate-reasons.js';

/** Limits of the gate. Defaults in DEFAULT_QUALITY_THRESHOLDS. */
export interface QualityThresholds {
  /** Least share of usable regions, 0–1; default 0.4. */
  readonly minUsableFraction: number;
  /** Least sharpness ratio; default 0.8. */
  readonly minSharpness: number;
  /** Least mean luma, 0–255: below it the lamp is off whatever the regions say; default 25. */
  readonly minMeanLuma: number;
}

/** Default thresholds; docs/conditioning.md gives the margins to real frames and to artefacts. */
export const DEFAULT_QUALITY_THRESHOLDS: Readonly<QualityThresholds> = Object.freeze({
  /**
   * Less than a quarter of the picture usable: the rest is shadow, white-out, blood or froth.
   * Real lesion frames (753): at least 0.36, a dark lumen filling most of the view beside a lit
   * polyp. The generator's artefact frames: at most 0.1.
   */
  minUsableFraction: 0.4,
  /**
   * Sharpness below 0.8: vessels and pit pattern are smeared, as by motion or focus blur of about
   * 1 % of the picture's width or more. Real frames: 1.06 or more; blurred by 1.2 %: 0.3–0.6.
   */
  minSharpness: 0.8,
  /** Mean luma below 25/255: the picture is black (lamp off). Real frames: 53 or more. */
  minMeanLuma: 25,
});

/** Result of evaluateQuality. */
export interface QualityResult {
  readonly scores: QualityScores;
  readonly gated: boolean;
  /** Why the frame is gated, in QUALITY_REASONS order; empty when it passes. */
  readonly reasons: QualityReason[];
  /** Each region and what hides it: the per-region detail behind the scores. */
  readonly regions: RegionMap;
  /** One line per measure that decided (or nearly decided): measure, over which part, limit. */
  readonly explanation: string[];
}

/** Each cause's score key, made once: the scores are read per frame. */
const FRACTION_KEY = Object.fromEntries(REGION_CAUSES.map((c) => [c, `${c}Fraction`])) as { [C in RegionCause]: `${C}Fraction` };
const fractionOf = <C extends RegionCause>(cause: C) => FRACTION_KEY[cause];

/** Every cause's share, as `share` gives it. */
function causeFractions(share: (cause: RegionCause) => number): CauseFractions {
  return Object.fromEntries(REGION_CAUSES.map((c) => [fractionOf(c), share(c)])) as CauseFractions;
}

const EMPTY_SCORES: QualityScores = Object.freeze({ meanLuma: 0, usableFraction: 0, ...causeFractions(() => 0), sharpness: 0 });

/**
 * Scores a frame within roi (a Rect, or an ActiveArea whose outline then excludes the black
 * corners) and gates it against thresholds (default DEFAULT_QUALITY_THRESHOLDS). Costs 0.5–1 ms at
 * any frame size (the grid has about 256 cells across the ROI).
 */
export function evaluateQuality(frame: Frame, roi: Rect | ActiveArea, thresholds: Partial<QualityThresholds> = {}): QualityResult {
  const th = { ...DEFAULT_QUALITY_THRESHOLDS, ...thresholds };
  const area = 'rect' in roi ? roi : null;
  const grid = sampleGrid(frame, area ? area.rect : (roi as Rect), area);
  const regions = grid ? judgeRegions(grid) : { cols: 0, rows: 0, regions: [] as Region[] };
  if (!grid || regions.regions.length === 0) {
    return { scores: EMPTY_SCORES, gated: true, reasons: ['no-picture'], regions, explanation: ['no picture in the ROI'] };
  }
  const n = regions.regions.length;
  // Each region's state counted once, not once per cause.
  const counts = new Map<RegionState, number>();
  for (const r of regions.regions) counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
  const share = (s: RegionState) => (counts.get(s) ?? 0) / n;
  const scores: QualityScores = {
    meanLuma: grid.meanLuma,
    usableFraction: share('usable'),
    ...causeFractions(share),
    sharpness: sharpnessOf(grid),
  };

  const reasons = new Set<QualityReason>();
  const explanation: string[] = [];
  const pct = (v: number) => `${Math.round(v * 100)} %`;
  const hidden = REGION_CAUSES.map((cause) => [cause, scores[fractionOf(cause)]] as const)
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1]);
  const what = hidden.map(([s, v]) => `${s} ${pct(v)}`).join(', ') || 'none hidden';
  if (scores.usableFraction < th.minUsableFraction) {
    // Every cause that hides at least half as much as the largest one is named.
    for (const [state, v] of hidden) if (v >= 0.5 * hidden[0][1]) reasons.add(state);
    explanation.push(`usable ${pct(scores.usableFraction)} of ${n} regions < ${pct(th.minUsableFraction)}: ${what}`);
  } else {
    explanation.push(`usable ${pct(scores.usableFraction)} of ${n} regions ≥ ${pct(th.minUsableFraction)} (${what})`);
  }
  if (scores.meanLuma < th.minMeanLuma) {
    reasons.add('dark');
    explanation.push(`mean luma ${scores.meanLuma.toFixed(0)} of the picture < ${th.minMeanLuma}`);
  }
  // Blur is judged over the usable picture; on a frame with no texture left it reads 0.
  if (scores.sharpness < th.minSharpness && !(scores.sharpness === 0 && reasons.size > 0)) {
    reasons.add('blurred');
    explanation.push(`sharpness ${scores.sharpness.toFixed(2)} over the picture < ${th.minSharpness}`);
  } else {
    explanation.push(`sharpness ${scores.sharpness.toFixed(2)} over the picture ≥ ${th.minSharpness}`);
  }
  const ordered = QUALITY_REASONS.filter((r) => reasons.has(r));
  return { scores, gated: ordered.length > 0, reasons: ordered, regions, explanation };
}

/** The gate's reasons as an overlay's `gated` carries them, or null when the frame passed. */
export function gatedOf(q: QualityResult): GatedReasons | null {
  return q.gated ? joinReasons(q.reasons) : null;
}

/** The gate's shares as an overlay publishes them: usable, and each cause that hides any region (two decimals). */
export function gateShares(q: QualityResult): GateShares {
  const r2 = (v: number) => Math.round(v * 100) / 100;
  const hidden: GateShares['hidden'] = {};
  for (const cause of REGION_CAUSES) if (q.scores[fractionOf(cause)] > 0) hidden[cause] = r2(q.scores[fractionOf(cause)]);
  return { usable: r2(q.scores.usableFraction), hidden };
}
