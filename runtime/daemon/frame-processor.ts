import type { Frame, Rect } from '../frame.js';
import { FrameScale } from '../frame-scale.js';
import type { ModelSession } from '../inference/model-session.js';
import { largestBlob, mapBoxToFrame, type ProbMap } from '../overlay/mask-geometry.js';
import type { GateShares } from '../publish/protocol.js';
import { joinReasons, type GatedReasons } from '../quality/gate-reasons.js';
import { evaluateQuality, gatedOf, gateShares, type QualityThresholds } from '../quality/quality-gate.js';
import type { ActiveArea } from '../roi/active-area.js';
import { MaskPlan } from '../roi/mask-plan.js';
import { RoiTracker } from '../roi/roi-tracker.js';

/**
 * What the models made of one frame. `roi` and `box` are in the frame's own (analysis) pixels;
 * `scale` maps them to the full frame, and `areaPx` is already in full-frame pixels.
 */
export interface ProcessedFrame {
  frame: Frame;
  scale: FrameScale;
  roi: Rect;
  /** Why the frame was not classified, or null. */
  gated: GatedReasons | null;
  /** What the quality gate saw, or null when it did not run. */
  quality: GateShares | null;
  score: number | null;
  attention: ProbMap | null;
  mask: ProbMap | null;
  box: Rect | null;
  areaPx: number | null;
  /** ms per stage. */
  timings: Record<string, number>;
  /** ms spent inside ONNX Runtime's run (both models). */
  ortMs: number;
}

/** Frame conditioning before the models (config sections roi and quality). */
export interface ConditioningSettings {
  /** privacyMasks in full-frame pixels, as the config states them. */
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
  private scale: FrameScale | null = null;
  private plan: { key: ActiveArea | null; plan: MaskPlan; regions: Rect[] } | null = null;

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

  /** The privacy masks in the last frame's (analysis) pixels. */
  get privacyRegions(): readonly Rect[] {
    return this.plan?.regions ?? [];
  }

  /** The scale of the last frame conditioned. */
  get frameScale(): FrameScale | null {
    return this.scale;
  }

  /**
   * Conditions the frame in place — privacy masks and the black outside the active area are
   * written into its pixels, so neither a model nor a published frame can see them — and
   * returns the ROI, or a gate reason.
   */
  condition(frame: Frame, timings: Record<string, number>): { roi: Rect; gated: GatedReasons | null; quality: GateShares | null } {
    const c = this.settings.conditioning;
    const whole: Rect = { x: 0, y: 0, width: frame.width, height: frame.height };
    const scale = FrameScale.of(frame);
    if (!scale.equals(this.scale)) {
      // Another picture size (a processor switched its output): the old ROI and masks are void.
      this.tracker?.reset();
      this.plan = null;
      this.scale = scale;
    }
    if (!c) return { roi: whole, gated: null, quality: null };
    let t = performance.now();
    // Masks first, with the area in use: text under a privacy mask must not sway detection.
    const before = this.tracker?.area ?? null;
    this.maskPlan(frame, c, before).apply(frame.data);
    const area = this.tracker ? this.tracker.track(frame) : null;
    if (area !== before) this.maskPlan(frame, c, area).apply(frame.data);
    timings.roi = performance.now() - t;
    if (this.tracker && !area) return { roi: whole, gated: joinReasons(['no-picture']), quality: null };
    const roi = area?.rect ?? whole;
    if (!c.quality?.enabled) return { roi, gated: null, quality: null };
    t = performance.now();
    const q = evaluateQuality(frame, area ?? roi, c.quality);
    timings.quality = performance.now() - t;
    return { roi, gated: gatedOf(q), quality: gateShares(q) };
  }

  /** The masks for this frame size and area, rebuilt only when either changed. */
  private maskPlan(frame: Frame, c: ConditioningSettings, area: ActiveArea | null): MaskPlan {
    const key = c.roi.blackOutside ? area : null;
    if (this.plan && this.plan.key === key) return this.plan.plan;
    // The masks in analysis pixels depend on the scale only; the area changes more often.
    const scale = this.scale!;
    const regions = this.plan?.regions ?? c.roi.privacyMasks.map((r) => scale.rectToAnalysis(r));
    this.plan = { key, plan: new MaskPlan(frame.width, frame.height, regions, key), regions };
    return this.plan.plan;
  }

  async process(frame: Frame): Promise<ProcessedFrame> {
    const timings: Record<string, number> = {};
    const { roi, gated, quality } = this.condition(frame, timings);
    const scale = this.scale!;
    if (gated) return { frame, scale, roi, gated, quality, score: null, attention: null, mask: null, box: null, areaPx: null, timings, ortMs: 0 };
    let t = performance.now();
    const input = this.classifier.prepare(frame, roi);
    timings.preprocess = performance.now() - t;
    t = performance.now();
    const c = await this.classifier.runTensor(input);
    timings.classify = performance.now() - t;
    let ortMs = timings.classify;
    const score = egcProbability(c.logits.data, this.classifier.manifest.outputs.find((o) => o.name === 'logits')?.classes);
    const [, , ah, aw] = c.attention.dims;
    const attention: ProbMap = { width: aw, height: ah, data: Float32Array.from(c.attention.data) };
    let mask: ProbMap | null = null;
    let box: Rect | null = null;
    let areaPx: number | null = null;
    if (this.segmenter && score >= this.settings.segmentAbove && this.suspicious++ % this.settings.segmenterEvery === 0) {
      t = performance.now();
      const segInput = this.segmenter.prepare(frame, roi);
      timings.preprocess += performance.now() - t;
      t = performance.now();
      const s = await this.segmenter.runTensor(segInput);
      timings.segment = performance.now() - t;
      ortMs += timings.segment;
      t = performance.now();
      const [, , h, w] = s.logits.dims;
      mask = { width: w, height: h, data: lesionProbability(s.logits.data, w * h) };
      const blob = largestBlob(mask, this.settings.maskThreshold);
      if (blob) {
        box = mapBoxToFrame(blob.box, mask, roi);
        areaPx = Math.round((blob.cells * roi.width * roi.height * scale.sx * scale.sy) / (w * h));
      }
      timings.postprocess = performance.now() - t;
    }
    return { frame, scale, roi, gated, quality, score, attention, mask, box, areaPx, timings, ortMs };
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
