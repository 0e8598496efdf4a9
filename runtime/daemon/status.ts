import type { Config } from '../config/schema.js';
import { processUsage } from '../health/process-usage.js';
import { bindingInfo } from '../inference/ort.js';
import type { DecisionStage } from '../decision/decision.js';
import type { Conditioner } from '../pipeline/condition.js';
import type { DegradeShare } from '../pipeline/degrade-share.js';
import type { FrameOutput } from '../pipeline/output.js';
import type { LumenPublisher } from '../publish/publisher.js';
import type { Percentiles, StatusFields, StatusHeader } from '../publish/protocol.js';
import type { Recorder } from '../record/recorder.js';
import type { CaptureSupervisor } from './capture-supervisor.js';
import type { ModelSet } from './model-set.js';
import type { Operations } from './operations.js';
import type { RollingStats } from './stats.js';

/** The status header as the daemon fills it (the publisher adds v, seq, bootId, alertSeq and security). */
export type StatusBody = StatusFields;

/** Where each part of lumen.status comes from (only what status reads of each); a status read changes none. */
export interface StatusSources {
  config: Readonly<Config>;
  stats: Pick<RollingStats, 'all'>;
  /** The pipeline's stages status reads: ROI and scale, alert, frames shed. */
  conditioner: Pick<Conditioner, 'roiArea' | 'frameScale'>;
  decision: Pick<DecisionStage, 'alertActive'>;
  share: Pick<DegradeShare, 'shed'>;
  output: Pick<FrameOutput, 'processed' | 'gatedCounts' | 'lastFrameId'>;
  models: Pick<ModelSet, 'statusFields'>;
  publisher: Pick<LumenPublisher, 'health'>;
  capture: () => Pick<CaptureSupervisor, 'counts' | 'signal'> | null;
  ops: () => Pick<Operations, 'statusFields'> | null;
  recorder: Pick<Recorder, 'statusFields'> | null; // record
  /** The daemon's state and its last error. */
  state: () => { state: StatusHeader['state']; lastError: string | undefined; frameErrors: number };
}

/**
 * Assembles lumen.status from its sources. The frame rates are measured over the status interval:
 * `tick()` (on the status timer) closes one window and opens the next, and `header()` only reads,
 * so two reads in a row give the same figures.
 */
export class StatusAssembler {
  private readonly startedAt = Date.now();
  private window = { at: Date.now(), processed: 0, captured: 0 };
  private rates = { fps: 0, captureFps: 0 };

  constructor(private readonly s: StatusSources) {}

  /** Closes the current fps window (the status timer calls this once per interval). */
  tick(): void {
    const now = Date.now();
    const processed = this.s.output.processed;
    const captured = this.s.capture()?.counts.captured ?? 0;
    const secs = Math.max(0.001, (now - this.window.at) / 1000);
    this.rates = {
      fps: Math.round(((processed - this.window.processed) / secs) * 10) / 10,
      captureFps: Math.round(((captured - this.window.captured) / secs) * 10) / 10,
    };
    this.window = { at: now, processed, captured };
  }

  /** The status header as published now. */
  header(): StatusBody {
    const { config, stats, conditioner, output, publisher } = this.s;
    const now = Date.now();
    const capture = this.s.capture();
    const cs = capture?.counts ?? { captured: 0, dropped: 0 };
    const latency = stats.all();
    const m = this.s.models.statusFields();
    const { state, lastError, frameErrors } = this.s.state();
    const area = conditioner.roiArea;
    const scale = conditioner.frameScale;
    return {
      frameId: output.lastFrameId,
      ts: now,
      state,
      fps: this.rates.fps,
      captureFps: this.rates.captureFps,
      captured: cs.captured,
      processed: output.processed,
      dropped: cs.dropped,
      signal: capture?.signal ?? null,
      frameErrors,
      latencyMs: latency,
      frameAgeMs: latency.total ?? { p50: 0, p99: 0 },
      providers: m.providers,
      providerAttempts: m.providerAttempts,
      models: m.models,
      alert: this.s.decision.alertActive,
      gated: { ...output.gatedCounts },
      roi: area ? { ...area.rect, shape: area.shape } : null,
      pipeline: config.capture.pipeline,
      ...(m.modelReload ? { modelReload: m.modelReload } : {}),
      runtime: RUNTIME_INFO,
      shed: this.s.share.shed,
      overlay: config.overlay.png.enabled
        ? { format: 'geometry+png', pngEvery: config.overlay.png.every }
        : { format: 'geometry', pngEvery: null, png: 'off: overlays carry geometry only; a site turns on overlay.png for monitors that need images' },
      work: workShare(latency),
      analysis: scale ? { width: scale.analysis.width, height: scale.analysis.height, source: { ...scale.full } } : null,
      ...(this.s.ops()?.statusFields() ?? {}),
      ...(this.s.recorder?.statusFields() ?? {}), // record
      process: processUsage(),
      publisher: publisher.health(),
      uptimeS: Math.round((now - this.startedAt) / 1000),
      ...(lastError ? { error: lastError } : {}),
    };
  }
}

/** Per-frame processing time, and how much of it is outside ONNX Runtime's own run. */
function workShare(latency: Record<string, Percentiles>): StatusHeader['work'] {
  const frame = latency.work;
  const outside = latency.outsideOrt;
  if (!frame || !outside) return null;
  return { frameMs: frame, outsideOrtMs: outside, outsideOrtShare: frame.p50 > 0 ? Math.round((outside.p50 / frame.p50) * 1000) / 1000 : 0 };
}

/** What the installed ONNX Runtime binding can do, reported in status (see inference/ort.ts). */
const RUNTIME_INFO = (() => {
  const b = bindingInfo();
  return {
    onnxruntime: b.version,
    providersInBinding: b.providers.map((p) => `${p.name}${p.bundled ? '' : ' (needs libraries)'}`),
    tensorrtOptions: 'environment (ORT_TENSORRT_*)',
  };
})();
