import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Metric, type OpenMetricsContentType } from 'prom-client';
import type { GatedCounts, StatusFields } from '../publish/protocol.js';

/** Latency buckets, seconds: a 60 fps frame budget is 16.7 ms, an alert's budget a few hundred. */
const STAGE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28];
const AGE_BUCKETS = [0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6, 1, 2];

/** One processed frame as the metrics see it. */
export interface FrameSample {
  /** ms per stage, as in ProcessedFrame.timings. */
  timings: Readonly<Record<string, number>>;
  /** Capture to publish, ms. */
  ageMs: number;
  /** The decision's alert event on this frame, if any. */
  alertEvent?: 'raise' | 'clear' | undefined;
}

/**
 * Every lumen_* metric and its registry. Counters that status already counts are advanced by
 * the difference between two status snapshots, so metrics and lumen.status never disagree.
 */
export class LumenMetrics {
  /** Prometheus text format (0.0.4). */
  readonly registry = new Registry();
  /** The same metrics as OpenMetrics 1.0, for scrapers that ask for it (Prometheus does). */
  readonly openMetrics = new Registry<OpenMetricsContentType>();
  private readonly last = {
    captured: 0,
    processed: 0,
    dropped: 0,
    shed: 0,
    gated: {} as GatedCounts,
    reloadAt: 0,
    recorded: 0,
    skippedRate: 0,
    skippedBusy: 0,
  };

  private readonly captured = this.counter('lumen_frames_captured_total', 'Frames delivered by the capture pipeline.');
  private readonly processed = this.counter('lumen_frames_processed_total', 'Frames that went through the models and were published.');
  private readonly dropped = this.counter('lumen_frames_dropped_total', 'Frames replaced in the capture mailbox by a newer one before processing.');
  private readonly shed = this.counter('lumen_frames_shed_total', 'Frames skipped by the degrade policy.');
  private readonly gated = this.counter('lumen_frames_gated_total', 'Frames the quality gate kept from the models, by reason.', ['reason']);
  private readonly alerts = this.counter('lumen_alert_events_total', 'Alert events: raise or clear.', ['event']);
  private readonly reloads = this.counter('lumen_model_reloads_total', 'Model reloads, by result: ok or refused (the running models stayed).', ['result']);
  private readonly stage = new Histogram({
    name: 'lumen_stage_duration_seconds',
    help: 'Time spent per frame in each stage.',
    labelNames: ['stage'],
    buckets: STAGE_BUCKETS,
    registers: [this.registry],
  });
  private readonly age = new Histogram({
    name: 'lumen_frame_age_seconds',
    help: 'Capture to publish: the age of a frame when its overlay goes out.',
    buckets: AGE_BUCKETS,
    registers: [this.registry],
  });
  private readonly lastFrame = this.gauge('lumen_last_frame_timestamp_seconds', 'When the newest frame was published (Unix time): alert on time() minus this.');
  private readonly alertActive = this.gauge('lumen_alert_active', '1 while an alert is raised.');
  private readonly up = this.gauge('lumen_state', 'Daemon state: 1 for the current one.', ['state']);
  private readonly modelInfo = this.gauge('lumen_model_info', 'Model in use per role, with its version and execution provider (always 1).', [
    'role',
    'model',
    'version',
    'provider',
  ]);
  private readonly degrade = this.gauge('lumen_degrade_level', 'Degrade level: 0 normal, higher sheds more work.');
  private readonly temp = this.gauge('lumen_temperature_celsius', 'Temperature per sensor.', ['sensor']);
  private readonly cpuLoad = this.gauge('lumen_cpu_load_ratio', 'CPU load, 0 to 1.');
  private readonly gpuLoad = this.gauge('lumen_gpu_load_ratio', 'GPU load, 0 to 1 (absent where no reader exists).');
  private readonly memUsed = this.gauge('lumen_memory_used_bytes', 'System memory in use.');
  private readonly diskFree = this.gauge('lumen_disk_free_bytes', 'Free space on the state and cache filesystems.', ['path']);
  private readonly journal = this.gauge('lumen_alert_journal_bytes', 'Size of the alert journal on disk (current and rotated file).');
  private readonly recState = this.gauge('lumen_recording_state', 'Recorder state: 1 for the current one (off, ready, recording, stopped).', ['state']);
  private readonly recFault = this.gauge('lumen_recording_fault', '1 while recording is stopped by a fault, with its error code (alerting goes on).', ['code']);
  private readonly recFrames = this.counter('lumen_recording_frames_total', 'Frames encoded into the recording stream.');
  private readonly recSkipped = this.counter(
    'lumen_recording_frames_skipped_total',
    'Frames not recorded: above record.maxFps (rate) or the encoder behind (busy).',
    ['reason'],
  );
  private readonly recBytes = this.gauge('lumen_recording_bytes', 'Recordings on disk (video and sidecars).');
  private readonly recQuota = this.gauge('lumen_recording_quota_bytes', 'record.retention.quotaMB.');
  private readonly recPreroll = this.gauge('lumen_recording_preroll_bytes', 'Encoded pre-roll held in memory.');
  private readonly recCount = this.gauge('lumen_recordings', 'Recordings on disk per state (deleted: clip tombstones).', ['state']);

  constructor(
    private readonly journalDir: string,
    build: { version: string; onnxruntime: string },
  ) {
    // process_* and nodejs_*: the names every Node.js dashboard already knows.
    collectDefaultMetrics({ register: this.registry });
    // prom-client names these gauges *_total, which Prometheus reserves for counters (promtool flags them).
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) this.registry.removeSingleMetric(name);
    this.gauge('lumen_build_info', 'Lumen Edge build (always 1).', ['version', 'onnxruntime']).set(build, 1);
    this.openMetrics.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    // getMetricsAsArray() returns the metric objects themselves (prom-client's own merge relies on it).
    for (const m of this.registry.getMetricsAsArray()) this.openMetrics.registerMetric(m as unknown as Metric);
  }

  private counter(name: string, help: string, labelNames: string[] = []): Counter {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private gauge(name: string, help: string, labelNames: string[] = []): Gauge {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  /** Per processed frame: stage latencies and frame age into the histograms. */
  frame(s: FrameSample): void {
    for (const [stage, ms] of Object.entries(s.timings)) this.stage.observe({ stage }, ms / 1000);
    this.age.observe(s.ageMs / 1000);
    this.lastFrame.set(Date.now() / 1000);
    if (s.alertEvent) this.alerts.inc({ event: s.alertEvent });
  }

  /** Per status snapshot: counters advance by what status counted since the last one. */
  status(h: Readonly<StatusFields>): void {
    const l = this.last;
    advance(this.captured, h.captured, l.captured);
    advance(this.processed, h.processed, l.processed);
    advance(this.dropped, h.dropped, l.dropped);
    advance(this.shed, h.shed, l.shed);
    for (const [reason, n] of Object.entries(h.gated) as [keyof GatedCounts, number][]) advance(this.gated, n, l.gated[reason] ?? 0, { reason });
    Object.assign(l, { captured: h.captured, processed: h.processed, dropped: h.dropped, shed: h.shed, gated: { ...h.gated } });
    if (h.modelReload && h.modelReload.at !== l.reloadAt) {
      l.reloadAt = h.modelReload.at;
      this.reloads.inc({ result: h.modelReload.ok ? 'ok' : 'refused' });
    }
    this.alertActive.set(h.alert ? 1 : 0);
    this.up.reset();
    this.up.set({ state: h.state }, 1);
    this.modelInfo.reset();
    for (const m of h.models) {
      const role = m.task === 'classify' ? 'classifier' : 'segmenter';
      this.modelInfo.set({ role, model: m.id, version: m.version, provider: h.providers[role] ?? 'none' }, 1);
    }
    this.degrade.set(h.degrade?.level ?? 0);
    const r = h.health;
    if (r) {
      this.cpuLoad.set(r.cpuLoadPct / 100);
      if (r.gpuLoadPct !== null) this.gpuLoad.set(r.gpuLoadPct / 100);
      if (r.cpuTempC !== null) this.temp.set({ sensor: 'cpu' }, r.cpuTempC);
      if (r.gpuTempC !== null) this.temp.set({ sensor: 'gpu' }, r.gpuTempC);
      this.memUsed.set(r.memUsedMB * 2 ** 20);
      for (const [path, mb] of Object.entries(r.diskFreeMB)) this.diskFree.set({ path }, mb * 2 ** 20);
    }
    this.journal.set(fileSize(join(this.journalDir, 'alerts.jsonl')) + fileSize(join(this.journalDir, 'alerts.1.jsonl')));
    const rec = h.recording;
    if (rec) {
      this.recState.reset();
      this.recState.set({ state: rec.state }, 1);
      this.recFault.reset();
      if (rec.error) this.recFault.set({ code: rec.error.code }, 1);
      advance(this.recFrames, rec.frames.recorded, l.recorded);
      advance(this.recSkipped, rec.frames.skippedRate, l.skippedRate, { reason: 'rate' });
      advance(this.recSkipped, rec.frames.skippedBusy, l.skippedBusy, { reason: 'busy' });
      Object.assign(l, { recorded: rec.frames.recorded, skippedRate: rec.frames.skippedRate, skippedBusy: rec.frames.skippedBusy });
      this.recBytes.set(rec.diskMB.used * 2 ** 20);
      this.recQuota.set(rec.diskMB.quota * 2 ** 20);
      this.recPreroll.set(rec.preRoll.bytes);
      for (const [state, n] of Object.entries(rec.recordings)) this.recCount.set({ state }, n);
    }
  }
}

function advance(c: Counter, now: number, before: number, labels: Record<string, string> = {}): void {
  // A counter only rises; a smaller number (never expected) is ignored rather than thrown.
  if (now > before) c.inc(labels, now - before);
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    // No such file yet (no alert, or not rotated yet): it holds nothing.
    return 0;
  }
}
