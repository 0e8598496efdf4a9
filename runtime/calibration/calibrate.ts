// calibration/: `lumen calibrate`: the quality gate, ROI and text finder run over a folder of real frames,
// with the figures a site tunes its thresholds by.
import { isLumenError, messageOf } from '../errors.js';
import type { Frame, Rect } from '../frame.js';
import { QUALITY_REASONS, type QualityReason, type QualityScores } from '../quality/quality-gate.js';
import type { RegionState } from '../quality/regions.js';
import { findBurnedInText } from '../roi/privacy.js';
import { judgeFrame, lesionKept, type SiteSettings } from './site-view.js';
import { listStills, loadMask, loadStill, type StillEntry } from './stills.js';

/**
 * Calibration: the gate, the ROI and the text finder over a folder of real frames, with the
 * figures a site or a release needs — frames gated per reason, lesion frames gated (where masks
 * are given), lesion pixels the ROI keeps, text blocks found. docs/conditioning.md.
 */

/** Text blocks at or above this confidence are counted (the finder's reliable range). */
export const TEXT_CONFIDENCE = 0.5;

/** What calibration found on one frame. */
export interface CalibrationRecord {
  name: string;
  width: number;
  height: number;
  /** Size the gate saw (after scaling to the analysis box). */
  analysedWidth: number;
  analysedHeight: number;
  roi: Rect;
  shape: string;
  gated: boolean;
  reasons: QualityReason[];
  scores: QualityScores | null;
  explanation: string[];
  /** Lesion pixels in the mask and how many reach the models; null without a mask. */
  lesionPx: number | null;
  lesionKeptPx: number | null;
  /** Lesion pixels inside the ROI rectangle; null without a mask. */
  lesionInRoiPx: number | null;
  /** Text blocks found (confidence ≥ TEXT_CONFIDENCE), full-frame pixels. */
  text: { x: number; y: number; width: number; height: number; confidence: number; inPicture: boolean }[];
  /** Each region of the picture (analysed-frame pixels) and its state; null when the gate is off. */
  regions: { cols: number; rows: number; cells: { rect: Rect; state: RegionState }[] } | null;
}

/** A frame that could not be judged, with its error code. */
export interface CalibrationError {
  name: string;
  code: string;
  message: string;
}

export interface CalibrationSummary {
  frames: number;
  errors: number;
  /** Frames gated, and frames gated per reason (a frame may have several). */
  gated: number;
  gatedBy: Record<QualityReason, number>;
  /** Frames with lesion pixels in their mask, and how many of them the gate held back. */
  lesionFrames: number;
  lesionFramesGated: number;
  /** Lesion pixels in all masks, and the share that reaches the models (inside the ROI, not privacy-masked). */
  lesionPx: number;
  lesionKeptPx: number;
  lesionKeptShare: number | null;
  /** Lesion pixels inside the ROI rectangle (the outline, above, also leaves out a circle's or octagon's corners). */
  lesionInRoiPx: number;
  /** Lesion frames that lose any lesion pixel to the ROI or a privacy mask. */
  lesionFramesCut: number;
  /** Frames with at least one text block, and blocks in all. */
  framesWithText: number;
  textBlocks: number;
  /** Least usable share seen on a frame that passed, and on a lesion frame. */
  minUsable: number | null;
  /** Mean ms per frame: reading, and ROI + gate. */
  msRead: number;
  msGate: number;
}

export interface CalibrationResult {
  folder: string;
  settings: SiteSettings;
  summary: CalibrationSummary;
  records: CalibrationRecord[];
  errors: CalibrationError[];
}

/**
 * Runs every frame under folder; a bad frame is recorded with its code and the rest go on.
 * `keep(record, analysed)` is called for each judged frame (e.g. to keep thumbnails of the gated ones).
 */
export async function calibrate(
  folder: string,
  settings: SiteSettings,
  opts: { onFrame?: (done: number, total: number) => void; keep?: (r: CalibrationRecord, analysed: Frame) => Promise<void> } = {},
): Promise<CalibrationResult> {
  const entries = await listStills(folder);
  const records: CalibrationRecord[] = [];
  const errors: CalibrationError[] = [];
  let msRead = 0,
    msGate = 0;
  for (const [i, e] of entries.entries()) {
    try {
      let t = performance.now();
      const frame = await loadStill(e.image);
      const mask = e.mask ? await loadMask(e.mask, frame.width, frame.height, e.image) : null;
      msRead += performance.now() - t;
      t = performance.now();
      const j = judgeFrame(frame, settings);
      msGate += performance.now() - t;
      const r = record(e, frame, j, mask, settings);
      records.push(r);
      await opts.keep?.(r, j.analysed);
    } catch (err) {
      if (!isLumenError(err)) throw err;
      errors.push({ name: e.name, code: err.code, message: messageOf(err) });
    }
    opts.onFrame?.(i + 1, entries.length);
  }
  return { folder, settings, summary: summarise(records, errors, msRead, msGate), records, errors };
}

function record(e: StillEntry, frame: Frame, j: ReturnType<typeof judgeFrame>, mask: Uint8Array | null, s: SiteSettings): CalibrationRecord {
  const kept = mask ? lesionKept(mask, frame.width, frame.height, j, s.privacyMasks) : null;
  const text = findBurnedInText(j.masked)
    .filter((b) => b.confidence >= TEXT_CONFIDENCE)
    .map((b) => ({ ...b.rect, confidence: b.confidence, inPicture: !b.onBorder }));
  const q = j.quality;
  return {
    name: e.name,
    width: frame.width,
    height: frame.height,
    analysedWidth: j.analysed.width,
    analysedHeight: j.analysed.height,
    roi: j.roi,
    shape: j.shape,
    gated: q?.gated ?? false,
    reasons: q?.reasons ?? [],
    scores: q ? (Object.fromEntries(Object.entries(q.scores).map(([k, v]) => [k, Math.round((v as number) * 1000) / 1000])) as unknown as QualityScores) : null,
    explanation: q?.explanation ?? ['quality gate off in this config'],
    lesionPx: kept ? kept.lesion : null,
    lesionKeptPx: kept ? kept.kept : null,
    lesionInRoiPx: kept ? kept.inRect : null,
    text,
    regions: q ? { cols: q.regions.cols, rows: q.regions.rows, cells: q.regions.regions.map((g) => ({ rect: g.rect, state: g.state })) } : null,
  };
}

function summarise(records: CalibrationRecord[], errors: CalibrationError[], msRead: number, msGate: number): CalibrationSummary {
  const gatedBy = Object.fromEntries(QUALITY_REASONS.map((r) => [r, 0])) as Record<QualityReason, number>;
  for (const r of records) for (const why of r.reasons) gatedBy[why]++;
  const lesion = records.filter((r) => (r.lesionPx ?? 0) > 0);
  const lesionPx = lesion.reduce((s, r) => s + r.lesionPx!, 0);
  const lesionKeptPx = lesion.reduce((s, r) => s + r.lesionKeptPx!, 0);
  const usable = records.filter((r) => r.scores).map((r) => r.scores!.usableFraction);
  const n = Math.max(1, records.length);
  return {
    frames: records.length + errors.length,
    errors: errors.length,
    gated: records.filter((r) => r.gated).length,
    gatedBy,
    lesionFrames: lesion.length,
    lesionFramesGated: lesion.filter((r) => r.gated).length,
    lesionPx,
    lesionKeptPx,
    lesionInRoiPx: lesion.reduce((s, r) => s + r.lesionInRoiPx!, 0),
    lesionKeptShare: lesionPx ? Math.round((lesionKeptPx / lesionPx) * 1e6) / 1e6 : null,
    lesionFramesCut: lesion.filter((r) => r.lesionKeptPx! < r.lesionPx!).length,
    framesWithText: records.filter((r) => r.text.length > 0).length,
    textBlocks: records.reduce((s, r) => s + r.text.length, 0),
    minUsable: usable.length ? Math.min(...usable) : null,
    msRead: Math.round((msRead / n) * 100) / 100,
    msGate: Math.round((msGate / n) * 100) / 100,
  };
}
