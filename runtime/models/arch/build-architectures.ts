// models/arch/: builders of the seed paper's architectures (GAIN-ResNet-50, CA-U-Net) as ONNX graphs with
// seeded weights.
import type { Manifest } from '../manifest.js';
import { writeBundle } from '../bundle-write.js';
import { buildCaUnet } from './ca-unet.js';
import { buildGainResNet50 } from './gain-resnet50.js';

/**
 * Builds the paper's two architectures from `seed` (default 1) and writes them as bundles:
 * `<root>/gain-resnet50/` (classify) and `<root>/ca-unet/` (segment). The weights are a seeded
 * initialisation, not trained: the bundles carry `clinical: false` and exist for structure, cost and
 * performance work. The same seed gives byte-identical model.onnx files. Builds one model at a time
 * so that only one set of weights (≈ 100 MB) is held at once.
 */
export async function buildArchitectureBundles(root: string, seed = 1): Promise<Manifest[]> {
  const manifests: Manifest[] = [];
  for (const build of [() => buildGainResNet50({ seed }), () => buildCaUnet({ seed })]) {
    const model = build();
    manifests.push(await writeBundle(root, model.draft, model.bytes));
  }
  return manifests;
}
