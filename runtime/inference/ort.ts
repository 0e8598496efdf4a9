/**
 * The one file that touches onnxruntime-node. Its quirks live here:
 * - the binding passes only `deviceId` to the TensorRT and CUDA providers; the TensorRT
 *   provider still reads its ORT_TENSORRT_* environment variables, so that is how fp16, the
 *   engine cache and the timing cache reach it from JavaScript;
 * - the npm package bundles the CPU and WebGPU providers (WebGPU takes no deviceId, and without
 *   a Vulkan adapter it fails with "Failed to get a WebGPU adapter"); CUDA and TensorRT need provider
 *   libraries beside the binding, and without them session creation throws
 *   "Failed to load shared library";
 * - a failed provider is not retried inside ORT: the chain is ours.
 *
 * What needs no binding (provider names, settings, tensor descriptions) is in ./providers.ts,
 * so that validating a config or listing providers does not load it.
 */
import { createRequire } from 'node:module';
import type { Logger } from '../log.js';
import { LumenError, messageOf } from '../errors.js';
import { tensorrtEnv, type ProviderAttempt, type ProviderName, type ProviderSettings, type TensorInfo } from './providers.js';

type OrtModule = typeof import('onnxruntime-node');
const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node') as OrtModule;
// ORT's own logger prints each provider-library failure in red on stderr; the chain below
// logs every attempt with its reason as a structured line instead.
ort.env.logLevel = 'fatal';

/** Versions and providers of the installed binding, for status and `lumen doctor`. */
export function bindingInfo(): { version: string; providers: { name: string; bundled: boolean }[] } {
  const pkg = require('onnxruntime-node/package.json') as { version: string };
  return { version: pkg.version, providers: ort.listSupportedBackends().map((b) => ({ name: b.name, bundled: b.bundled })) };
}

// A model that ORT cannot parse fails the same way on every provider: stop the chain.
const MODEL_FAULT = /protobuf parsing failed|load model|invalid model|ModelProto/i;

/** One ONNX Runtime session on one provider. */
export class OrtSession {
  private closed = false;

  private constructor(
    private readonly session: import('onnxruntime-node').InferenceSession,
    readonly provider: ProviderName,
  ) {}

  /**
   * Tries the providers in order; each failure is logged with its reason and the next is tried.
   * Throws BUNDLE_ONNX when the model itself cannot be loaded, PROVIDER_UNAVAILABLE when no
   * provider could take it.
   */
  static async create(
    model: Uint8Array,
    providers: readonly ProviderName[],
    settings: ProviderSettings,
    log: Logger,
    label: string,
  ): Promise<{ session: OrtSession; attempts: ProviderAttempt[] }> {
    const attempts: ProviderAttempt[] = [];
    for (const provider of providers) {
      const t0 = performance.now();
      try {
        if (provider === 'tensorrt') {
          for (const [k, v] of Object.entries(tensorrtEnv(settings.tensorrt))) process.env[k] ??= v;
        }
        // The WebGPU provider refuses options it does not know, deviceId among them.
        const ep = provider === 'cpu' || provider === 'webgpu' ? provider : { name: provider, deviceId: settings.deviceId };
        const session = await ort.InferenceSession.create(model, {
          executionProviders: [ep],
          graphOptimizationLevel: 'all',
          intraOpNumThreads: settings.intraOpThreads,
          logSeverityLevel: 3,
          // Idle pool threads sleep instead of spinning: the appliance's cores are shared with
          // GStreamer's scaler and the frame loop, which a spinning pool would starve.
          extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
        });
        attempts.push({ provider, ok: true, ms: performance.now() - t0 });
        log.info({ model: label, provider, ms: Math.round(performance.now() - t0) }, 'execution provider in use');
        return { session: new OrtSession(session, provider), attempts };
      } catch (err) {
        const reason = messageOf(err).split('\n')[0].slice(0, 300);
        attempts.push({ provider, ok: false, reason, ms: performance.now() - t0 });
        log.warn({ model: label, provider, reason }, 'execution provider failed, trying the next');
        if (MODEL_FAULT.test(reason) && !/shared library|adapter/i.test(reason)) {
          throw new LumenError('BUNDLE_ONNX', `${label}: ONNX Runtime cannot load the model: ${reason}`, { attempts });
        }
      }
    }
    throw new LumenError('PROVIDER_UNAVAILABLE', `${label}: no execution provider could run the model (tried ${providers.join(', ')})`, { attempts });
  }

  get inputs(): TensorInfo[] {
    return this.session.inputMetadata.map(info);
  }

  get outputs(): TensorInfo[] {
    return this.session.outputMetadata.map(info);
  }

  /** Runs the model on float32 inputs; returns every output as float32 data with its dims. */
  async run(feeds: Record<string, { data: Float32Array; dims: readonly number[] }>): Promise<Record<string, { data: Float32Array; dims: number[] }>> {
    const tensors: Record<string, InstanceType<OrtModule['Tensor']>> = {};
    for (const [k, v] of Object.entries(feeds)) tensors[k] = new ort.Tensor('float32', v.data, v.dims);
    const out = await this.session.run(tensors);
    const result: Record<string, { data: Float32Array; dims: number[] }> = {};
    for (const [k, t] of Object.entries<import('onnxruntime-node').Tensor>(out)) result[k] = { data: t.data as Float32Array, dims: [...t.dims] };
    return result;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.session.release();
  }
}

function info(m: { name: string; isTensor: boolean; type?: string; shape?: readonly (number | string)[] }): TensorInfo {
  return { name: m.name, type: m.isTensor ? String(m.type) : 'non-tensor', shape: m.isTensor ? [...(m.shape ?? [])] : [] };
}
