// models/reference/: the bundled reference models: small pixel classifiers trained on the synthetic feed, so
// the appliance runs end to end without clinical models.
import { writeBundle } from '../bundle-write.js';
import type { InputSpec, Manifest } from '../manifest.js';
import { mlpLogit, trainPixelMlp } from './pixel-mlp.js';
import { attentionPeak, classifierGraph, segmenterGraph, type ReferenceGraphOptions } from './reference-graphs.js';
import { samplePixels, tensorOf, trainingFrames } from './training-data.js';

/** Input convention of both reference models: RGB scaled to 0…1, no mean or std. */
function inputSpec(size: number): InputSpec {
  return { name: 'image', shape: [1, 3, size, size], type: 'float32', layout: 'NCHW', colorOrder: 'RGB', scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1] };
}

const NOTE = "Reference model for the synthetic demo feed: it finds the generator's lesions by colour. Not a clinical model.";

/** 1-D logistic regression (score = sigmoid(a·x + b)) by gradient descent. */
function calibrate(xs: number[], ys: number[]): { a: number; b: number } {
  let a = 1;
  let b = 0;
  for (let step = 0; step < 3000; step++) {
    let ga = 0;
    let gb = 0;
    xs.forEach((x, i) => {
      const p = 1 / (1 + Math.exp(-(a * x + b)));
      ga += (p - ys[i]) * x;
      gb += p - ys[i];
    });
    a -= (2 * ga) / xs.length;
    b -= (2 * gb) / xs.length;
  }
  return { a, b };
}

/** Version of the reference bundles; from 1.1.0 they leave blood out (reference-graphs.ts). */
export const REFERENCE_VERSION = '1.1.0';

/**
 * Trains and writes `ref-classifier` and `ref-segmenter` under `root`; deterministic per seed.
 * `bloodRule: false` builds them as 1.0.0 was, colour models that take blood for a lesion, for
 * measuring what blood does to such a model.
 */
export async function buildReferenceBundles(root: string, seed = 7, o: Partial<ReferenceGraphOptions> = {}): Promise<Manifest[]> {
  const opts: ReferenceGraphOptions = { bloodRule: o.bloodRule !== false };
  const version = opts.bloodRule ? REFERENCE_VERSION : '1.0.0';
  const frames = trainingFrames(seed);
  const { x, y } = samplePixels(frames, seed);
  const trained = trainPixelMlp(x, y, seed);
  const mlp = trained.model;

  const clsInput = inputSpec(224);
  const peaks = frames.map((f) => attentionPeak(mlp, tensorOf(f, clsInput), mlpLogit, opts));
  const labels = frames.map((f) => (f.mask ? 1 : 0));
  const calib = calibrate(peaks, labels);
  const correct = peaks.filter((p, i) => (calib.a * p + calib.b > 0 ? 1 : 0) === labels[i]).length;
  const provenance = { builder: 'lumen models build (reference)', seed, trainingFrames: frames.length, pixelSamples: y.length, bloodRule: opts.bloodRule };

  const classifier = await writeBundle(
    root,
    {
      id: 'ref-classifier',
      version,
      task: 'classify',
      description: NOTE,
      clinical: false,
      input: clsInput,
      outputs: [
        { name: 'logits', shape: [1, 2], meaning: 'class logits; softmax gives the EGC probability', classes: ['normal', 'egc'] },
        { name: 'attention', shape: [1, 1, 7, 7], meaning: 'lesion attention over the input, 0…1 per cell' },
      ],
      thresholds: { suspicious: 0.5 },
      provenance: { ...provenance, calibration: calib, frameAccuracy: correct / frames.length },
    },
    classifierGraph(mlp, calib, opts).toBytes({ note: NOTE }),
  );
  const segmenter = await writeBundle(
    root,
    {
      id: 'ref-segmenter',
      version,
      task: 'segment',
      description: NOTE,
      clinical: false,
      input: inputSpec(128),
      outputs: [{ name: 'logits', shape: [1, 2, 128, 128], meaning: 'per-pixel class logits', classes: ['background', 'lesion'] }],
      thresholds: { lesion: 0.5 },
      provenance: { ...provenance, pixelAccuracy: trained.accuracy, loss: trained.loss },
    },
    segmenterGraph(mlp, 128, opts).toBytes({ note: NOTE }),
  );
  return [classifier, segmenter];
}
