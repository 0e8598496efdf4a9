// pipeline/: the per-frame stages, defined once (graph in pipeline.ts): condition → models → decision → output.
import type { Frame, Rect } from '../frame.js';
import { FrameScale } from '../frame-scale.js';
import type { GateShares } from '../publish/protocol.js';
import { joinReasons, type GatedReasons } from '../quality/gate-reasons.js';
import { evaluateQuality, gatedOf, gateShares, type QualityThresholds } from '../quality/quality-gate.js';
import type { ActiveArea } from '../roi/active-area.js';
import { MaskPlan } from '../roi/mask-plan.js';
import type { BackgroundDetector } from '../roi/background-detector.js';
import { applyPrivacyMask, type MaskFill } from '../roi/privacy.js';
import { RoiTracker } from '../roi/roi-tracker.js';

declare const conditioned: unique symbol;

/**
 * A frame after conditioning: privacy masks black and, with roi.blackOutside, everything outside
 * the active area black. Only `Conditioner.run` makes one, so whatever requires this type (the
 * preview, the recorder) cannot be handed a frame that still shows burned-in patient data.
 */
export type ConditionedFrame = Frame & { readonly [conditioned]: true };

/** What conditioning made of one frame; `roi` in the frame's (analysis) pixels. */
export interface Conditioning {
  frame: ConditionedFrame;
  scale: FrameScale;
  roi: Rect;
  /** Why the frame is not classified (`no-picture`, quality reasons), or null. */
  gated: GatedReasons | null;
  /** What the quality gate saw, or null when it did not run. */
  quality: GateShares | null;
}

type QualitySettings = { enabled: boolean } & QualityThresholds;

/** Frame conditioning before the models (config sections roi and quality). */
export interface ConditioningSettings {
  /** privacyMasks in full-frame pixels, as the config states them. */
  roi: { enabled: boolean; detectEvery: number; stableCount: number; tolerance: number; privacyMasks: readonly Rect[]; blackOutside: boolean };
  quality: QualitySettings | null;
}

/** Overlay pixels over a privacy mask: transparent, so nothing is drawn over what was blacked out. */
const TRANSPARENT: MaskFill = [0, 0, 0, 0];

/**
 * The privacy rule, in one place: masked regions and the outside of the active area are black in
 * every frame before a model sees it, and transparent in every overlay drawn over it. Also finds
 * the ROI and runs the quality gate.
 */
export class Conditioner {
  private readonly tracker: RoiTracker | null;
  private scale: FrameScale | null = null;
  private plan: { key: ActiveArea | null; plan: MaskPlan; regions: Rect[] } | null = null;

  /** `detector`: detect in the background once the ROI is steady (the live daemon); null: in line. */
  constructor(
    private readonly settings: ConditioningSettings | null,
    private readonly detector: BackgroundDetector | null = null,
  ) {
    const r = settings?.roi;
    this.tracker = r?.enabled ? new RoiTracker({ detectEvery: r.detectEvery, stableCount: r.stableCount, tolerance: r.tolerance }) : null;
  }

  /** The ROI in use (null when ROI extraction is off or nothing was found yet). */
  get roiArea(): ActiveArea | null {
    return this.tracker?.area ?? null;
  }

  /** The scale of the last frame conditioned. */
  get frameScale(): FrameScale | null {
    return this.scale;
  }

  /**
   * Conditions the frame and returns it as a ConditionedFrame with its ROI, or a gate reason.
   * The capture hands each frame's buffer to its one consumer, so the masks are written into it
   * (no copy on the hot path) and the raw frame is not used again: the result is the same object.
   */
  run(raw: Frame, timings: Record<string, number>): Conditioning {
    const frame = raw as ConditionedFrame;
    const c = this.settings;
    const whole: Rect = { x: 0, y: 0, width: raw.width, height: raw.height };
    const scale = FrameScale.of(raw);
    if (!scale.equals(this.scale)) {
      // Another picture size (a processor switched its output): the old ROI and masks are void.
      this.tracker?.reset();
      this.detector?.cancel(); // a detection of the old size in flight is dropped
      this.plan = null;
      this.scale = scale;
    }
    if (!c) return { frame, scale, roi: whole, gated: null, quality: null };
    let t = performance.now();
    // Masks first, with the area in use: text under a privacy mask must not sway detection.
    const before = this.tracker?.area ?? null;
    this.maskPlan(raw, c, before).apply(raw.data);
    const area = this.tracker ? this.track(this.tracker, raw) : null;
    if (area !== before) this.maskPlan(raw, c, area).apply(raw.data);
    timings.roi = performance.now() - t;
    if (this.tracker && !area) return { frame, scale, roi: whole, gated: joinReasons(['no-picture']), quality: null };
    const roi = area?.rect ?? whole;
    if (!c.quality?.enabled) return { frame, scale, roi, gated: null, quality: null };
    t = performance.now();
    // The gate judges the active area (its outline leaves out the black corners), or the ROI.
    const q = evaluateQuality(frame, area ?? roi, c.quality);
    timings.quality = performance.now() - t;
    return { frame, scale, roi, gated: gatedOf(q), quality: gateShares(q) };
  }

  /** The frame is out: a background detection taken for it is sent now (BackgroundDetector.flush). */
  frameDone(): void {
    this.detector?.flush();
  }

  /**
   * The area in use after a detection when one is due. With a background detector and an ROI
   * already in use, the detection runs in the worker and its result reaches the tracker between
   * frames; the first detection (no ROI yet: the frame would have none) and any after the worker
   * failed run in line.
   */
  private track(tracker: RoiTracker, raw: Frame): ActiveArea | null {
    const d = this.detector;
    // submit() refuses (false) once the worker is gone: then the detection runs in line below.
    if (d && tracker.area && tracker.isDue(raw.id) && (d.busy || d.submit(raw, (found, frameId) => tracker.observe(found, frameId)))) return tracker.area;
    return tracker.track(raw);
  }

  /**
   * Clears an RGBA overlay over the privacy masks, so no heatmap or contour is drawn over them:
   * `analysis` for an overlay of the conditioned frame's size, `full` for one of the source's.
   */
  clearMasked(rgba: Uint8Array, width: number, height: number, space: 'analysis' | 'full'): void {
    const regions = space === 'full' ? (this.settings?.roi.privacyMasks ?? []) : (this.plan?.regions ?? []);
    if (regions.length) applyPrivacyMask(rgba, width, height, regions, TRANSPARENT);
  }

  /**
   * Blacks the privacy masks out again in a picture drawn from the conditioned frame (a QA
   * thumbnail with contours and boxes on it), so nothing drawn shows over them.
   */
  blackMasked(rgba: Uint8Array, width: number, height: number): void {
    const regions = this.plan?.regions ?? [];
    if (regions.length) applyPrivacyMask(rgba, width, height, regions);
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
}
