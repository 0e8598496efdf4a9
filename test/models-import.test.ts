import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GraphBuilder } from '../runtime/models/onnx-graph.js';
import { loadBundle } from '../runtime/models/bundle-load.js';
import { lumen, tempDir } from './helpers/daemon.js';

/** A tiny segmenter as another toolchain would export it: symbolic batch, its own input name. */
function exportedSegmenter(outName = 'logits'): Uint8Array {
  const g = new GraphBuilder('exported');
  const x = g.input('input.1', ['batch', 3, 64, 64]);
  const w = g.weight('w', new Float32Array(2 * 3).fill(0.1), [2, 3, 1, 1]);
  g.node('Conv', [x, w], { kernel_shape: [1, 1] }, outName);
  g.output(outName, ['batch', 2, 64, 64]);
  return g.toBytes();
}

t.test('lumen models import wraps a contract-conforming model into a verified bundle', async (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, 'seg.onnx'), exportedSegmenter());
  const c = lumen(['models', 'import', join(dir, 'seg.onnx'), '--task', 'segment', '--id', 'site-seg', '--dir', dir, '--norm', 'unit']);
  const e = await c.exited;
  t.equal(e.code, 0, c.stderr());
  const b = await loadBundle(join(dir, 'site-seg'));
  t.equal(b.manifest.input.name, 'input.1');
  t.same(b.manifest.input.shape, [1, 3, 64, 64]);
  t.same(b.manifest.outputs[0].shape, [1, 2, 64, 64]);
  t.same(b.manifest.input.std, [1, 1, 1]);
});

t.test('import refuses a model that breaks the task contract, naming what is wrong', async (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, 'seg.onnx'), exportedSegmenter('mask'));
  const c = lumen(['models', 'import', join(dir, 'seg.onnx'), '--task', 'segment', '--id', 'x', '--dir', dir]);
  t.equal((await c.exited).code, 2);
  t.match(c.stderr(), /BUNDLE_OUTPUT: .*no output "logits"/);
  writeFileSync(join(dir, 'cls.onnx'), exportedSegmenter());
  const d = lumen(['models', 'import', join(dir, 'cls.onnx'), '--task', 'classify', '--id', 'y', '--dir', dir]);
  t.equal((await d.exited).code, 2);
  t.match(d.stderr(), /BUNDLE_OUTPUT: .*attention/);
  const e = lumen(['models', 'import', join(dir, 'cls.onnx'), '--task', 'detect', '--id', 'z', '--dir', dir]);
  t.equal((await e.exited).code, 2);
  t.match(e.stderr(), /BUNDLE_TASK/);
});
