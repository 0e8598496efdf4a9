import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LumenError } from '../errors.js';
import { sha256Hex } from './bundle-write.js';
import { checkSignature } from './bundle-sign.js';
import { ManifestSchema, TASKS, type Manifest, type Task } from './manifest.js';

export interface LoadedBundle {
  dir: string;
  manifest: Manifest & { task: Task };
  onnx: Uint8Array;
}

export interface TrustPolicy {
  /** Refuse bundles without a valid signature from one of `trustedKeys`. */
  requireSignature: boolean;
  /** PEM public keys. */
  trustedKeys: readonly string[];
}

/**
 * Reads and checks a bundle folder: manifest schema, task, ONNX file present, sha256, and the
 * signature when one is present or required. Each refusal has its own code and names the
 * file and field. What ONNX Runtime itself must check (input and output names and shapes) is
 * done when the session opens (see inference/model-session.ts).
 */
export async function loadBundle(dir: string, trust: TrustPolicy = { requireSignature: false, trustedKeys: [] }): Promise<LoadedBundle> {
  const manifestPath = join(dir, 'manifest.json');
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch {
    throw new LumenError('BUNDLE_MISSING', `${manifestPath}: no manifest`, { file: manifestPath });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new LumenError('BUNDLE_MANIFEST', `${manifestPath}: not valid JSON (${(err as Error).message})`, { file: manifestPath });
  }
  const parsed = ManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.join('.') || '(root)';
    throw new LumenError('BUNDLE_MANIFEST', `${manifestPath}: field ${field}: ${issue.message}`, { file: manifestPath, field });
  }
  const manifest = parsed.data;
  if (!(TASKS as readonly string[]).includes(manifest.task)) {
    throw new LumenError('BUNDLE_TASK', `${manifestPath}: field task: "${manifest.task}" is not one of ${TASKS.join(', ')}`, {
      file: manifestPath,
      field: 'task',
    });
  }
  const onnxPath = join(dir, manifest.onnx.file);
  let onnx: Uint8Array;
  try {
    onnx = await readFile(onnxPath);
  } catch {
    throw new LumenError('BUNDLE_MISSING', `${onnxPath}: the ONNX file named by onnx.file is missing`, { file: onnxPath, field: 'onnx.file' });
  }
  const actual = sha256Hex(onnx);
  if (actual !== manifest.onnx.sha256) {
    throw new LumenError(
      'BUNDLE_HASH',
      `${onnxPath}: sha256 ${actual.slice(0, 16)}… differs from onnx.sha256 ${manifest.onnx.sha256.slice(0, 16)}… in ${manifestPath}`,
      {
        file: onnxPath,
        field: 'onnx.sha256',
      },
    );
  }
  // A signature can only be checked against configured keys; without keys it is informational.
  if (trust.requireSignature || (manifest.signature && trust.trustedKeys.length > 0)) {
    const why = checkSignature(manifest, trust.trustedKeys);
    if (why) throw new LumenError('BUNDLE_SIGNATURE', `${manifestPath}: ${why}`, { file: manifestPath, field: 'signature' });
  }
  return { dir, manifest: manifest as Manifest & { task: Task }, onnx };
}
