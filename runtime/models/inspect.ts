import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { LumenError } from '../errors.js';
import { inferNode, nodeMacs, ShapeEnv } from './onnx-shapes.js';
import { num, product } from './onnx-values.js';

const { onnx } = onnxProto;
type NodeProto = InstanceType<typeof onnx.NodeProto>;
type ValueInfo = OnnxTypes.IValueInfoProto;

/** A graph input or output: name, element type and dimensions (a string is a symbolic dimension). */
export interface TensorSummary {
  readonly name: string;
  readonly type: string;
  readonly dims: (number | string)[];
}

/** What `inspectOnnx` reads from a model. */
export interface OnnxInspection {
  readonly graphName: string;
  readonly producer: string;
  readonly irVersion: number;
  /** Operator sets, e.g. ['ai.onnx 17']. */
  readonly opsets: string[];
  readonly metadata: Record<string, string>;
  readonly inputs: TensorSummary[];
  readonly outputs: TensorSummary[];
  readonly nodeCount: number;
  /** Nodes per operator type, most frequent first. */
  readonly opCounts: Record<string, number>;
  /**
   * Trainable parameters, PyTorch's convention: elements of floating-point initializers, except
   * BatchNormalization running mean / variance (its inputs 3 and 4) and float arguments that are not
   * weights (Resize roi / scales, Upsample scales, Clip bounds, Pad pads / value). Integer
   * initializers (shapes, axes, indices) never count. A weight shared by several nodes counts once.
   */
  readonly params: number;
  /** Bytes of the initializers counted in `params`, as stored. */
  readonly paramBytes: number;
  /**
   * Multiply–accumulates per frame (batch 1: a symbolic batch dimension is taken as 1, a fixed
   * batch N is divided out), from shape inference over the graph. Counted: Conv (Cout·∏out·Cin/g·∏k),
   * ConvTranspose (Cin·∏in·Cout/g·∏k), Gemm (M·N·K) and MatMul (batch·M·N·K). Element-wise ops,
   * pooling, normalisation and resizing count nothing (the torchvision / fvcore convention).
   */
  readonly macs: number;
  readonly macsByOp: Record<string, number>;
  /** Counted nodes whose shapes could not be inferred; `macs` lacks their share when non-empty. */
  readonly unresolved: string[];
}

export interface InspectOptions {
  /** Values for symbolic dimensions other than a leading batch dimension, by name. */
  dims?: Record<string, number>;
}

const TYPE_NAMES: Record<number, string> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  16: 'bfloat16',
};
const FLOAT_TYPES = new Set([1, 10, 11, 16]);
const BYTES_PER_ELEMENT: Record<number, number> = { 1: 4, 10: 2, 11: 8, 16: 2 };
/** Float inputs that are arguments, not weights: op → input indices. */
const NON_WEIGHT_INPUTS: Record<string, number[]> = {
  BatchNormalization: [3, 4],
  Resize: [1, 2],
  Upsample: [1],
  Clip: [1, 2],
  Pad: [1, 2],
};
const COUNTED_OPS = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);

/**
 * Parses an ONNX model and reports its interface, parameter count and MACs per frame. Works on any
 * model: everything is read from the graph itself. Throws LumenError BUNDLE_ONNX if the bytes are
 * not an ONNX model.
 */
export function inspectOnnx(bytes: Uint8Array, options: InspectOptions = {}): OnnxInspection {
  let model: InstanceType<typeof onnx.ModelProto>;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new LumenError('BUNDLE_ONNX', `not an ONNX model: ${(err as Error).message}`, {}, { cause: err });
  }
  const graph = model.graph;
  if (!graph || !graph.node?.length) throw new LumenError('BUNDLE_ONNX', 'the ONNX model has no graph (or an empty one)');

  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const inputs = (graph.input ?? []).filter((v) => !initializers.has(v.name ?? '')).map(summary);
  const outputs = (graph.output ?? []).map(summary);
  const nodes = graph.node as NodeProto[];

  const opCounts: Record<string, number> = {};
  for (const n of nodes) opCounts[n.opType] = (opCounts[n.opType] ?? 0) + 1;

  // Parameters.
  const notWeights = new Set<string>();
  for (const n of nodes) for (const i of NON_WEIGHT_INPUTS[n.opType] ?? []) if (n.input[i]) notWeights.add(n.input[i]);
  let params = 0;
  let paramBytes = 0;
  for (const t of initializers.values()) {
    if (!FLOAT_TYPES.has(t.dataType ?? 0) || notWeights.has(t.name ?? '')) continue;
    const count = product((t.dims ?? []).map(num));
    params += count;
    paramBytes += count * (BYTES_PER_ELEMENT[t.dataType ?? 1] ?? 4);
  }

  // Shapes, then MACs.
  const env = new ShapeEnv();
  for (const t of initializers.values()) env.setTensor(t.name ?? '', t);
  const firstInput = inputs[0];
  const frames = firstInput && typeof firstInput.dims[0] === 'number' && firstInput.dims[0] > 0 ? firstInput.dims[0] : 1;
  for (const v of inputs) {
    const dims = v.dims.map((d, i) => (typeof d === 'number' ? d : (options.dims?.[d] ?? (i === 0 ? 1 : undefined))));
    if (dims.every((d): d is number => d !== undefined)) env.shapes.set(v.name, dims);
  }
  const macsByOp: Record<string, number> = {};
  const unresolved: string[] = [];
  nodes.forEach((n, index) => {
    inferNode(env, n);
    if (!COUNTED_OPS.has(n.opType) || (n.domain && n.domain !== 'ai.onnx')) return;
    const macs = nodeMacs(env, n);
    if (macs === undefined) unresolved.push(n.name || `${n.opType}#${index}`);
    else macsByOp[n.opType] = (macsByOp[n.opType] ?? 0) + macs / frames;
  });

  return {
    graphName: graph.name ?? '',
    producer: [model.producerName, model.producerVersion].filter(Boolean).join(' '),
    irVersion: num(model.irVersion),
    opsets: (model.opsetImport ?? []).map((o) => `${o.domain || 'ai.onnx'} ${num(o.version)}`),
    metadata: Object.fromEntries((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? ''])),
    inputs,
    outputs,
    nodeCount: nodes.length,
    opCounts: Object.fromEntries(Object.entries(opCounts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))),
    params,
    paramBytes,
    macs: Object.values(macsByOp).reduce((a, b) => a + b, 0),
    macsByOp,
    unresolved,
  };
}

/** The text `lumen models inspect ID` prints. */
export function formatInspection(r: OnnxInspection, title = r.graphName): string {
  const rows: [string, string][] = [];
  rows.push(['producer', `${r.producer || '?'} · IR ${r.irVersion} · ${r.opsets.join(', ')}`]);
  const width = Math.max(...[...r.inputs, ...r.outputs].map((t) => t.name.length), 0);
  for (const t of r.inputs) rows.push(['input', `${t.name.padEnd(width)}  ${t.type} [${t.dims.join(', ')}]`]);
  for (const t of r.outputs) rows.push(['output', `${t.name.padEnd(width)}  ${t.type} [${t.dims.join(', ')}]`]);
  rows.push(['params', `${group(r.params)} (${si(r.params)}, ${si(r.paramBytes, 'B')})`]);
  const byOp = Object.entries(r.macsByOp)
    .map(([op, m]) => `${op} ${si(m)}`)
    .join(', ');
  rows.push(['MACs', `${group(Math.round(r.macs))} per frame (${si(r.macs)}${byOp ? `: ${byOp}` : ''})`]);
  if (r.unresolved.length) {
    const shown = r.unresolved.slice(0, 5).join(', ') + (r.unresolved.length > 5 ? ', …' : '');
    rows.push(['', `incomplete: shapes unknown at ${r.unresolved.length} node(s): ${shown}`]);
  }
  rows.push([
    'nodes',
    `${r.nodeCount}: ${Object.entries(r.opCounts)
      .map(([op, n]) => `${op} ${n}`)
      .join(', ')}`,
  ]);
  for (const [k, v] of Object.entries(r.metadata)) rows.push(['metadata', `${k} = ${v}`]);
  return [title, ...rows.map(([k, v]) => `  ${k.padEnd(9)}${v}`)].join('\n') + '\n';
}

// ---- shape inference ---------------------------------------------------------------------------

function summary(v: ValueInfo): TensorSummary {
  const t = v.type?.tensorType;
  const dims = (t?.shape?.dim ?? []).map((d: OnnxTypes.TensorShapeProto.IDimension) =>
    d.dimParam ? d.dimParam : d.dimValue !== undefined && d.dimValue !== null ? num(d.dimValue) : '?',
  );
  return { name: v.name ?? '', type: TYPE_NAMES[t?.elemType ?? 0] ?? `type ${t?.elemType ?? '?'}`, dims };
}

/** Values of a small integer or float tensor (≤ 4096 elements), else undefined. */
function group(n: number): string {
  return n.toLocaleString('en-US');
}

/** si(4.09e9) → "4.09 G", si(1.5e6, 'B') → "1.50 MB", si(98) → "98". */
function si(n: number, unit = ''): string {
  const prefixes: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [v, p] of prefixes) if (Math.abs(n) >= v) return `${(n / v).toFixed(2)} ${p}${unit}`;
  return unit ? `${n} ${unit}` : `${n}`;
}
