import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GraphBuilder } from '../../runtime/models/onnx-graph.js';
import { writeBundle } from '../../runtime/models/bundle-write.js';
import type { Manifest } from '../../runtime/models/manifest.js';
import { omit } from './bundles.js';
import { ROOT } from './daemon.js';

/**
 * A release of `ref-classifier` that regressed: the same contract, a valid hashed bundle that
 * loads and runs, but it scores every frame "normal" (EGC probability about 0.0003), so the
 * selftest misses every demo lesion.
 */
export async function writeBlindClassifier(root: string): Promise<Manifest> {
  const ref = JSON.parse(readFileSync(join(ROOT, 'models/ref-classifier/manifest.json'), 'utf8')) as Manifest;
  const g = new GraphBuilder('blind-classifier');
  const x = g.input('image', [1, 3, 224, 224]);
  const grey = g.node('ReduceMean', [x], { axes: [1], keepdims: 1 });
  const cells = g.node('AveragePool', [grey], { kernel_shape: [32, 32], strides: [32, 32] });
  g.node('Mul', [cells, g.weight('zero', Float32Array.of(0), [1])], {}, 'attention');
  const flat = g.node('Flatten', ['attention'], { axis: 1 });
  g.node('Gemm', [flat, g.weight('fc', new Float32Array(49 * 2), [49, 2]), g.weight('bias', Float32Array.of(4, -4), [2])], {}, 'logits');
  g.output('attention', [1, 1, 7, 7]);
  g.output('logits', [1, 2]);
  const draft = omit(ref, 'format', 'onnx', 'signature', 'provenance');
  return writeBundle(
    root,
    { ...draft, version: '1.0.1', description: 'test fixture: a regressed reference classifier that never finds a lesion' },
    g.toBytes(),
  );
}
