import type { GatedReasons } from '../quality/gate-reasons.js';
import type { DecisionOutput } from '../decision/decision.js';
import type { Rect } from '../frame.js';
import type { FrameScale } from '../frame-scale.js';
import type { ProbMap } from '../overlay/mask-geometry.js';
import type { GateShares } from '../publish/protocol.js';
import type { ConditionedFrame } from './condition.js';

/**
 * What the stages made of one frame. `roi` and `box` are in the frame's own (analysis) pixels;
 * `scale` maps them to the full frame; `boxFull` and `areaPx` are already in full-frame pixels.
 */
export interface ProcessedFrame {
  frame: ConditionedFrame;
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
  boxFull: Rect | null;
  areaPx: number | null;
  /** The decision stage's output for this frame (smoothed score, alert, event). */
  decision: DecisionOutput;
  /** ms per stage. */
  timings: Record<string, number>;
  /** ms spent inside ONNX Runtime's run (both models). */
  ortMs: number;
}

/** The decision of a frame the decision stage has not seen yet. */
export const UNDECIDED: Readonly<DecisionOutput> = Object.freeze({ smoothed: null, alert: false, event: null });
