import type { Frame, Rect } from '../frame.js';
import type { ModelSession } from '../inference/model-session.js';
import { largestBlob, mapBoxToFrame, type ProbMap } from '../overlay/mask-geometry.js';

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

export interface ProcessorSettings {
  /** Run the segmenter when the raw score is at least this. */
  segmentAbove: number;
  maskThreshold: number;
  /** Segment only every n-th suspicious frame (1 = each); raised by the degrade policy. */
  segmenterEvery: number;
}

/**
 * The per-frame model stages shared by the live daemon and QA replay: classify the frame, and
 * segment it when the classifier is suspicious.
 */
export class FrameProcessor {
  private suspicious = 0;

  constructor(
    private readonly classifier: ModelSession,
    private readonly segmenter: ModelSession | null,
    readonly settings: ProcessorSettings,
  ) {}

  async process(frame: Frame): Promise<ProcessedFrame> {
    const timings: Record<string, number> = {};
    const roi: Rect = { x: 0, y: 0, width: frame.width, height: frame.height };
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
    return { frame, roi, gated: null, score, attention, mask, box, areaPx, timings };
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
