import { GraphBuilder } from '../../runtime/models/onnx-graph.js';
import { writeBundle } from '../../runtime/models/bundle-write.js';
import type { Manifest } from '../../runtime/models/manifest.js';

/**
 * A classifier bundle that honours the classify contract but costs ~1.8 G multiply–accumulates
 * per frame (a 64→64 3×3 convolution at 224×224): slower than a 30 fps feed on this CPU.
 */
export async function writeSlowClassifier(root: string): Promise<Manifest> {
  const g = new GraphBuilder('slow-classifier');
  const x = g.input('image', [1, 3, 224, 224]);
  const w1 = g.weight('w1', new Float32Array(64 * 3 * 9).fill(0.01), [64, 3, 3, 3]);
  const w2 = g.weight('w2', new Float32Array(64 * 64 * 9).fill(0.001), [64, 64, 3, 3]);
  const h1 = g.node('Conv', [x, w1], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  const h2 = g.node('Conv', [h1, w2], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  const h3 = g.node('Conv', [h2, w2], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  const one = g.node('ReduceMean', [h3], { axes: [1], keepdims: 1 });
  g.node('AveragePool', [one], { kernel_shape: [32, 32], strides: [32, 32] }, 'attention');
  const flat = g.node('Flatten', ['attention'], { axis: 1 });
  g.node('Gemm', [flat, g.weight('fc', new Float32Array(49 * 2), [49, 2])], {}, 'logits');
  g.output('attention', [1, 1, 7, 7]);
  g.output('logits', [1, 2]);
  return writeBundle(
    root,
    {
      id: 'slow-classifier',
      version: '0.0.1',
      task: 'classify',
      description: 'test fixture: deliberately slow',
      clinical: false,
      input: { name: 'image', shape: [1, 3, 224, 224], type: 'float32', layout: 'NCHW', colorOrder: 'RGB', scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1] },
      outputs: [
        { name: 'logits', shape: [1, 2], meaning: 'logits', classes: ['normal', 'egc'] },
        { name: 'attention', shape: [1, 1, 7, 7], meaning: 'attention' },
      ],
      thresholds: { suspicious: 0.5 },
    },
    g.toBytes(),
  );
}
