// inference/: the inference stage: one ONNX Runtime session per model, execution providers tried in order,
// and the preprocessing that feeds it.
import type { Logger } from '../log.js';
import { LumenError } from '../errors.js';
import type { Frame, Rect } from '../frame.js';
import { loadBundle, type LoadedBundle, type TrustPolicy } from '../models/bundle-load.js';
import { TASK_CONTRACT, type Manifest } from '../models/manifest.js';
import { OrtSession } from './ort.js';
import type { ProviderAttempt, ProviderName, ProviderSettings } from './providers.js';
import { preprocess } from './preprocess.js';

export interface SessionOptions {
  providers: readonly ProviderName[];
  settings: ProviderSettings;
  trust: TrustPolicy;
  /** Called every 10 s while a TensorRT model is being prepared (e.g. to extend systemd's start timeout). */
  onPreparing?: (model: string, elapsedS: number) => void;
}

export type ModelOutputs = Record<string, { data: Float32Array; dims: number[] }>;

/** A verified bundle with its ONNX Runtime session, warmed up and ready for frames. */
export class ModelSession {
  private readonly input: Float32Array;
  private closed = false;

  private constructor(
    readonly bundle: LoadedBundle,
    private readonly session: OrtSession,
    readonly attempts: ProviderAttempt[],
  ) {
    const shape = bundle.manifest.input.shape;
    this.input = new Float32Array(shape.reduce((a, b) => a * b, 1));
  }

  /** Loads and verifies the bundle, opens it on the first provider that works, and warms it up. */
  static async open(dir: string, opts: SessionOptions, log: Logger): Promise<ModelSession> {
    const bundle = await loadBundle(dir, opts.trust);
    // TensorRT builds its engine on first use (minutes on a Jetson): say so while it works. This
    // runs before capture starts, never inside the live loop.
    const started = Date.now();
    const ticker =
      opts.providers[0] === 'tensorrt'
        ? setInterval(() => {
            const elapsedS = Math.round((Date.now() - started) / 1000);
            log.info({ model: bundle.manifest.id, elapsedS }, 'preparing model (a TensorRT engine build can take minutes)');
            opts.onPreparing?.(bundle.manifest.id, elapsedS);
          }, 10_000)
        : undefined;
    try {
      const { session, attempts } = await OrtSession.create(bundle.onnx, opts.providers, opts.settings, log, bundle.manifest.id);
      try {
        checkContract(bundle, session);
        const s = new ModelSession(bundle, session, attempts);
        const t0 = performance.now();
        await s.runTensor(s.input);
        log.info({ model: bundle.manifest.id, provider: session.provider, ms: Math.round(performance.now() - t0) }, 'model warmed up');
        return s;
      } catch (err) {
        await session.close();
        throw err;
      }
    } finally {
      clearInterval(ticker);
    }
  }

  get manifest(): Manifest {
    return this.bundle.manifest;
  }

  get provider(): ProviderName {
    return this.session.provider;
  }

  /** Preprocesses the frame (cropped to `crop`) per the manifest and runs the model. */
  async infer(frame: Frame, crop?: Rect): Promise<ModelOutputs> {
    return this.runTensor(this.prepare(frame, crop));
  }

  /** The model's input for the frame (cropped to `crop`), in the session's own reused buffer. */
  prepare(frame: Frame, crop?: Rect): Float32Array {
    return preprocess(frame, this.manifest.input, crop, this.input);
  }

  /** Runs an already preprocessed input tensor. */
  runTensor(tensor: Float32Array): Promise<ModelOutputs> {
    return this.session.run({ [this.manifest.input.name]: { data: tensor, dims: this.manifest.input.shape } });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.session.close();
  }
}

function sameShape(a: readonly (number | string)[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i] || typeof d === 'string');
}

/** The model's real inputs and outputs must be what the manifest and the task promise. */
function checkContract(bundle: LoadedBundle, session: OrtSession): void {
  const m = bundle.manifest;
  const file = `${bundle.dir}/${m.onnx.file}`;
  const inputs = session.inputs;
  const input = inputs.find((i) => i.name === m.input.name);
  if (!input) {
    throw new LumenError(
      'BUNDLE_INPUT',
      `${file}: the model has no input "${m.input.name}" (it has ${inputs.map((i) => i.name).join(', ')}); manifest field input.name`,
      { file, field: 'input.name' },
    );
  }
  if (inputs.length !== 1) {
    throw new LumenError('BUNDLE_INPUT', `${file}: the model has ${inputs.length} inputs; a bundle model takes one image`, { file, field: 'input' });
  }
  if (input.type !== 'float32') {
    throw new LumenError('BUNDLE_INPUT', `${file}: input "${input.name}" is ${input.type}, the manifest says float32; field input.type`, {
      file,
      field: 'input.type',
    });
  }
  if (!sameShape(input.shape, m.input.shape)) {
    throw new LumenError(
      'BUNDLE_INPUT',
      `${file}: input "${input.name}" has shape [${input.shape.join(', ')}], the manifest says [${m.input.shape.join(', ')}]; field input.shape`,
      { file, field: 'input.shape' },
    );
  }
  const outputs = session.outputs;
  const required = new Set([...TASK_CONTRACT[m.task].outputs, ...m.outputs.map((o) => o.name)]);
  for (const name of required) {
    const real = outputs.find((o) => o.name === name);
    const declared = m.outputs.find((o) => o.name === name);
    if (!real || !declared) {
      const where = !declared
        ? `the manifest's outputs list has no "${name}" (task ${m.task} needs it)`
        : `the model has no output "${name}" (it has ${outputs.map((o) => o.name).join(', ')})`;
      throw new LumenError('BUNDLE_OUTPUT', `${file}: ${where}; field outputs`, { file, field: 'outputs', output: name });
    }
    if (!sameShape(real.shape, declared.shape)) {
      throw new LumenError(
        'BUNDLE_OUTPUT',
        `${file}: output "${name}" has shape [${real.shape.join(', ')}], the manifest says [${declared.shape.join(', ')}]`,
        { file, field: 'outputs', output: name },
      );
    }
  }
}
