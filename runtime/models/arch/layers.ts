import type { ManifestDraft } from '../bundle-write.js';
import type { InputSpec } from '../manifest.js';
import { GraphBuilder } from '../onnx-graph.js';
import { maxOf, meanOf, reluMeanSquare, sigmoidMeanSquare } from './init-statistics.js';
import { SeededRandom } from '../../util/random.js';

/**
 * Layer helpers over GraphBuilder for batch-1 NCHW float32 networks. Each helper adds its nodes,
 * tracks the output shape, and counts multiply–accumulates per frame (MACs) the way
 * `inspectOnnx` counts them from the finished graph: Conv = Cout·Hout·Wout·(Cin/groups)·kH·kW,
 * ConvTranspose = Cin·Hin·Win·(Cout/groups)·kH·kW, Gemm = in·out; element-wise ops, pooling,
 * normalisation and resizing count nothing (the torchvision / fvcore convention).
 *
 * Initialisation (seeded): conv weights Kaiming-normal (fan_out, gain √2, as torchvision does for
 * ResNet), transposed-conv weights N(0, 1/Cin), linear weights and all biases uniform ±1/√fan_in
 * (PyTorch's nn.Linear / nn.Conv2d default). BatchNormalization gets gamma 1, beta 0, running mean 0 and a running variance
 * *calibrated from the weights*: the expected variance of the preceding conv's output channel,
 * computed from its seeded weights and the tracked mean square of its input. Eval-mode BN then
 * normalises to about unit variance, as a trained network's BN does. With running var 1 instead,
 * the seed-1 ResNet-50 gives logits ≈ 40 on a unit-noise image (softmax saturated at 1.0); with the
 * calibration, logits ≈ 0.5, so downstream smoothing and thresholds see unsaturated probabilities.
 *
 * The mean square is tracked per tensor as two parts (see `Feature`) through each op, with the
 * standard Gaussian results for ReLU, max and sigmoid (./init-statistics.ts). It is
 * an estimate, not a measurement; test/architectures.test.ts checks that ONNX Runtime's outputs
 * stay of moderate size.
 */

/** A feature map [1, c, h, w] in the graph. */
export interface Feature {
  readonly name: string;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  /**
   * Estimated statistics under the seeded init, for BN calibration: mean square of a non-negative
   * part (after ReLU, max, sigmoid) and variance of a zero-mean symmetric part (after conv, BN).
   */
  readonly pos: number;
  readonly sym: number;
  /** Expected variance per channel, set by a conv for the BatchNormalization that follows it. */
  readonly chanVar?: Float64Array;
}

/** The output [1, n] of a linear layer, with the names of its initializers. */
export interface LinearOutput {
  readonly name: string;
  readonly n: number;
  /** Weight [n, in] and bias [n] initializer names (GAIN reuses them for the attention map). */
  readonly weight: string;
  readonly bias: string;
}

export interface ConvSpec {
  /** Output channels. */
  out: number;
  /** Square kernel size. */
  kernel: number;
  /** Default 1. */
  stride?: number;
  /** Symmetric zero padding; default dilation·(kernel−1)/2 ("same" for odd kernels at stride 1). */
  pad?: number;
  /** Default 1. */
  dilation?: number;
  /** Default 1. */
  groups?: number;
  /** Adds a bias input; default false (a BatchNormalization follows). */
  bias?: boolean;
  /** Kaiming fan mode; default 'out' (torchvision ResNet). */
  fan?: 'in' | 'out';
  /** Kaiming gain; default √2 (ReLU follows). */
  gain?: number;
}

/** A conv's weights, separable from its application so that two nodes can share them (CBAM's MLP). */
export interface ConvWeights {
  readonly weight: string;
  readonly bias?: string;
  readonly cin: number;
  readonly cout: number;
  readonly kernel: number;
  readonly groups: number;
  /** Σ w² and (Σ w)² per output channel (for the expected output mean square). */
  readonly sqNorm: Float64Array;
  readonly sqSum: Float64Array;
}

/** A network under construction: graph, seeded generator and MAC counter. */
export class Net {
  readonly g: GraphBuilder;
  readonly rng: SeededRandom;
  /** Multiply–accumulates per frame added so far. */
  macs = 0;

  constructor(name: string, seed: number) {
    this.g = new GraphBuilder(name);
    this.rng = new SeededRandom(seed);
  }

  /** Declares the float32 input [1, c, h, w]; inputs are assumed normalised (mean square ≈ 1). */
  input(name: string, c: number, h: number, w: number): Feature {
    return { name: this.g.input(name, [1, c, h, w]), c, h, w, pos: 0, sym: 1 };
  }

  /** Creates a conv's weight (and bias) initializers. */
  convWeights(cin: number, spec: ConvSpec): ConvWeights {
    const { out, kernel } = spec;
    const groups = spec.groups ?? 1;
    if (cin % groups !== 0 || out % groups !== 0) throw new Error(`conv: channels ${cin}→${out} not divisible by groups ${groups}`);
    const perGroup = cin / groups;
    const taps = perGroup * kernel * kernel;
    const fan = (spec.fan ?? 'out') === 'out' ? out * kernel * kernel : taps;
    const values = this.rng.fillNormal(new Float32Array(out * taps), (spec.gain ?? Math.SQRT2) / Math.sqrt(fan));
    const sqNorm = new Float64Array(out);
    const sqSum = new Float64Array(out);
    for (let o = 0; o < out; o++) {
      let q = 0;
      let s = 0;
      for (let i = o * taps; i < (o + 1) * taps; i++) {
        q += values[i] * values[i];
        s += values[i];
      }
      sqNorm[o] = q;
      sqSum[o] = s * s;
    }
    const weight = this.g.weight('conv_w', values, [out, perGroup, kernel, kernel]);
    const bias = spec.bias ? this.uniformWeight('conv_b', out, 1 / Math.sqrt(taps)) : undefined;
    return { weight, bias, cin, cout: out, kernel, groups, sqNorm, sqSum };
  }

  /** Applies conv weights to `x`; `out` names the output tensor. */
  applyConv(x: Feature, cw: ConvWeights, geom: Pick<ConvSpec, 'stride' | 'pad' | 'dilation'> = {}, out?: string): Feature {
    if (x.c !== cw.cin) throw new Error(`conv: input has ${x.c} channels, weights expect ${cw.cin}`);
    const stride = geom.stride ?? 1;
    const dilation = geom.dilation ?? 1;
    const pad = geom.pad ?? Math.floor((dilation * (cw.kernel - 1)) / 2);
    const h = convOut(x.h, cw.kernel, stride, pad, dilation);
    const w = convOut(x.w, cw.kernel, stride, pad, dilation);
    const inputs = cw.bias ? [x.name, cw.weight, cw.bias] : [x.name, cw.weight];
    const attrs = {
      kernel_shape: [cw.kernel, cw.kernel],
      strides: [stride, stride],
      pads: [pad, pad, pad, pad],
      dilations: [dilation, dilation],
      group: cw.groups,
    };
    const name = this.g.node('Conv', inputs, attrs, out);
    this.macs += cw.cout * h * w * (cw.cin / cw.groups) * cw.kernel * cw.kernel;
    // The non-negative part has a common mean (√(pos/π) for a ReLU'd normal) that every tap sees,
    // so it enters through (Σw)²; the rest through Σw².
    const meanSq = x.pos / Math.PI;
    const chanVar = cw.sqNorm.map((q, o) => q * (x.sym + x.pos - meanSq) + cw.sqSum[o] * meanSq);
    return { name, c: cw.cout, h, w, pos: 0, sym: mean(chanVar), chanVar };
  }

  /** Conv with fresh seeded weights. */
  conv(x: Feature, spec: ConvSpec, out?: string): Feature {
    return this.applyConv(x, this.convWeights(x.c, spec), spec, out);
  }

  /** Eval-mode BatchNormalization (epsilon 1e-5); running variance calibrated as described above. */
  batchNorm(x: Feature): Feature {
    const c = x.c;
    const gamma = this.g.weight('bn_gamma', new Float32Array(c).fill(1), [c]);
    const beta = this.g.weight('bn_beta', new Float32Array(c), [c]);
    const runMean = this.g.weight('bn_mean', new Float32Array(c), [c], false);
    const runVar = this.g.weight(
      'bn_var',
      Float32Array.from({ length: c }, (_, i) => Math.max(x.chanVar?.[i] ?? x.pos + x.sym, 1e-6)),
      [c],
      false,
    );
    const name = this.g.node('BatchNormalization', [x.name, gamma, beta, runMean, runVar], { epsilon: 1e-5 });
    return { name, c, h: x.h, w: x.w, pos: 0, sym: 1 };
  }

  /** Element-wise max(0, x). */
  relu(x: Feature): Feature {
    return { ...shape(x), name: this.g.node('Relu', [x.name]), pos: reluMeanSquare(x.pos, x.sym), sym: 0 };
  }

  /** Element-wise logistic function (attention gates). */
  sigmoid(x: Feature): Feature {
    return { ...shape(x), name: this.g.node('Sigmoid', [x.name]), pos: sigmoidMeanSquare(x.pos + x.sym), sym: 0 };
  }

  /** Conv (no bias) → BatchNormalization → optional ReLU. */
  convBnRelu(x: Feature, spec: ConvSpec, relu = true): Feature {
    const y = this.batchNorm(this.conv(x, { ...spec, bias: false }));
    return relu ? this.relu(y) : y;
  }

  /** ConvTranspose with bias (PyTorch default), weights [Cin, Cout/groups, k, k]. */
  convTranspose(x: Feature, spec: { out: number; kernel: number; stride: number }): Feature {
    const { out, kernel, stride } = spec;
    // Variance-preserving for kernel = stride (each output pixel sees one input pixel per channel).
    const w = this.rng.fillNormal(new Float32Array(x.c * out * kernel * kernel), 1 / Math.sqrt(x.c));
    const weight = this.g.weight('convt_w', w, [x.c, out, kernel, kernel]);
    const bias = this.uniformWeight('convt_b', out, 1 / Math.sqrt(out * kernel * kernel));
    const h = (x.h - 1) * stride + kernel;
    const wd = (x.w - 1) * stride + kernel;
    const name = this.g.node('ConvTranspose', [x.name, weight, bias], {
      kernel_shape: [kernel, kernel],
      strides: [stride, stride],
    });
    this.macs += x.c * x.h * x.w * out * kernel * kernel;
    return { name, c: out, h, w: wd, pos: 0, sym: x.pos + x.sym };
  }

  /** Square max-pool, floor mode; `pad` default 0. */
  maxPool(x: Feature, kernel: number, stride: number, pad = 0): Feature {
    const name = this.g.node('MaxPool', [x.name], {
      kernel_shape: [kernel, kernel],
      strides: [stride, stride],
      pads: [pad, pad, pad, pad],
    });
    const h = convOut(x.h, kernel, stride, pad, 1);
    return { name, c: x.c, h, w: convOut(x.w, kernel, stride, pad, 1), ...maxOf(x, kernel * kernel) };
  }

  /** Mean over each channel, [1, c, 1, 1]. */
  globalAvgPool(x: Feature): Feature {
    return { name: this.g.node('GlobalAveragePool', [x.name]), c: x.c, h: 1, w: 1, ...meanOf(x) };
  }

  /** Max over each channel, [1, c, 1, 1]. */
  globalMaxPool(x: Feature): Feature {
    return { name: this.g.node('GlobalMaxPool', [x.name]), c: x.c, h: 1, w: 1, ...maxOf(x, x.h * x.w) };
  }

  /** Mean over channels, [1, 1, h, w]. */
  channelMean(x: Feature): Feature {
    return { name: this.g.node('ReduceMean', [x.name], { axes: [1], keepdims: 1 }), c: 1, h: x.h, w: x.w, ...meanOf(x) };
  }

  /** Max over channels, [1, 1, h, w]. */
  channelMax(x: Feature): Feature {
    return { name: this.g.node('ReduceMax', [x.name], { axes: [1], keepdims: 1 }), c: 1, h: x.h, w: x.w, ...maxOf(x, x.c) };
  }

  /** Element-wise sum (same shape or broadcast). */
  add(a: Feature, b: Feature): Feature {
    return { ...broadcast(a, b), name: this.g.node('Add', [a.name, b.name]), pos: a.pos + b.pos, sym: a.sym + b.sym };
  }

  /** Element-wise product where `gate` is a sigmoid output broadcast over `x`. */
  gate(x: Feature, gate: Feature): Feature {
    const g2 = gate.pos + gate.sym;
    return { ...broadcast(x, gate), name: this.g.node('Mul', [x.name, gate.name]), pos: x.pos * g2, sym: x.sym * g2 };
  }

  /** Channel concatenation. */
  concat(parts: readonly Feature[]): Feature {
    const [first] = parts;
    if (parts.some((p) => p.h !== first.h || p.w !== first.w)) throw new Error('concat: spatial sizes differ');
    const c = parts.reduce((s, p) => s + p.c, 0);
    const pos = parts.reduce((s, p) => s + p.pos * p.c, 0) / c;
    const sym = parts.reduce((s, p) => s + p.sym * p.c, 0) / c;
    return {
      name: this.g.node(
        'Concat',
        parts.map((p) => p.name),
        { axis: 1 },
      ),
      c,
      h: first.h,
      w: first.w,
      pos,
      sym,
    };
  }

  /** Broadcasts a [1, c, 1, 1] map to [1, c, h, w]. */
  expand(x: Feature, h: number, w: number): Feature {
    const shape = this.g.int64s('expand_shape', [1, x.c, h, w]);
    return { name: this.g.node('Expand', [x.name, shape]), c: x.c, h, w, pos: x.pos, sym: x.sym };
  }

  /** Flatten → Gemm (weight [out, in], transB), PyTorch nn.Linear init. */
  linear(x: Feature, out: number, outName?: string): LinearOutput {
    const n = x.c * x.h * x.w;
    const flat = this.g.node('Flatten', [x.name], { axis: 1 });
    const bound = 1 / Math.sqrt(n);
    const weight = this.uniformWeight('fc_w', out * n, bound, [out, n]);
    const bias = this.uniformWeight('fc_b', out, bound);
    const name = this.g.node('Gemm', [flat, weight, bias], { transB: 1 }, outName);
    this.macs += n * out;
    return { name, n: out, weight, bias };
  }

  private uniformWeight(prefix: string, count: number, bound: number, dims: readonly number[] = [count]): string {
    return this.g.weight(prefix, this.rng.fillUniform(new Float32Array(count), -bound, bound), dims);
  }
}

/** Output length of a conv / pool along one axis (floor mode). */
export function convOut(size: number, kernel: number, stride: number, pad: number, dilation: number): number {
  const out = Math.floor((size + 2 * pad - dilation * (kernel - 1) - 1) / stride) + 1;
  if (out < 1) throw new Error(`conv/pool: input ${size} too small for kernel ${kernel}, stride ${stride}`);
  return out;
}

function broadcast(a: Feature, b: Feature): { c: number; h: number; w: number } {
  const dim = (p: number, q: number, what: string): number => {
    if (p !== q && p !== 1 && q !== 1) throw new Error(`broadcast: ${what} ${p} vs ${q}`);
    return Math.max(p, q);
  };
  return { c: dim(a.c, b.c, 'channels'), h: dim(a.h, b.h, 'height'), w: dim(a.w, b.w, 'width') };
}

function mean(values: Float64Array): number {
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/** What each architecture builder returns. */
export interface BuiltModel {
  /** The serialised ONNX model. */
  readonly bytes: Uint8Array;
  /** Trainable parameters, PyTorch's convention (BN running statistics and constants excluded). */
  readonly params: number;
  /** Multiply–accumulates per frame at the built input size. */
  readonly macs: number;
  /** Manifest fields for writeBundle. */
  readonly draft: ManifestDraft;
}

/** The ImageNet input convention both architectures use: RGB, 1/255, ImageNet mean and std. */
export function imagenetInput(name: string, size: number): InputSpec {
  return {
    name,
    shape: [1, 3, size, size],
    type: 'float32',
    layout: 'NCHW',
    colorOrder: 'RGB',
    scale: 1 / 255,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
  };
}

/** Checks an integer option, naming it in the error. */
export function checkInt(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`${name} must be an integer ≥ ${min}, got ${value}`);
}

function shape(x: Feature): { c: number; h: number; w: number } {
  return { c: x.c, h: x.h, w: x.w };
}
