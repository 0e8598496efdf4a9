import type { Frame, Rect } from '../frame.js';
import type { ModelSession } from '../inference/model-session.js';
import { largestBlob, mapBoxToFrame, type ProbMap } from '../overlay/mask-geometry.js';
import { evaluateQuality, type QualityThresholds } from '../quality/quality-gate.js';
import type { ActiveArea } from '../roi/active-area.js';
import { applyPrivacyMask, blackOutsideArea } from '../roi/privacy.js';
import { RoiTracker } from '../roi/roi-tracker.js';

/** What the models made of one frame; coordinates in full-frame pixels. */
export interface ProcessedFrame {
  frame: Frame;
  roi: Rect;
  /** Why the frame was not classified, or null. */
  gated: string | null;
  score: number | null;
  attention: ProbMap | null;
  mask: ProbMap | null;
  box: Rect | null;
  areaPx: number | null;
  /** ms per stage. */
  timings: Record<string, number>;
}

/** Frame conditioning before the models (config sections roi and quality). */
export interface ConditioningSettings {
  roi: { enabled: boolean; detectEvery: number; stableCount: number; tolerance: number; privacyMasks: readonly Rect[]; blackOutside: boolean };
  quality: ({ enabled: boolean } & QualityThresholds) | null;
}

export interface ProcessorSettings {
  /** Run the segmenter when the raw score is at least this. */
  segmentAbove: number;
  maskThreshold: number;
  /** Segment only every n-th suspicious frame (1 = each); raised by the degrade policy. */
  segmenterEvery: number;
  conditioning?: ConditioningSettings;
}

/**
 * The per-frame model stages shared by the live daemon and QA replay: classify the frame, and
 * segment it when the classifier is suspicious.
 */
export class FrameProcessor {
  private suspicious = 0;
  private readonly tracker: RoiTracker | null;

  constructor(
    private readonly classifier: ModelSession,
    private readonly segmenter: ModelSession | null,
    readonly settings: ProcessorSettings,
  ) {
    const r = settings.conditioning?.roi;
    this.tracker = r?.enabled ? new RoiTracker({ detectEvery: r.detectEvery, stableCount: r.stableCount, tolerance: r.tolerance }) : null;
  }

  /** The ROI in use (full frame when ROI extraction is off). */
  get roiArea(): ActiveArea | null {
    return this.tracker?.area ?? null;
  }

  /**
   * Conditions the frame in place — privacy masks and the black outside the active area are
   * written into its pixels, so neither a model nor a published frame can see them — and
   * returns the ROI, or a gate reason.
   */
  condition(frame: Frame, timings: Record<string, number>): { roi: Rect; gated: string | null } {
    const c = this.settings.conditioning;
    const whole: Rect = { x: 0, y: 0, width: frame.width, height: frame.height };
    if (!c) return { roi: whole, gated: null };
    let t = performance.now();
    const data = frame.data;
    if (c.roi.privacyMasks.length) applyPrivacyMask(data, frame.width, frame.height, c.roi.privacyMasks);
    const area = this.tracker ? this.tracker.track(frame) : null;
    if (this.tracker && !area) {
      timings.roi = performance.now() - t;
      return { roi: whole, gated: 'no-picture' };
    }
    if (area && c.roi.blackOutside) blackOutsideArea(data, frame.width, frame.height, area);
    timings.roi = performance.now() - t;
    const roi = area?.rect ?? whole;
    if (!c.quality?.enabled) return { roi, gated: null };
    t = performance.now();
    const q = evaluateQuality(frame, area ?? roi, c.quality);
    timings.quality = performance.now() - t;
    return { roi, gated: q.gated ? q.reasons.join(',') : null };
  }

  async process(frame: Frame): Promise<ProcessedFrame> {
    const timings: Record<string, number> = {};
    const { roi, gated } = this.condition(frame, timings);
    if (gated) return { frame, roi, gated, score: null, attention: null, mask: null, box: null, areaPx: null, timings };
    let t = performance.now();
    const c = await this.classifier.infer(frame, roi);
    timings.classify = performance.now() - t;
    const score = egcProbability(c.logits.data, this.classifier.manifest.outputs.find((o) => o.name === 'logits')?.classes);
    const [, , ah, aw] = c.attention.dims;
    const attention: ProbMap = { width: aw, height: ah, data: Float32Array.from(c.attention.data) };
    let mask: ProbMap | null = null;
    let box: Rect | null = null;
    let areaPx: number | null = null;
    if (this.segmenter && score >= this.settings.segmentAbove && this.suspicious++ % this.settings.segmenterEvery === 0) {
      t = performance.now();
      const s = await this.segmenter.infer(frame, roi);
      timings.segment = performance.now() - t;
      const [, , h, w] = s.logits.dims;
      mask = { width: w, height: h, data: lesionProbability(s.logits.data, w * h) };
      const blob = largestBlob(mask, this.settings.maskThreshold);
      if (blob) {
        box = mapBoxToFrame(blob.box, mask, roi);
        areaPx = Math.round((blob.cells * roi.width * roi.height) / (w * h));
      }
    }
    return { frame, roi, gated, score, attention, mask, box, areaPx, timings };
  }
}

/** Softmax probability of the `egc` class (the last class when unnamed). */
export function egcProbability(logits: Float32Array, classes?: readonly string[]): number {
  const k = Math.max(0, classes?.indexOf('egc') ?? logits.length - 1);
  const max = Math.max(...logits);
  let sum = 0;
  for (const l of logits) sum += Math.exp(l - max);
  return Math.exp(logits[k] - max) / sum;
}

/** Per-pixel probability of class 1 (lesion) from [1, 2, H, W] logits. */
export function lesionProbability(logits: Float32Array, plane: number): Float32Array {
  const p = new Float32Array(plane);
  for (let i = 0; i < plane; i++) p[i] = 1 / (1 + Math.exp(logits[i] - logits[plane + i]));
  return p;
}
