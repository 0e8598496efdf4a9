import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** ONNX opset the builders target; ONNX Runtime 1.30 supports it on every provider. */
export const OPSET = 17;
const IR_VERSION = 8;

/** Marks a float attribute whose value happens to be integral (e.g. alpha = 1). */
export class FloatAttr {
  constructor(readonly value: number) {}
}

export type AttrValue = number | number[] | string | Float32Array | FloatAttr;

/** Float tensor dimensions; a string is a symbolic (dynamic) dimension. */
export type Dims = readonly (number | string)[];

/**
 * Builds an ONNX graph node by node. Only float32 tensors are used; weights are stored as raw
 * little-endian bytes so that a 100 MB model serialises quickly and deterministically.
 */
export class GraphBuilder {
  private readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  private readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private readonly inputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly outputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly used = new Set<string>();
  private counter = 0;
  /** Number of float weights added, for parameter counts. */
  paramCount = 0;

  constructor(readonly name: string) {}

  /** A fresh tensor name with the given prefix. */
  fresh(prefix: string): string {
    let name = `${prefix}_${this.counter++}`;
    while (this.used.has(name)) name = `${prefix}_${this.counter++}`;
    this.used.add(name);
    return name;
  }

  input(name: string, dims: Dims): string {
    this.used.add(name);
    this.inputs.push(valueInfo(name, dims));
    return name;
  }

  output(name: string, dims: Dims): void {
    this.outputs.push(valueInfo(name, dims));
  }

  /** A float32 constant (weight). `countAsParam` is false for fixed constants such as shapes. */
  weight(prefix: string, values: Float32Array, dims: readonly number[], countAsParam = true): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (values.length !== expected) throw new Error(`weight ${prefix}: ${values.length} values for dims ${dims.join('×')}`);
    const name = this.fresh(prefix);
    const raw = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    this.initializers.push(onnx.TensorProto.create({ name, dims: [...dims], dataType: onnx.TensorProto.DataType.FLOAT, rawData: raw }));
    if (countAsParam) this.paramCount += values.length;
    return name;
  }

  /** An int64 constant (shapes, axes). */
  int64s(prefix: string, values: readonly number[]): string {
    const name = this.fresh(prefix);
    const raw = new Uint8Array(values.length * 8);
    const view = new DataView(raw.buffer);
    values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
    this.initializers.push(onnx.TensorProto.create({ name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, rawData: raw }));
    return name;
  }

  /** Adds a node; returns its first output's name (`out` names it, else a fresh name). */
  node(op: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, out?: string): string {
    const output = out ?? this.fresh(op.toLowerCase());
    this.used.add(output);
    this.nodes.push(
      onnx.NodeProto.create({
        opType: op,
        name: `${op}_${this.nodes.length}`,
        input: [...inputs],
        output: [output],
        attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
      }),
    );
    return output;
  }

  /** Serialises the model. `metadata` lands in the model's metadata_props. */
  toBytes(metadata: Record<string, string> = {}): Uint8Array {
    const graph = onnx.GraphProto.create({
      name: this.name,
      node: this.nodes,
      initializer: this.initializers,
      input: this.inputs,
      output: this.outputs,
    });
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      producerName: 'lumen-edge',
      producerVersion: '1',
      opsetImport: [{ domain: '', version: OPSET }],
      graph,
      metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, dims: Dims) {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

function attribute(name: string, v: AttrValue) {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(v) });
  if (v instanceof Float32Array) return onnx.AttributeProto.create({ name, type: T.FLOATS, floats: [...v] });
  if (v instanceof FloatAttr) return onnx.AttributeProto.create({ name, type: T.FLOAT, f: v.value });
  if (Array.isArray(v)) return onnx.AttributeProto.create({ name, type: T.INTS, ints: v });
  if (Number.isInteger(v)) return onnx.AttributeProto.create({ name, type: T.INT, i: v });
  return onnx.AttributeProto.create({ name, type: T.FLOAT, f: v });
}
