import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
// Only this test loads ONNX Runtime directly; the runtime goes through its own wrapper.
import * as ort from 'onnxruntime-node';
import { buildArchitectureBundles } from '../runtime/models/arch/build-architectures.js';
import { buildCaUnet, defaultAsppRates } from '../runtime/models/arch/ca-unet.js';
import { buildGainResNet50 } from '../runtime/models/arch/gain-resnet50.js';
import { SeededRandom } from '../runtime/util/random.js';
import { sha256Hex } from '../runtime/models/bundle-write.js';
import { formatInspection, inspectOnnx } from '../runtime/models/inspect.js';
import { ManifestSchema, TASK_CONTRACT, type Task } from '../runtime/models/manifest.js';
import { GraphBuilder } from '../runtime/models/onnx-graph.js';
import { isLumenError } from '../runtime/errors.js';

const { onnx } = onnxProto;

/**
 * torchvision's ResNet50_Weights.IMAGENET1K_V1 lists GFLOPS 4.09 (`_ops` 4.089, counted as MACs:
 * conv + fc = 4,089,184,256). Our graph adds GAIN's attention map, a 1×1 conv of 2048 × 7 × 7.
 */
const TORCHVISION_RESNET50_MACS = 4.089e9;
const CONV_FC_MACS_1000 = 4_089_184_256;
const CAM_MACS = 2048 * 7 * 7;

function nodes(bytes: Uint8Array) {
  return onnx.ModelProto.decode(bytes).graph!.node!;
}

function intsOf(node: { attribute?: { name?: string | null; ints?: unknown[] | null }[] | null }, name: string): number[] {
  return (node.attribute ?? []).find((a) => a.name === name)?.ints?.map(Number) ?? [];
}

/** Runs one inference on CPU with a seeded noise image; returns the outputs by name. */
async function runOnce(bytes: Uint8Array, side: number): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(Buffer.from(bytes), { executionProviders: ['cpu'] });
  try {
    const image = new SeededRandom(7).fillNormal(new Float32Array(3 * side * side), 1);
    return await session.run({ image: new ort.Tensor('float32', image, [1, 3, side, side]) });
  } finally {
    await session.release();
  }
}

function finiteRange(data: Float32Array): { finite: boolean; maxAbs: number } {
  let maxAbs = 0;
  for (const v of data) {
    if (!Number.isFinite(v)) return { finite: false, maxAbs: Infinity };
    maxAbs = Math.max(maxAbs, Math.abs(v));
  }
  return { finite: true, maxAbs };
}

t.test('seeded random is deterministic and roughly normal', async (t) => {
  const a = new SeededRandom(42).fillNormal(new Float32Array(100_000), 1);
  const b = new SeededRandom(42).fillNormal(new Float32Array(100_000), 1);
  // Byte comparisons: tap's deep equality is far too slow for 100 000-element arrays.
  const bytes = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  t.ok(bytes(a).equals(bytes(b)), 'same seed, same stream');
  t.notOk(bytes(a).equals(bytes(new SeededRandom(43).fillNormal(new Float32Array(100_000), 1))), 'another seed, another stream');
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  const variance = a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length;
  t.ok(Math.abs(mean) < 0.02 && Math.abs(variance - 1) < 0.02, `mean ${mean.toFixed(4)}, variance ${variance.toFixed(4)}`);
  t.throws(() => new SeededRandom(-1), RangeError);
  t.throws(() => new SeededRandom(1.5), RangeError);
});

t.test('GAIN-ResNet-50 with 1000 classes matches torchvision resnet50', async (t) => {
  const classes = Array.from({ length: 1000 }, (_, i) => (i === 1 ? 'egc' : `class${i}`));
  const model = buildGainResNet50({ seed: 1, classes });
  const info = inspectOnnx(model.bytes);
  t.equal(info.params, 25_557_032, 'inspected parameters = torchvision num_params');
  t.equal(model.params, 25_557_032, 'builder parameters');
  t.equal(info.macs, CONV_FC_MACS_1000 + CAM_MACS, 'inspected MACs = conv + fc + attention');
  t.equal(model.macs, info.macs, 'builder and graph agree on MACs');
  t.ok(Math.abs(info.macs / TORCHVISION_RESNET50_MACS - 1) < 0.02, `MACs ${info.macs} within 2 % of 4.089 G`);
  t.same(info.opCounts.Conv, 54, '53 convs + attention');
  t.same(info.opCounts.BatchNormalization, 53);
});

t.test('GAIN-ResNet-50 (2 classes): params, seed sensitivity, and it runs in ONNX Runtime', async (t) => {
  const model = buildGainResNet50({ seed: 1 });
  const info = inspectOnnx(model.bytes);
  t.equal(info.params, 23_512_130);
  t.equal(model.params, 23_512_130);
  t.equal(info.macs, model.macs);
  t.same(info.inputs, [{ name: 'image', type: 'float32', dims: [1, 3, 224, 224] }]);
  t.same(
    info.outputs.map((o) => [o.name, o.dims]),
    [
      ['logits', [1, 2]],
      ['attention', [1, 1, 7, 7]],
    ],
  );
  t.same(info.unresolved, []);
  t.match(formatInspection(info), /params\s+23,512,130/);

  t.equal(sha256Hex(buildGainResNet50({ seed: 2 }).bytes) === sha256Hex(model.bytes), false, 'another seed, other weights');

  const out = await runOnce(model.bytes, 224);
  t.same(out.logits.dims, [1, 2]);
  t.same(out.attention.dims, [1, 1, 7, 7]);
  const logits = finiteRange(out.logits.data as Float32Array);
  const attention = finiteRange(out.attention.data as Float32Array);
  t.ok(logits.finite && attention.finite, 'finite outputs');
  t.ok(logits.maxAbs < 20 && attention.maxAbs < 50, `moderate logits (max |x| ${logits.maxAbs.toFixed(3)})`);

  // The attention map is the egc row of fc applied at each position: its mean is egc's logit.
  const att = out.attention.data as Float32Array;
  const meanAtt = att.reduce((s, v) => s + v, 0) / att.length;
  t.ok(Math.abs(meanAtt - (out.logits.data as Float32Array)[1]) < 1e-3, 'mean of the CAM = egc logit');
});

t.test('CA-U-Net: CBAM and ASPP present, params and MACs agree, runs in ONNX Runtime', async (t) => {
  const model = buildCaUnet({ seed: 1 });
  const info = inspectOnnx(model.bytes);
  t.equal(info.params, model.params, `params ${model.params}`);
  t.equal(info.macs, model.macs, `MACs ${model.macs}`);
  t.same(info.unresolved, []);
  t.same(info.outputs, [{ name: 'logits', type: 'float32', dims: [1, 2, 256, 256] }]);

  const graph = nodes(model.bytes);
  const count = (op: string) => graph.filter((n) => n.opType === op).length;
  // CBAM after 4 encoder + 4 decoder levels: two sigmoid gates, one global max pool, one 7×7 conv each.
  t.equal(count('Sigmoid'), 16, 'two CBAM gates × 8 levels');
  t.equal(count('GlobalMaxPool'), 8, 'channel attention max descriptor × 8');
  t.equal(graph.filter((n) => n.opType === 'Conv' && intsOf(n, 'kernel_shape')[0] === 7).length, 8, '7×7 spatial convs');
  // CBAM's MLP is shared: its two weights feed two Conv nodes each.
  const uses = new Map<string, number>();
  for (const n of graph) if (n.opType === 'Conv') uses.set(n.input![1], (uses.get(n.input![1]) ?? 0) + 1);
  t.equal([...uses.values()].filter((u) => u === 2).length, 16, 'shared MLP weights');
  // ASPP: atrous convs at the scaled rates and an image-pooling branch.
  const dilations = graph
    .filter((n) => n.opType === 'Conv')
    .map((n) => intsOf(n, 'dilations')[0])
    .filter((d) => d > 1);
  t.same(dilations, defaultAsppRates(16), 'atrous rates 3/6/9 at a 16×16 bottleneck');
  t.same(defaultAsppRates(16), [3, 6, 9]);
  t.equal(count('Expand'), 1, 'image-pooling branch');
  t.equal(count('ConvTranspose'), 4, 'four up-sampling steps');

  t.equal(sha256Hex(buildCaUnet({ seed: 1 }).bytes), sha256Hex(model.bytes), 'same seed, same bytes');
  t.not(sha256Hex(buildCaUnet({ seed: 2 }).bytes), sha256Hex(model.bytes), 'another seed, other bytes');

  const out = await runOnce(model.bytes, 256);
  t.same(out.logits.dims, [1, 2, 256, 256]);
  const logits = finiteRange(out.logits.data as Float32Array);
  t.ok(logits.finite && logits.maxAbs < 20, `finite, moderate logits (max |x| ${logits.maxAbs.toFixed(3)})`);

  t.throws(() => buildCaUnet({ seed: 1, inputSize: 250 }), /multiple of/);
});

t.test('buildArchitectureBundles writes valid, reproducible bundles', async (t) => {
  const root = t.testdir({ a: {}, b: {} });
  const dirs = [join(root, 'a'), join(root, 'b')];
  const first = await buildArchitectureBundles(dirs[0]);
  const second = await buildArchitectureBundles(dirs[1]);
  t.same(
    first.map((m) => m.id),
    ['gain-resnet50', 'ca-unet'],
  );
  for (const [i, manifest] of first.entries()) {
    const onDisk = ManifestSchema.parse(JSON.parse(readFileSync(join(dirs[0], manifest.id, 'manifest.json'), 'utf8')));
    const bytes = readFileSync(join(dirs[0], manifest.id, 'model.onnx'));
    t.equal(sha256Hex(bytes), onDisk.onnx.sha256, `${manifest.id}: sha256 matches the file`);
    t.equal(onDisk.onnx.sha256, second[i].onnx.sha256, `${manifest.id}: same seed, byte-identical model.onnx`);
    t.equal(onDisk.clinical, false);
    t.match(onDisk.description, /NOT a trained model/);
    t.equal(onDisk.provenance?.seed, 1);
    const contract = TASK_CONTRACT[onDisk.task as Task];
    t.ok(contract, `task ${onDisk.task}`);
    t.same(
      contract.outputs.filter((o) => !onDisk.outputs.some((x) => x.name === o)),
      [],
      'contract outputs present',
    );
    const info = inspectOnnx(bytes);
    t.equal(onDisk.provenance?.params, info.params);
    t.equal(onDisk.provenance?.macs, info.macs);
    t.same(info.inputs[0].dims, onDisk.input.shape);
    for (const o of onDisk.outputs) t.same(info.outputs.find((x) => x.name === o.name)?.dims, o.shape, `${o.name} shape`);
  }
  t.same(first[0].thresholds, { suspicious: 0.5 });
  t.same(first[1].thresholds, { lesion: 0.5 });
});

t.test('inspectOnnx infers shapes through a foreign-style graph', async (t) => {
  // Symbolic batch, Resize by scales, Shape → Gather → Concat → Reshape, MatMul: what exporters emit.
  const g = new GraphBuilder('foreign');
  const x = g.input('x', ['N', 3, 32, 32]);
  const w = g.weight('w', new Float32Array(8 * 3 * 9).fill(0.01), [8, 3, 3, 3]);
  const conv = g.node('Conv', [x, w], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  const scales = g.weight('scales', new Float32Array([1, 1, 2, 2]), [4], false);
  const up = g.node('Resize', [conv, '', scales], { mode: 'nearest' });
  const pooled = g.node('GlobalAveragePool', [up]);
  const batch = g.node('Gather', [g.node('Shape', [pooled]), g.int64s('zero', [0])], { axis: 0 });
  const flat = g.node('Reshape', [pooled, g.node('Concat', [batch, g.int64s('minus1', [-1])], { axis: 0 })]);
  const m = g.weight('m', new Float32Array(8 * 4).fill(0.1), [8, 4]);
  const b = g.weight('b', new Float32Array(4), [4]);
  g.node('Add', [g.node('MatMul', [flat, m]), b], {}, 'y');
  g.output('y', ['N', 4]);
  const bytes = g.toBytes();

  const info = inspectOnnx(bytes);
  t.same(info.inputs, [{ name: 'x', type: 'float32', dims: ['N', 3, 32, 32] }]);
  t.equal(info.params, 216 + 32 + 4, 'Resize scales are not parameters');
  t.same(info.macsByOp, { Conv: 8 * 32 * 32 * 3 * 9, MatMul: 8 * 4 });
  t.same(info.unresolved, []);

  const session = await ort.InferenceSession.create(Buffer.from(bytes));
  const out = await session.run({ x: new ort.Tensor('float32', new Float32Array(2 * 3 * 32 * 32), [2, 3, 32, 32]) });
  t.same(out.y.dims, [2, 4], 'the graph is valid ONNX');
  await session.release();

  const err = (() => {
    try {
      inspectOnnx(new Uint8Array([0xff, 0xff, 0xff, 0x01, 0x02]));
    } catch (e) {
      return e;
    }
  })();
  t.ok(isLumenError(err, 'BUNDLE_ONNX'), 'garbage is BUNDLE_ONNX');
});
