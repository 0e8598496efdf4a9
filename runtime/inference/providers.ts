/**
 * ONNX Runtime's execution providers and settings, declared without loading the binding:
 * config validation, scripts and reports use these; ./ort.ts is what runs them.
 */
export const PROVIDERS = ['tensorrt', 'cuda', 'webgpu', 'cpu'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** Provider settings from config; see runtime/config/schema.ts for defaults. */
export interface ProviderSettings {
  deviceId: number;
  tensorrt: { fp16: boolean; engineCacheDir: string; timingCacheDir: string; workspaceMB: number };
  intraOpThreads: number;
}

export interface TensorInfo {
  name: string;
  type: string;
  shape: (number | string)[];
}

export interface ProviderAttempt {
  provider: ProviderName;
  ok: boolean;
  reason?: string;
  ms: number;
}

/** ORT_TENSORRT_* variables for the settings: the TensorRT provider's only channel from Node. */
export function tensorrtEnv(s: ProviderSettings['tensorrt']): Record<string, string> {
  return {
    ORT_TENSORRT_FP16_ENABLE: s.fp16 ? '1' : '0',
    ORT_TENSORRT_ENGINE_CACHE_ENABLE: '1',
    ORT_TENSORRT_CACHE_PATH: s.engineCacheDir,
    ORT_TENSORRT_TIMING_CACHE_ENABLE: '1',
    ORT_TENSORRT_TIMING_CACHE_PATH: s.timingCacheDir,
    ORT_TENSORRT_MAX_WORKSPACE_SIZE: String(s.workspaceMB * 1024 * 1024),
  };
}
