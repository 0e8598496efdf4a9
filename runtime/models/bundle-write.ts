import { createHash } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BUNDLE_FORMAT, type Manifest } from './manifest.js';

/** The manifest minus what writeBundle fills in. */
export type ManifestDraft = Omit<Manifest, 'format' | 'onnx' | 'signature'>;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Writes `<root>/<id>/model.onnx` and `manifest.json`. Each file is written beside its final
 * name and renamed into place, so a reader never sees half a bundle file.
 */
export async function writeBundle(root: string, draft: ManifestDraft, onnxBytes: Uint8Array): Promise<Manifest> {
  const dir = join(root, draft.id);
  await mkdir(dir, { recursive: true });
  const manifest: Manifest = {
    format: BUNDLE_FORMAT,
    ...draft,
    onnx: { file: 'model.onnx', sha256: sha256Hex(onnxBytes) },
  };
  await atomicWrite(join(dir, 'model.onnx'), onnxBytes);
  await atomicWrite(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

export async function atomicWrite(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}
