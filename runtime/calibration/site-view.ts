import { analysisOf, type Config } from '../config/schema.js';
import type { Frame, Rect, Size } from '../frame.js';
import { scaleToFit } from '../quality/analysis-size.js';
import { evaluateQuality, type QualityResult, type QualityThresholds } from '../quality/quality-gate.js';
import { findActiveArea, spanAt, type ActiveArea, type ActiveAreaShape } from '../roi/active-area.js';
import { applyPrivacyMask } from '../roi/privacy.js';

/**
 * What the daemon would make of one still frame under a site's config: privacy masks blacked
 * out (full-frame pixels), the frame scaled to the live path's analysis size, the active area
 * found and the quality gate run on that — the live path's order (daemon/frame-processor.ts).
 */

/** The parts of a site config the frame conditioning uses. */
export interface SiteSettings {
  readonly privacyMasks: readonly Rect[];
  /** Gate thresholds; null when the site turned the gate off. */
  readonly quality: QualityThresholds | null;
  /** The analysis box frames are scaled to fit (capture.analysisSize, default 960×540); null: the full picture. */
  readonly analysis: Size | null;
}

/** Reads the settings from a config; `analysis` overrides its capture.analysisSize (null: the full picture). */
export function siteSettings(config: Readonly<Config>, analysis?: Size | null): SiteSettings {
  return {
    privacyMasks: config.roi.privacyMasks,
    quality: config.quality.enabled ? config.quality : null,
    analysis: analysis !== undefined ? analysis : analysisOf(config.capture).size,
  };
}

/** One frame judged as the daemon would. */
export interface SiteJudgement {
  /** The full frame with the site's privacy masks blacked out (the input itself when there are none). */
  masked: Frame;
  /** The frame as analysed: privacy-masked, scaled. */
  analysed: Frame;
  /** Analysed pixels per full-frame pixel (1 when the frame fits the analysis box). */
  scale: number;
  /** The active area in analysed-frame pixels. */
  area: ActiveArea;
  /** The ROI in full-frame pixels (what the protocol carries). */
  roi: Rect;
  shape: ActiveAreaShape;
  /** The gate's verdict; null when the site turned the gate off. */
  quality: QualityResult | null;
}

export function judgeFrame(full: Frame, s: SiteSettings): SiteJudgement {
  const masked = s.privacyMasks.length ? { ...full, data: new Uint8Array(full.data) } : full;
  if (s.privacyMasks.length) applyPrivacyMask(masked.data, masked.width, masked.height, s.privacyMasks);
  const { frame: analysed, scale } = s.analysis ? scaleToFit(masked, s.analysis) : { frame: masked, scale: 1 };
  const area = findActiveArea(analysed);
  const r = area.rect;
  const roi =
    scale === 1
      ? r
      : {
          x: Math.floor(r.x / scale),
          y: Math.floor(r.y / scale),
          width: Math.min(full.width, Math.ceil((r.x + r.width) / scale)) - Math.floor(r.x / scale),
          height: Math.min(full.height, Math.ceil((r.y + r.height) / scale)) - Math.floor(r.y / scale),
        };
  const quality = s.quality ? evaluateQuality(analysed, area, s.quality) : null;
  return { masked, analysed, scale, area, roi, shape: area.shape, quality };
}

/**
 * Lesion pixels of a full-frame mask: all of them, those inside the ROI rectangle, and those
 * that reach the models — inside the active area's outline (mapped to full-frame pixels; the
 * daemon blacks out the rest) and not under a privacy mask.
 */
export function lesionKept(
  mask: Uint8Array,
  width: number,
  height: number,
  j: SiteJudgement,
  masks: readonly Rect[],
): { lesion: number; kept: number; inRect: number } {
  let lesion = 0,
    kept = 0,
    inRect = 0;
  const r = j.roi;
  const masked = (x: number, y: number) =>
    masks.some((m) => x >= Math.floor(m.x) && y >= Math.floor(m.y) && x < Math.ceil(m.x + m.width) && y < Math.ceil(m.y + m.height));
  for (let y = 0; y < height; y++) {
    const span = j.area.shape === 'none' ? null : spanAt(j.area, Math.min(j.analysed.height - 1, Math.floor(y * j.scale)));
    for (let x = 0, p = y * width; x < width; x++, p++) {
      if (!mask[p]) continue;
      lesion++;
      if (x >= r.x && y >= r.y && x < r.x + r.width && y < r.y + r.height) inRect++;
      const ax = Math.floor(x * j.scale);
      if (span && ax >= span[0] && ax <= span[1] && !masked(x, y)) kept++;
    }
  }
  return { lesion, kept, inRect };
}
