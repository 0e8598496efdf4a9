/**
 * The per-frame graph, defined once:
 *
 *   frame ─▶ condition ──────▶ models ─────────▶ decision ─────▶ output
 *            privacy masks     classify; segment  smoothing,      alert → overlay geometry →
 *            ROI               when suspicious    hysteresis      PNG / preview → publish →
 *            quality gate      (degrade share)                    stats
 *
 * `FramePipeline.step` runs condition → models → decision; the live daemon then hands the
 * result to `FrameOutput` (output.ts). QA replay and selftest run the same step on every frame
 * of a recording and score it; the bench runs it as fast as it goes. Files here: condition.ts
 * (the privacy rule and ConditionedFrame), models.ts, degrade-share.ts (the rates under the
 * degrade policy), output.ts, sessions.ts (opening the models from the config).
 */
import type { Config } from '../config/schema.js';
import { DecisionStage } from '../decision/decision.js';
import type { Frame } from '../frame.js';
import type { ModelSession } from '../inference/model-session.js';
import type { BackgroundDetector } from '../roi/background-detector.js';
import { Conditioner } from './condition.js';
import { DegradeShare } from './degrade-share.js';
import { ModelStage } from './models.js';
import type { ProcessedFrame } from './processed-frame.js';

/** condition → models → decision, as configured; the daemon, QA replay, selftest and the bench run this. */
export class FramePipeline {
  readonly conditioner: Conditioner;
  readonly decision: DecisionStage;
  private models: ModelStage;

  /**
   * `share` sets the model rates (the daemon's degrade policy); a fresh one runs every model on
   * every frame. The live daemon's `workers` take work beside the main thread: steady-state ROI
   * detection (`detector`; its results are adopted between frames). Without it, as in QA
   * replay, everything runs in line; results are the same, except when a changed ROI is adopted.
   */
  constructor(
    private readonly config: Readonly<Config>,
    sessions: readonly ModelSession[],
    readonly share: DegradeShare = new DegradeShare(),
    workers: { detector?: BackgroundDetector | null } = {},
  ) {
    this.conditioner = new Conditioner({ roi: config.roi, quality: config.quality.enabled ? config.quality : null }, workers.detector ?? null);
    this.models = this.modelStage(sessions);
    this.decision = new DecisionStage(config.decision);
  }

  /** Runs one frame through the stages; `timings` gets roi, quality, preprocess, classify, segment, postprocess, decision. */
  async step(raw: Frame): Promise<ProcessedFrame> {
    const timings: Record<string, number> = {};
    const p = await this.models.run(this.conditioner.run(raw, timings), timings);
    const t = performance.now();
    const { frame, scale } = p;
    p.boxFull = p.box ? scale.rectToFull(p.box) : null;
    p.decision = this.decision.update({ frameId: frame.id, ts: frame.ts, score: p.score, box: p.boxFull ?? undefined, areaPx: p.areaPx ?? undefined });
    timings.decision = performance.now() - t;
    return p;
  }

  /**
   * The frame's output is out: a background detection it made due goes to the worker now, in the
   * gap before the next frame, where it takes no core from that frame's preprocessing.
   */
  frameDone(): void {
    this.conditioner.frameDone();
  }

  /** Swaps in other model sessions between two frames (a reload); conditioning and decision state carry on. */
  useModels(sessions: readonly ModelSession[]): void {
    this.models = this.modelStage(sessions);
  }

  private modelStage(sessions: readonly ModelSession[]): ModelStage {
    const c = this.config;
    return new ModelStage(sessions[0], sessions[1] ?? null, { segmentAbove: c.inference.segmentAbove, maskThreshold: c.overlay.maskThreshold }, this.share);
  }
}
