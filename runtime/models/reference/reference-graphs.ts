import { CELL_LIMITS, isBloodCell } from '../../quality/regions.js';
import { GraphBuilder } from '../onnx-graph.js';
import type { PixelMlp } from './pixel-mlp.js';

/**
 * Whether the reference graphs leave blood out: a pixel of the quality gate's blood colour
 * (regions.ts: R ≥ 45, G ≤ 0.2 R, B ≤ 0.45 R) is never lesion to them. Blood is a colour, and
 * the colour MLP alone calls it a lesion; the rule is the model's own (it sees the frame as it
 * is), unlike blackOutBlood, which would change the frame every model sees.
 */
export interface ReferenceGraphOptions {
  bloodRule: boolean;
}

/** [1, 1, H, W] boolean: the pixel (RGB 0…1) has the gate's blood colour. */
function bloodMask(g: GraphBuilder, x: string): string {
  const { bloodMaxGreenRatio: gr, bloodMaxBlueRatio: br, bloodMinRed: minR } = CELL_LIMITS;
  // Three margins, each ≥ 0 on blood: gr·R − G, br·R − B, R − minR.
  const w = g.weight('blood_w', Float32Array.of(gr, -1, 0, br, 0, -1, 1, 0, 0), [3, 3, 1, 1], false);
  const b = g.weight('blood_b', Float32Array.of(0, 0, -minR / 255), [3], false);
  const margin = g.node('ReduceMin', [g.node('Conv', [x, w, b], { kernel_shape: [1, 1] })], { axes: [1], keepdims: 1 });
  return g.node('GreaterOrEqual', [margin, g.weight('zero', Float32Array.of(0), [1], false)]);
}

/** Pixel MLP as two 1×1 convolutions; returns the lesion-logit map [1, 1, H, W]. */
function pixelMlp(g: GraphBuilder, x: string, m: PixelMlp): string {
  const w1 = g.weight('mlp1_w', m.w1, [m.hidden, 3, 1, 1]);
  const b1 = g.weight('mlp1_b', m.b1, [m.hidden]);
  const h = g.node('Relu', [g.node('Conv', [x, w1, b1], { kernel_shape: [1, 1] })]);
  const w2 = g.weight('mlp2_w', m.w2, [1, m.hidden, 1, 1]);
  const b2 = g.weight('mlp2_b', Float32Array.of(m.b2), [1]);
  return g.node('Conv', [h, w2, b2], { kernel_shape: [1, 1] });
}

/** [z] → [−z/2, z/2] on axis 1, so that softmax over the pair equals sigmoid(z). */
function twoClassLogits(g: GraphBuilder, z: string, out: string): void {
  const neg = g.node('Mul', [z, g.weight('minus_half', Float32Array.of(-0.5), [1], false)]);
  const pos = g.node('Mul', [z, g.weight('half', Float32Array.of(0.5), [1], false)]);
  g.node('Concat', [neg, pos], { axis: 1 }, out);
}

/**
 * Reference segmenter: per-pixel colour MLP, then a 5×5 box filter on the logit (lesions are
 * blobs, not speckle). Output `logits` [1, 2, S, S]: background, lesion.
 */
export function segmenterGraph(m: PixelMlp, size: number, o: ReferenceGraphOptions): GraphBuilder {
  const g = new GraphBuilder('lumen-ref-segmenter');
  const x = g.input('image', [1, 3, size, size]);
  const mlp = pixelMlp(g, x, m);
  // Blood: a logit as sure as the MLP's surest background.
  const z = o.bloodRule ? g.node('Where', [bloodMask(g, x), g.weight('blood_logit', Float32Array.of(-20), [1], false), mlp]) : mlp;
  const box = g.weight('box5', new Float32Array(25).fill(1 / 25), [1, 1, 5, 5]);
  const smooth = g.node('Conv', [z, box], { kernel_shape: [5, 5], pads: [2, 2, 2, 2] });
  twoClassLogits(g, smooth, 'logits');
  g.output('logits', [1, 2, size, size]);
  return g;
}

/**
 * Reference classifier: lesion probability per pixel, averaged over 16×16 cells and max-pooled to
 * a 7×7 attention map (the GAIN-style output); the frame's score is a calibrated logistic of the
 * attention's maximum. Outputs `logits` [1, 2] (normal, egc) and `attention` [1, 1, 7, 7].
 */
export function classifierGraph(m: PixelMlp, calib: { a: number; b: number }, o: ReferenceGraphOptions): GraphBuilder {
  const g = new GraphBuilder('lumen-ref-classifier');
  const x = g.input('image', [1, 3, 224, 224]);
  const mlp = g.node('Sigmoid', [pixelMlp(g, x, m)]);
  const p = o.bloodRule ? g.node('Where', [bloodMask(g, x), g.weight('blood_p', Float32Array.of(0), [1], false), mlp]) : mlp;
  const cells = g.node('AveragePool', [p], { kernel_shape: [16, 16], strides: [16, 16] });
  g.node('MaxPool', [cells], { kernel_shape: [2, 2], strides: [2, 2] }, 'attention');
  g.output('attention', [1, 1, 7, 7]);
  const flat = g.node('Flatten', ['attention'], { axis: 1 });
  const peak = g.node('ReduceMax', [flat], { axes: [1], keepdims: 1 });
  const scaled = g.node('Mul', [peak, g.weight('calib_a', Float32Array.of(calib.a), [1])]);
  const z = g.node('Add', [scaled, g.weight('calib_b', Float32Array.of(calib.b), [1])]);
  twoClassLogits(g, z, 'logits');
  g.output('logits', [1, 2]);
  return g;
}

/** What the classifier graph computes for the attention peak, in TypeScript (for calibration). */
export function attentionPeak(
  m: PixelMlp,
  tensor: Float32Array,
  logit: (m: PixelMlp, r: number, g: number, b: number) => number,
  o: ReferenceGraphOptions,
): number {
  const n = 224;
  const plane = n * n;
  const cell = new Float32Array(14 * 14);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const i = y * n + x;
      const [r, gr, b] = [tensor[i], tensor[plane + i], tensor[2 * plane + i]];
      const p = o.bloodRule && isBloodCell(r * 255, gr * 255, b * 255) ? 0 : 1 / (1 + Math.exp(-logit(m, r, gr, b)));
      cell[((y / 16) | 0) * 14 + ((x / 16) | 0)] += p / 256;
    }
  }
  let peak = 0;
  for (const v of cell) peak = Math.max(peak, v);
  return peak;
}
