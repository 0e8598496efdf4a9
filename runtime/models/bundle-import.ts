// models/: model bundles (manifest, hash, signature): loading, writing, importing and inspecting ONNX
// graphs; arch/ and reference/ build the bundled models.
import { readFile } from 'node:fs/promises';
import { LumenError } from '../errors.js';
import { writeBundle } from './bundle-write.js';
import { inspectOnnx } from './inspect.js';
import type { InputSpec, Manifest, OutputSpec, Task } from './manifest.js';

/** Input normalisations a model exported elsewhere is likely to expect. */
export const NORMALISATIONS: Record<string, Pick<InputSpec, 'scale' | 'mean' | 'std'>> = {
  imagenet: { scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  unit: { scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1] },
  raw: { scale: 1, mean: [0, 0, 0], std: [1, 1, 1] },
};

export interface ImportOptions {
  file: string;
  task: Task;
  id: string;
  version: string;
  root: string;
  normalisation: keyof typeof NORMALISATIONS;
  colorOrder: 'RGB' | 'BGR';
  description?: string;
}

const fail = (file: string, why: string) => new LumenError('BUNDLE_INPUT', `${file}: ${why}`, { file });

/**
 * Wraps an ONNX model exported elsewhere (e.g. from PyTorch) into a bundle after checking it
 * against the task's contract (models/README.md): one float32 NCHW image input with a fixed
 * size, and the task's outputs by name and shape.
 */
export async function importBundle(o: ImportOptions): Promise<Manifest> {
  const bytes = await readFile(o.file).catch(() => {
    throw new LumenError('BUNDLE_MISSING', `${o.file}: cannot read the ONNX file`, { file: o.file });
  });
  const info = inspectOnnx(bytes);
  if (info.inputs.length !== 1) throw fail(o.file, `has ${info.inputs.length} inputs; the contract is one image input`);
  const input = info.inputs[0];
  const dims = input.dims.map((d, i) => (i === 0 && typeof d === 'string' ? 1 : d));
  if (input.type !== 'float32') throw fail(o.file, `input "${input.name}" is ${input.type}; the contract is float32`);
  if (dims.length !== 4 || dims[0] !== 1 || dims[1] !== 3 || dims.slice(2).some((d) => typeof d !== 'number')) {
    throw fail(o.file, `input "${input.name}" has shape [${input.dims.join(', ')}]; the contract is [1, 3, H, W] with fixed H and W`);
  }
  const [, , h, w] = dims as number[];
  const out = (name: string) => info.outputs.find((x) => x.name === name);
  const outputs: OutputSpec[] = [];
  const outErr = (why: string) => new LumenError('BUNDLE_OUTPUT', `${o.file}: ${why}`, { file: o.file });
  const logits = out('logits');
  if (!logits) throw outErr(`no output "logits" (it has ${info.outputs.map((x) => x.name).join(', ')})`);
  const fixed = (d: (number | string)[]) => d.map((v, i) => (i === 0 && typeof v === 'string' ? 1 : v));
  if (o.task === 'classify') {
    const att = out('attention');
    if (!att) throw outErr('no output "attention": export GAIN\'s attention map of the egc class as [1, 1, h, w]');
    const ld = fixed(logits.dims);
    if (ld.length !== 2 || ld[1] !== 2) throw outErr(`"logits" has shape [${logits.dims.join(', ')}]; the contract is [1, 2] (normal, egc)`);
    const ad = fixed(att.dims);
    if (ad.length !== 4 || ad[1] !== 1 || ad.some((d) => typeof d !== 'number'))
      throw outErr(`"attention" has shape [${att.dims.join(', ')}]; the contract is [1, 1, h, w]`);
    outputs.push({ name: 'logits', shape: ld as number[], meaning: 'class logits', classes: ['normal', 'egc'] });
    outputs.push({ name: 'attention', shape: ad as number[], meaning: 'GAIN attention map of the egc class' });
  } else {
    const ld = fixed(logits.dims);
    if (ld.length !== 4 || ld[1] !== 2 || ld[2] !== h || ld[3] !== w) {
      throw outErr(`"logits" has shape [${logits.dims.join(', ')}]; the contract is [1, 2, ${h}, ${w}] (background, lesion) at input resolution`);
    }
    outputs.push({ name: 'logits', shape: ld as number[], meaning: 'per-pixel class logits', classes: ['background', 'lesion'] });
  }
  return writeBundle(
    o.root,
    {
      id: o.id,
      version: o.version,
      task: o.task,
      description: o.description ?? `imported from ${o.file}`,
      clinical: false,
      input: { name: input.name, shape: [1, 3, h, w], type: 'float32', layout: 'NCHW', colorOrder: o.colorOrder, ...NORMALISATIONS[o.normalisation] },
      outputs,
      thresholds: o.task === 'classify' ? { suspicious: 0.5 } : { lesion: 0.5 },
      provenance: { importedFrom: o.file, params: info.params, macs: info.macs },
    },
    bytes,
  );
}
