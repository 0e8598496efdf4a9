/**
 * Shape inference over an ONNX graph, node by node, for the operators the builders and common
 * exporters use; and the multiply–accumulates of the nodes that count (see inspect.ts).
 */
import { arithmetic, broadcastShapes, evenSplit, matmulShape, slidingOutput, stepRange, transposedOutput, type Shape } from './shape-math.js';
import { floats, intAttr, ints, normAxis, num, product, tensorValues, type NodeProto, type TensorProto } from './onnx-values.js';

/** Known shapes, and the values of small constant tensors (shape arithmetic, axes, scales). */
export class ShapeEnv {
  readonly shapes = new Map<string, Shape>();
  readonly values = new Map<string, number[]>();

  setTensor(name: string, t: TensorProto): void {
    const dims = (t.dims ?? []).map(num);
    this.shapes.set(name, dims);
    const v = tensorValues(t, product(dims));
    if (v) this.values.set(name, v);
  }

  shape(name: string | undefined): Shape | undefined {
    return name ? this.shapes.get(name) : undefined;
  }

  value(name: string | undefined): number[] | undefined {
    return name ? this.values.get(name) : undefined;
  }
}

const SAME_SHAPE = new Set([
  'Identity',
  'Relu',
  'LeakyRelu',
  'PRelu',
  'Sigmoid',
  'HardSigmoid',
  'HardSwish',
  'Tanh',
  'Elu',
  'Selu',
  'Celu',
  'Softplus',
  'Softsign',
  'Mish',
  'Gelu',
  'Erf',
  'Exp',
  'Log',
  'Sqrt',
  'Reciprocal',
  'Neg',
  'Abs',
  'Floor',
  'Ceil',
  'Round',
  'Sign',
  'Sin',
  'Cos',
  'Not',
  'IsNaN',
  'IsInf',
  'Clip',
  'Dropout',
  'BatchNormalization',
  'InstanceNormalization',
  'LayerNormalization',
  'GroupNormalization',
  'LpNormalization',
  'LRN',
  'Softmax',
  'LogSoftmax',
  'Hardmax',
  'Cast',
  'CastLike',
  'QuantizeLinear',
  'DequantizeLinear',
]);
const BROADCAST = new Set([
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Pow',
  'Max',
  'Min',
  'Sum',
  'Mean',
  'Mod',
  'Equal',
  'Greater',
  'Less',
  'GreaterOrEqual',
  'LessOrEqual',
  'And',
  'Or',
  'Xor',
  'Where',
  'BitShift',
]);
const POOLS = new Set(['MaxPool', 'AveragePool', 'LpPool']);
const GLOBAL_POOLS = new Set(['GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool']);
const REDUCES = new Set([
  'ReduceMean',
  'ReduceMax',
  'ReduceMin',
  'ReduceSum',
  'ReduceProd',
  'ReduceL1',
  'ReduceL2',
  'ReduceLogSum',
  'ReduceLogSumExp',
  'ReduceSumSquare',
  'ArgMax',
  'ArgMin',
]);

/** Infers the output shapes (and constant values) of one node; leaves them unknown when it cannot. */
export function inferNode(env: ShapeEnv, n: NodeProto): void {
  if (n.domain && n.domain !== 'ai.onnx') return;
  const op = n.opType;
  const x = env.shape(n.input[0]);
  const out = n.output[0];
  const set = (shape: Shape | undefined, value?: number[]) => {
    if (shape && shape.every((d) => Number.isInteger(d) && d >= 0)) env.shapes.set(out, shape);
    if (value) env.values.set(out, value);
  };

  if (SAME_SHAPE.has(op)) {
    const v = env.value(n.input[0]);
    return set(x, op === 'Identity' || op === 'Cast' ? v : undefined);
  }
  if (BROADCAST.has(op)) {
    const shapes = n.input.filter(Boolean).map((i) => env.shape(i));
    if (shapes.some((s) => !s)) return;
    return set(
      broadcastShapes(shapes as Shape[]),
      arithmetic(
        op,
        n.input.map((i) => env.value(i)),
      ),
    );
  }
  if (op === 'Conv' || POOLS.has(op)) {
    const w = env.shape(n.input[1]);
    if (!x || (op === 'Conv' && !w)) return;
    const kernel = ints(n, 'kernel_shape') ?? w?.slice(2);
    if (!kernel) return;
    const spatial = slidingOutput(x.slice(2), kernel, n, op !== 'Conv' && intAttr(n, 'ceil_mode', 0) === 1);
    return set(spatial && [x[0], op === 'Conv' ? w![0] : x[1], ...spatial]);
  }
  if (op === 'ConvTranspose') {
    const w = env.shape(n.input[1]);
    if (!x || !w) return;
    return set(transposedOutput(x, w, n));
  }
  if (GLOBAL_POOLS.has(op)) return set(x && [x[0], x[1], ...x.slice(2).map(() => 1)]);
  if (REDUCES.has(op)) {
    if (!x) return;
    const keep = intAttr(n, 'keepdims', 1) === 1;
    let axes = op.startsWith('Arg') ? [intAttr(n, 'axis', 0)] : (ints(n, 'axes') ?? env.value(n.input[1]));
    if (!axes || axes.length === 0) {
      if (intAttr(n, 'noop_with_empty_axes', 0) === 1) return set(x);
      axes = x.map((_, i) => i);
    }
    const norm = axes.map((a) => (a < 0 ? a + x.length : a));
    return set(keep ? x.map((d, i) => (norm.includes(i) ? 1 : d)) : x.filter((_, i) => !norm.includes(i)));
  }
  if (op === 'Gemm') {
    const a = env.shape(n.input[0]);
    const b = env.shape(n.input[1]);
    if (!a || !b) return;
    const m = intAttr(n, 'transA', 0) ? a[1] : a[0];
    const nn = intAttr(n, 'transB', 0) ? b[0] : b[1];
    return set([m, nn]);
  }
  if (op === 'MatMul') {
    const a = env.shape(n.input[0]);
    const b = env.shape(n.input[1]);
    return set(a && b ? matmulShape(a, b)?.out : undefined);
  }
  if (op === 'Flatten') {
    if (!x) return;
    const axis = normAxis(intAttr(n, 'axis', 1), x.length + 1);
    return set([product(x.slice(0, axis)), product(x.slice(axis))]);
  }
  if (op === 'Reshape') {
    const target = env.value(n.input[1]);
    if (!x || !target) return;
    const allowZero = intAttr(n, 'allowzero', 0) === 1;
    const dims = target.map((d, i) => (d === 0 && !allowZero ? x[i] : d));
    const known = product(dims.filter((d) => d !== -1));
    return set(
      dims.map((d) => (d === -1 ? product(x) / known : d)),
      env.value(n.input[0]),
    );
  }
  if (op === 'Squeeze' || op === 'Unsqueeze') {
    if (!x) return;
    const axes = ints(n, 'axes') ?? env.value(n.input[1]);
    const v = env.value(n.input[0]);
    if (op === 'Squeeze') {
      const norm = axes?.map((a) => normAxis(a, x.length));
      return set(
        x.filter((d, i) => (norm ? !norm.includes(i) : d !== 1)),
        v,
      );
    }
    if (!axes) return;
    const rank = x.length + axes.length;
    const norm = axes.map((a) => normAxis(a, rank));
    const shape: Shape = [];
    for (let i = 0, j = 0; i < rank; i++) shape.push(norm.includes(i) ? 1 : x[j++]);
    return set(shape, v);
  }
  if (op === 'Transpose') {
    if (!x) return;
    const perm = ints(n, 'perm') ?? x.map((_, i) => x.length - 1 - i);
    return set(perm.map((p) => x[p]));
  }
  if (op === 'Concat') {
    const shapes = n.input.map((i) => env.shape(i));
    if (shapes.some((s) => !s)) return;
    const axis = normAxis(intAttr(n, 'axis', 0), shapes[0]!.length);
    const shape = [...shapes[0]!];
    shape[axis] = shapes.reduce((s, sh) => s + sh![axis], 0);
    const values = n.input.map((i) => env.value(i));
    return set(shape, values.every(Boolean) ? values.flatMap((v) => v!) : undefined);
  }
  if (op === 'Split') {
    if (!x) return;
    const axis = normAxis(intAttr(n, 'axis', 0), x.length);
    const parts = ints(n, 'split') ?? env.value(n.input[1]) ?? evenSplit(x[axis], n.output.length);
    n.output.forEach((o, i) =>
      env.shapes.set(
        o,
        x.map((d, k) => (k === axis ? parts[i] : d)),
      ),
    );
    return;
  }
  if (op === 'Slice') return set(...slice(env, n, x));
  if (op === 'Gather') {
    const idx = env.shape(n.input[1]);
    if (!x || !idx) return;
    const axis = normAxis(intAttr(n, 'axis', 0), x.length);
    const data = env.value(n.input[0]);
    const at = env.value(n.input[1]);
    const value = data && at && x.length === 1 ? at.map((i) => data[i < 0 ? i + x[0] : i]) : undefined;
    return set([...x.slice(0, axis), ...idx, ...x.slice(axis + 1)], value);
  }
  if (op === 'Shape') {
    if (!x) return;
    const start = normAxis(intAttr(n, 'start', 0), x.length + 1);
    const end = n.attribute.some((a) => a.name === 'end') ? normAxis(intAttr(n, 'end', x.length), x.length + 1) : x.length;
    const v = x.slice(start, end);
    return set([v.length], v);
  }
  if (op === 'Size') return set([], x && [product(x)]);
  if (op === 'Expand') {
    const target = env.value(n.input[1]);
    return set(x && target ? broadcastShapes([x, target]) : undefined);
  }
  if (op === 'Tile') {
    const reps = env.value(n.input[1]);
    return set(x && reps ? x.map((d, i) => d * reps[i]) : undefined);
  }
  if (op === 'Resize' || op === 'Upsample') {
    if (!x) return;
    const sizes = op === 'Resize' ? env.value(n.input[3]) : undefined;
    if (sizes?.length) return set(sizes);
    const scales = env.value(n.input[op === 'Resize' ? 2 : 1]) ?? floats(n, 'scales');
    return set(scales?.length === x.length ? x.map((d, i) => Math.floor(d * scales[i])) : undefined);
  }
  if (op === 'Pad') {
    const pads = env.value(n.input[1]) ?? ints(n, 'pads');
    return set(x && pads ? x.map((d, i) => d + pads[i] + pads[i + x.length]) : undefined);
  }
  if (op === 'DepthToSpace' || op === 'SpaceToDepth') {
    const b = intAttr(n, 'blocksize', 1);
    if (!x) return;
    return set(op === 'DepthToSpace' ? [x[0], x[1] / (b * b), x[2] * b, x[3] * b] : [x[0], x[1] * b * b, x[2] / b, x[3] / b]);
  }
  if (op === 'Constant') {
    const t = n.attribute.find((a) => a.name === 'value')?.t;
    if (t) return env.setTensor(out, t);
    const f = n.attribute.find((a) => a.name?.startsWith('value_'));
    if (!f?.name) return;
    const many = f.name.endsWith('s');
    const list = many ? (f.name === 'value_floats' ? [...(f.floats ?? [])] : (f.ints ?? []).map(num)) : [f.name === 'value_float' ? (f.f ?? 0) : num(f.i)];
    return set(many ? [list.length] : [], list);
  }
  if (op === 'ConstantOfShape') {
    const target = env.value(n.input[0]);
    return set(target);
  }
}

/** MACs of one counted node, or undefined when its shapes are unknown. */
export function nodeMacs(env: ShapeEnv, n: NodeProto): number | undefined {
  const out = env.shape(n.output[0]);
  const a = env.shape(n.input[0]);
  const b = env.shape(n.input[1]);
  if (!out || !a || !b) return undefined;
  switch (n.opType) {
    case 'Conv': // weight [M, C/g, k…]: every output element is a dot product of C/g·∏k terms
      return product(out) * product(b.slice(1));
    case 'ConvTranspose': // weight [C, M/g, k…]: every input element scatters into M/g·∏k outputs
      return product(a) * product(b.slice(1));
    case 'Gemm': {
      const k = intAttr(n, 'transA', 0) ? a[0] : a[1];
      return product(out) * k;
    }
    case 'MatMul': {
      const m = matmulShape(a, b);
      return m && product(m.out) * m.k;
    }
  }
  return undefined;
}

function slice(env: ShapeEnv, n: NodeProto, x: Shape | undefined): [Shape | undefined, number[]?] {
  if (!x) return [undefined];
  const starts = ints(n, 'starts') ?? env.value(n.input[1]);
  const ends = ints(n, 'ends') ?? env.value(n.input[2]);
  if (!starts || !ends) return [undefined];
  const axes = ints(n, 'axes') ?? env.value(n.input[3]) ?? starts.map((_, i) => i);
  const steps = env.value(n.input[4]) ?? starts.map(() => 1);
  const shape = [...x];
  const ranges: [number, number, number][] = x.map((d) => [0, d, 1]);
  axes.forEach((axis, i) => {
    const a = normAxis(axis, x.length);
    const d = x[a];
    const step = steps[i];
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + d : v, lo), hi);
    const s = step > 0 ? clamp(starts[i], 0, d) : clamp(starts[i], -1, d - 1);
    const e = step > 0 ? clamp(ends[i], 0, d) : clamp(ends[i], -1, d - 1);
    shape[a] = Math.max(0, Math.ceil((e - s) / step));
    ranges[a] = [s, e, step];
  });
  const v = env.value(n.input[0]);
  const value = v && x.length === 1 ? stepRange(ranges[0]).map((i) => v[i]) : undefined;
  return [shape, value];
}
