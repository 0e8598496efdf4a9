/**
 * The geometry of ONNX operators: output sizes of sliding windows (convolution, pooling) and
 * their transposes, matrix products and broadcasting, and constant folding of shape arithmetic.
 */
import { intAttr, ints, strAttr, type NodeProto } from './onnx-values.js';

export type Shape = number[];

export function slidingOutput(input: Shape, kernel: number[], n: NodeProto, ceil: boolean): Shape | undefined {
  const r = input.length;
  if (kernel.length !== r) return undefined;
  const strides = ints(n, 'strides') ?? new Array<number>(r).fill(1);
  const dil = ints(n, 'dilations') ?? new Array<number>(r).fill(1);
  const pads = ints(n, 'pads') ?? new Array<number>(2 * r).fill(0);
  const autoPad = strAttr(n, 'auto_pad', 'NOTSET');
  return input.map((d, i) => {
    const span = dil[i] * (kernel[i] - 1) + 1;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return Math.ceil(d / strides[i]);
    const padded = autoPad === 'VALID' ? d : d + pads[i] + pads[i + r];
    const q = (padded - span) / strides[i];
    return (ceil ? Math.ceil(q) : Math.floor(q)) + 1;
  });
}

export function transposedOutput(x: Shape, w: Shape, n: NodeProto): Shape | undefined {
  const r = x.length - 2;
  const group = intAttr(n, 'group', 1);
  const kernel = ints(n, 'kernel_shape') ?? w.slice(2);
  const strides = ints(n, 'strides') ?? new Array<number>(r).fill(1);
  const dil = ints(n, 'dilations') ?? new Array<number>(r).fill(1);
  const pads = ints(n, 'pads') ?? new Array<number>(2 * r).fill(0);
  const outPad = ints(n, 'output_padding') ?? new Array<number>(r).fill(0);
  const outShape = ints(n, 'output_shape');
  const autoPad = strAttr(n, 'auto_pad', 'NOTSET');
  const spatial = x.slice(2).map((d, i) => {
    if (outShape) return outShape[outShape.length - r + i];
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return d * strides[i];
    return strides[i] * (d - 1) + outPad[i] + (kernel[i] - 1) * dil[i] + 1 - pads[i] - pads[i + r];
  });
  return [x[0], w[1] * group, ...spatial];
}

export function matmulShape(a: Shape, b: Shape): { out: Shape; k: number } | undefined {
  const a2 = a.length === 1 ? [1, a[0]] : a;
  const b2 = b.length === 1 ? [b[0], 1] : b;
  const k = a2[a2.length - 1];
  if (k !== b2[b2.length - 2]) return undefined;
  const batch = broadcastShapes([a2.slice(0, -2), b2.slice(0, -2)]);
  if (!batch) return undefined;
  const out = [...batch, ...(a.length === 1 ? [] : [a2[a2.length - 2]]), ...(b.length === 1 ? [] : [b2[b2.length - 1]])];
  return { out, k };
}

export function stepRange([s, e, step]: [number, number, number]): number[] {
  const out: number[] = [];
  for (let i = s; step > 0 ? i < e : i > e; i += step) out.push(i);
  return out;
}

export function broadcastShapes(shapes: Shape[]): Shape | undefined {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: Shape = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const v = s[s.length - rank + i] ?? 1;
      if (v !== 1 && d !== 1 && v !== d) return undefined;
      if (v !== 1) d = v;
    }
    out.push(shapes.some((s) => (s[s.length - rank + i] ?? 1) === 0) ? 0 : d);
  }
  return out;
}

/** Constant folding of integer shape arithmetic (Add/Sub/Mul/Div on known 1-D values). */
export function arithmetic(op: string, values: (number[] | undefined)[]): number[] | undefined {
  const [a, b] = values;
  if (!a || !b || values.length !== 2) return undefined;
  const len = Math.max(a.length, b.length);
  if ((a.length !== len && a.length !== 1) || (b.length !== len && b.length !== 1)) return undefined;
  const f: Record<string, (p: number, q: number) => number> = {
    Add: (p, q) => p + q,
    Sub: (p, q) => p - q,
    Mul: (p, q) => p * q,
    Div: (p, q) => Math.trunc(p / q),
  };
  const fn = f[op];
  return fn && Array.from({ length: len }, (_, i) => fn(a[a.length === 1 ? 0 : i], b[b.length === 1 ? 0 : i]));
}

export function evenSplit(d: number, parts: number): number[] {
  const size = Math.ceil(d / parts);
  return Array.from({ length: parts }, (_, i) => Math.max(0, Math.min(size, d - i * size)));
}
