import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';
import { makeFeed, type MadeFeed } from '../../runtime/feed/make-feed.js';
import type { FeedOptions } from '../../runtime/feed/schedule.js';
import { writeBundle } from '../../runtime/models/bundle-write.js';
import type { Manifest } from '../../runtime/models/manifest.js';
import { omit } from './bundles.js';
import { lumen, ROOT } from './daemon.js';

/**
 * The golden QA feed: 15 s at 10 fps, 320×240, seed 18 of the `full` schedule — an
 * overexposed stretch, a blurred one, heavy bleeding, a small red lesion and a pale lesion the
 * reference models do not see — with burned-in on-screen text. No trickle of blood beside the
 * lesions, so that the lesion metrics measure the models on lesions (test/blood-mask.test.ts
 * measures the blood). Its baseline is test/fixtures/qa/.
 */
export const GOLDEN: FeedOptions = { width: 320, height: 240, fps: 10, seconds: 15, seed: 18, episodes: 'full', trickles: false };

export const GOLDEN_BASELINE = fileURLToPath(new URL('../fixtures/qa/golden.baseline.json', import.meta.url));
/** Real polyp frames with masks (research use only; read in place, never copied). */
export const CVC_CLINICDB = fileURLToPath(new URL('../../../shared/data/cvc-clinicdb', import.meta.url));

export function makeGoldenFeed(dir: string): Promise<MadeFeed> {
  return makeFeed(join(dir, 'golden.mkv'), GOLDEN);
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the lumen CLI to its end. */
export async function runLumen(args: string[]): Promise<CliResult> {
  const c = lumen(args, { LUMEN_LOG_LEVEL: 'error' });
  const e = await c.exited;
  return { code: e.code, stdout: c.stdout(), stderr: c.stderr() };
}

/**
 * A copy of the reference classifier whose calibration is off: `shift` is added to the bias of
 * its final logistic (negative: scores drop, as after a bad retraining or a wrong export).
 */
export async function writeMiscalibratedClassifier(root: string, shift = -4): Promise<string> {
  const src = join(ROOT, 'models', 'ref-classifier');
  const manifest = JSON.parse(await readFile(join(src, 'manifest.json'), 'utf8')) as Manifest;
  const model = onnxProto.onnx.ModelProto.decode(await readFile(join(src, manifest.onnx.file)));
  const bias = model.graph!.initializer!.find((t) => t.name?.startsWith('calib_b'));
  if (!bias?.rawData) throw new Error('ref-classifier has no calib_b initializer');
  const raw = Buffer.from(bias.rawData);
  raw.writeFloatLE(raw.readFloatLE(0) + shift, 0);
  bias.rawData = raw;
  const draft = omit(manifest, 'format', 'onnx', 'signature');
  const id = 'miscalibrated-classifier';
  await writeBundle(root, { ...draft, id, version: `${manifest.version}-miscalibrated` }, onnxProto.onnx.ModelProto.encode(model).finish());
  return join(root, id);
}
