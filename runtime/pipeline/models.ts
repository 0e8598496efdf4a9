import type { Rect } from '../frame.js';
import type { ModelSession } from '../inference/model-session.js';
import { largestBlob, mapBoxToFrame, type ProbMap } from '../overlay/mask-geometry.js';
import type { Conditioning } from './condition.js';
import type { DegradeShare } from './degrade-share.js';
import { LesionMap } from './lesion-map.js';
import { UNDECIDED, type ProcessedFrame } from './processed-frame.js';

export interface ModelSettings {
  /** Run the segmenter when the raw score is at least this. */
  segmentAbove: number;
  maskThreshold: number;
}

/**
 * The model stages: classify the conditioned frame, and segment it when the classifier is
 * suspicious (at the rate the degrade share allows).
 */
export class ModelStage {
  constructor(
    private readonly classifier: ModelSession,
    private readonly segmenter: ModelSession | null,
    private readonly settings: ModelSettings,
    private readonly share: DegradeShare,
  ) {}

  /** Classifies (and segments) a conditioned frame; a gated one is returned unscored. */
  async run(c: Conditioning, timings: Record<string, number>): Promise<ProcessedFrame> {
    const { frame, scale, roi, gated, quality } = c;
    if (gated)
      return {
        frame,
        scale,
        roi,
        gated,
        quality,
        score: null,
        attention: null,
        mask: null,
        box: null,
        boxFull: null,
        areaPx: null,
        decision: UNDECIDED,
        timings,
        ortMs: 0,
      };
    let t = performance.now();
    const input = this.classifier.prepare(frame, roi);
    timings.preprocess = performance.now() - t;
    t = performance.now();
    const out = await this.classifier.runTensor(input);
    timings.classify = performance.now() - t;
    let ortMs = timings.classify;
    const score = egcProbability(out.logits.data, this.classifier.manifest.outputs.find((o) => o.name === 'logits')?.classes);
    const [, , ah, aw] = out.attention.dims;
    const attention: ProbMap = { width: aw, height: ah, data: Float32Array.from(out.attention.data) };
    let mask: ProbMap | null = null;
    let box: Rect | null = null;
    let areaPx: number | null = null;
    if (this.segmenter && score >= this.settings.segmentAbove && this.share.segments()) {
      t = performance.now();
      const segInput = this.segmenter.prepare(frame, roi);
      timings.preprocess += performance.now() - t;
      t = performance.now();
      const s = await this.segmenter.runTensor(segInput);
      timings.segment = performance.now() - t;
      ortMs += timings.segment;
      t = performance.now();
      const [, , h, w] = s.logits.dims;
      mask = new LesionMap(w, h, s.logits.data);
      const blob = largestBlob(mask, this.settings.maskThreshold);
      if (blob) {
        box = mapBoxToFrame(blob.box, mask, roi);
        areaPx = Math.round((blob.cells * roi.width * roi.height * scale.sx * scale.sy) / (w * h));
      }
      timings.postprocess = performance.now() - t;
    }
    return { frame, scale, roi, gated, quality, score, attention, mask, box, boxFull: null, areaPx, decision: UNDECIDED, timings, ortMs };
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
