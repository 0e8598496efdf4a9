import { existsSync } from 'node:fs';
import type { Logger } from '../log.js';
import { LumenError, messageOf } from '../errors.js';
import { bindingInfo } from '../inference/ort.js';
import type { Config } from '../config/schema.js';
import { PIPELINES_DIR } from '../config/paths.js';
import { Capture } from '../capture/capture.js';
import { DecisionStage } from '../decision/decision.js';
import type { ModelSession } from '../inference/model-session.js';
import { renderOverlay } from '../overlay/render.js';
import { AlertJournal } from '../publish/journal.js';
import { LumenPublisher } from '../publish/publisher.js';
import type { StatusHeader } from '../publish/protocol.js';
import { encodeJpeg, encodePng } from '../util/image-codec.js';
import { compositeRoi } from '../overlay/preview.js';
import { applyPrivacyMask } from '../roi/privacy.js';
import { loadKeyPair, loadPublicKey } from '../publish/curve-keys.js';
import type { FrameProcessor, ProcessedFrame } from './frame-processor.js';
import { makeProcessor, openSessions } from './sessions.js';
import { RollingStats } from './stats.js';
import { Operations, type WorkShare } from './operations.js';
import { SdNotifier } from '../health/sd-notify.js';
import { MetricsServer } from '../metrics/metrics-server.js'; // metrics

const RESTART_DELAY_MS = 2000;
const TRANSPARENT = [0, 0, 0, 0] as const;

/** The live appliance: capture → models → decision → overlay → publish, until stopped. */
export class Daemon {
  private capture: Capture | null = null;
  private readonly stats = new RollingStats();
  private readonly decision: DecisionStage;
  private state: StatusHeader['state'] = 'starting';
  private lastError: string | undefined;
  private processed = 0;
  /** Frames the quality gate held back, per reason. */
  private readonly gatedCounts: Record<string, number> = {};
  private lastFrame = { id: -1, ts: 0 };
  private readonly startedAt = Date.now();
  private statusTimer: NodeJS.Timeout | undefined;
  private window = { at: Date.now(), processed: 0, captured: 0 };
  private stopping = false;
  private loopDone: Promise<void> = Promise.resolve();
  private readonly capturedBefore = { captured: 0, dropped: 0 };
  /** Sessions opened by a reload, swapped in between two frames. */
  private pendingSwap: ModelSession[] | null = null;
  private lastReload: { at: number; ok: boolean; code?: string; message?: string } | undefined;
  private ops: Operations | null = null;
  private classifierEvery = 1;
  private taken = 0;
  /** Frames skipped by the degrade policy (classifier at a reduced rate). */
  private shed = 0;
  private metrics: MetricsServer | null = null; // metrics

  private constructor(
    private readonly config: Readonly<Config>,
    private readonly log: Logger,
    private readonly journal: AlertJournal,
    private readonly publisher: LumenPublisher,
    private processor: FrameProcessor,
    private sessions: ModelSession[],
  ) {
    this.decision = new DecisionStage(config.decision);
  }

  /** Opens journal, sockets and models (warm), then capture; resolves once frames flow. */
  static async start(config: Readonly<Config>, log: Logger): Promise<Daemon> {
    const journal = await AlertJournal.open({ dir: config.state.dir, maxBytes: 8 * 1024 * 1024 }, log);
    const publisher = await LumenPublisher.open({ ...config.publish, curve: await curveOptions(config) }, journal, log).catch(async (err) => {
      await journal.close();
      throw err;
    });
    const notifier = SdNotifier.fromEnv();
    let sessions: ModelSession[];
    try {
      sessions = await openSessions(config, log, {
        // Keep systemd waiting while TensorRT builds engines, before capture starts.
        onPreparing: (model, s) => void notifier?.extendTimeout(60_000, `building TensorRT engine for ${model} (${s} s)`).catch(() => {}),
      });
    } catch (err) {
      await publisher.close();
      await journal.close();
      throw err;
    }
    const d = new Daemon(config, log, journal, publisher, makeProcessor(config, sessions), sessions);
    d.metrics = await MetricsServer.open(config.metrics, config.state.dir, log); // metrics: never throws on a busy address
    d.statusTimer = setInterval(() => void d.publishStatus(), config.publish.statusIntervalMs);
    try {
      d.ops = await Operations.start(
        notifier,
        { sampleIntervalMs: config.health.sampleIntervalMs, diskPaths: [config.state.dir, config.inference.tensorrt.engineCacheDir].filter((p) => existsSync(p)), degrade: config.health.degrade },
        log,
        () => (d.processed > 0 ? d.stats.percentiles('total').p99 : null),
        (share) => d.applyShare(share),
      );
      await d.openCapture();
    } catch (err) {
      await d.stop();
      throw err;
    }
    d.loopDone = d.loop();
    await d.ops.ready(`capture ${config.capture.pipeline} live; models ${sessions.map((s) => s.manifest.id).join(', ')}`);
    return d;
  }

  /** The degrade policy changed how much work each frame gets. */
  private applyShare(share: WorkShare): void {
    this.classifierEvery = share.classifierEvery;
    this.processor.settings.segmenterEvery = share.segmenterEvery;
    this.state = share.level > 0 ? 'degraded' : 'running';
    void this.publishStatus();
  }

  private async openCapture(): Promise<void> {
    const c = this.config.capture;
    this.capture = await Capture.open(
      { pipelinesDir: PIPELINES_DIR, template: c.pipeline, params: c.params, mode: 'live', loop: c.loop, readyTimeoutMs: c.readyTimeoutMs },
      this.log,
    );
    this.state = (this.ops?.share.level ?? 0) > 0 ? 'degraded' : 'running';
    this.lastError = undefined;
    this.log.info({ pipeline: c.pipeline }, 'capture live');
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      try {
        const frame = await this.capture?.next();
        if (!frame) {
          if (this.stopping) break;
          this.log.warn('capture source ended');
          this.retireCapture();
          this.state = 'error';
          this.lastError = 'capture source ended';
          break;
        }
        // Under the degrade policy the classifier runs on every n-th frame only.
        if (this.taken++ % this.classifierEvery !== 0) {
          this.shed++;
          this.ops?.frameDone();
          continue;
        }
        await this.handle(await this.processor.process(frame));
        this.ops?.frameDone();
        if (this.pendingSwap) await this.swapSessions(this.pendingSwap);
      } catch (err) {
        if (this.stopping) break;
        this.lastError = messageOf(err);
        this.state = 'error';
        this.log.error({ err: this.lastError }, 'frame loop failed; restarting capture');
        this.retireCapture();
        await new Promise((r) => setTimeout(r, RESTART_DELAY_MS));
        if (!this.stopping) await this.openCapture().catch((e) => this.log.error({ err: messageOf(e) }, 'capture restart failed'));
      }
    }
  }

  /**
   * Re-opens the configured bundles (e.g. after an update on disk). The new sessions replace the
   * running ones only if every bundle verifies and opens; a refused bundle leaves them in place.
   */
  async reloadModels(): Promise<boolean> {
    let fresh: ModelSession[];
    try {
      fresh = await openSessions(this.config, this.log);
    } catch (err) {
      const code = err instanceof LumenError ? err.code : 'UNEXPECTED';
      this.lastReload = { at: Date.now(), ok: false, code, message: messageOf(err) };
      this.log.error({ code, err: messageOf(err) }, 'model reload refused; the running models stay in place');
      return false;
    }
    this.lastReload = { at: Date.now(), ok: true };
    if (this.stopping) await Promise.all(fresh.map((f) => f.close()));
    else this.pendingSwap = fresh;
    return true;
  }

  private async swapSessions(fresh: ModelSession[]): Promise<void> {
    this.pendingSwap = null;
    const old = this.sessions;
    this.sessions = fresh;
    const every = this.processor.settings.segmenterEvery;
    this.processor = makeProcessor(this.config, fresh);
    this.processor.settings.segmenterEvery = every;
    await Promise.all(old.map((s) => s.close()));
    this.log.info({ models: fresh.map((s) => `${s.manifest.id}@${s.manifest.version}`) }, 'models reloaded');
  }

  private retireCapture(): void {
    if (!this.capture) return;
    const s = this.capture.stats;
    this.capturedBefore.captured += s.captured;
    this.capturedBefore.dropped += s.dropped;
    this.capture.close();
    this.capture = null;
  }

  private async handle(p: ProcessedFrame): Promise<void> {
    const t0 = performance.now();
    const d = this.decision.update({ frameId: p.frame.id, ts: p.frame.ts, score: p.score, box: p.box ?? undefined, areaPx: p.areaPx ?? undefined });
    if (d.event) {
      const { type, episode, onsetFrame, score, peakScore, box, areaPx } = d.event;
      const stored = await this.publisher.alert({ type, episode, onsetFrame, score, peakScore, box, areaPx, frameId: p.frame.id, ts: p.frame.ts });
      this.log.info({ seq: stored.seq, type, episode, frameId: p.frame.id, score: Math.round(score * 1000) / 1000 }, `alert ${type}`);
    }
    p.timings.decision = performance.now() - t0;
    let t = performance.now();
    const rgba = renderOverlay({
      width: p.frame.width,
      height: p.frame.height,
      roi: p.roi,
      mask: p.mask,
      maskThreshold: this.config.overlay.maskThreshold,
      attention: this.config.overlay.heatmap ? p.attention : null,
      box: p.box,
      alert: d.alert,
    });
    // Privacy-masked regions stay black in every published picture: no heatmap over them either.
    if (this.config.roi.privacyMasks.length) applyPrivacyMask(rgba, p.frame.width, p.frame.height, this.config.roi.privacyMasks, TRANSPARENT);
    const png = await encodePng({ width: p.frame.width, height: p.frame.height, data: rgba });
    p.timings.overlay = performance.now() - t;
    const pv = this.config.publish.preview;
    if (pv.enabled && this.processed % pv.every === 0) {
      t = performance.now();
      const jpeg = await encodeJpeg(compositeRoi(p.frame, rgba, p.roi), pv.quality, pv.width);
      const height = Math.round((p.roi.height * Math.min(pv.width, p.roi.width)) / p.roi.width);
      void this.publisher.frame({ frameId: p.frame.id, ts: p.frame.ts, roi: p.roi, width: Math.min(pv.width, p.roi.width), height, alert: d.alert }, jpeg);
      p.timings.preview = performance.now() - t;
    }
    t = performance.now();
    const age = Date.now() - p.frame.ts;
    void this.publisher.overlay(
      { frameId: p.frame.id, ts: p.frame.ts, width: p.frame.width, height: p.frame.height, roi: p.roi, score: p.score, smoothed: d.smoothed, alert: d.alert, box: p.box, areaPx: p.areaPx, gated: p.gated, latencyMs: age },
      png,
    );
    p.timings.publish = performance.now() - t;
    for (const [k, v] of Object.entries(p.timings)) this.stats.add(k, v);
    // "total" is capture to publish: the age of the frame when its overlay goes out.
    this.stats.add('total', age);
    this.metrics?.frame({ timings: p.timings, ageMs: age, alertEvent: d.event?.type }); // metrics
    this.processed++;
    if (p.gated) this.gatedCounts[p.gated] = (this.gatedCounts[p.gated] ?? 0) + 1;
    this.lastFrame = { id: p.frame.id, ts: p.frame.ts };
  }

  /** The status header as published now. */
  statusHeader(): Omit<StatusHeader, 'v' | 'seq' | 'bootId' | 'alertSeq'> {
    const now = Date.now();
    const cs = this.capture?.stats ?? { captured: 0, dropped: 0 };
    const captured = this.capturedBefore.captured + cs.captured;
    const secs = Math.max(0.001, (now - this.window.at) / 1000);
    const fps = (this.processed - this.window.processed) / secs;
    const captureFps = (captured - this.window.captured) / secs;
    this.window = { at: now, processed: this.processed, captured };
    const latency = this.stats.all();
    const frameAgeMs = latency.total ?? { p50: 0, p99: 0 };
    return {
      frameId: this.lastFrame.id,
      ts: now,
      state: this.state,
      fps: Math.round(fps * 10) / 10,
      captureFps: Math.round(captureFps * 10) / 10,
      captured,
      processed: this.processed,
      dropped: this.capturedBefore.dropped + cs.dropped,
      latencyMs: latency,
      frameAgeMs,
      providers: Object.fromEntries(this.sessions.map((s) => [s.manifest.task === 'classify' ? 'classifier' : 'segmenter', s.provider])),
      providerAttempts: Object.fromEntries(this.sessions.map((s) => [s.manifest.id, s.attempts.map((a) => ({ provider: a.provider, ok: a.ok, reason: a.reason }))])),
      models: this.sessions.map((s) => ({ id: s.manifest.id, version: s.manifest.version, task: s.manifest.task, clinical: s.manifest.clinical })),
      alert: this.decision.alertActive,
      gated: { ...this.gatedCounts },
      roi: this.processor.roiArea ? { ...this.processor.roiArea.rect, shape: this.processor.roiArea.shape } : null,
      pipeline: this.config.capture.pipeline,
      ...(this.lastReload ? { modelReload: this.lastReload } : {}),
      runtime: RUNTIME_INFO,
      shed: this.shed,
      ...(this.ops?.statusFields() ?? {}),
      uptimeS: Math.round((now - this.startedAt) / 1000),
      ...(this.lastError ? { error: this.lastError } : {}),
    };
  }

  private publishStatus(): Promise<void> {
    if (this.stopping && this.state !== 'stopping') return Promise.resolve();
    const header = this.statusHeader();
    this.metrics?.status(header); // metrics: counters from the numbers status publishes
    return this.publisher.status(header);
  }

  /** Stops capture, finishes the frame in flight, publishes a last status, closes everything. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearInterval(this.statusTimer);
    this.capture?.close();
    await this.loopDone;
    this.state = 'stopping';
    await this.ops?.stopping();
    this.ops?.close();
    await this.publishStatus();
    await Promise.all([...this.sessions, ...(this.pendingSwap ?? [])].map((s) => s.close()));
    await this.publisher.close();
    await this.journal.close();
    await this.metrics?.close(); // metrics
    this.log.info('stopped');
  }
}


/** What the installed ONNX Runtime binding can do, reported in status (see inference/ort.ts). */
const RUNTIME_INFO = (() => {
  const b = bindingInfo();
  return { onnxruntime: b.version, providersInBinding: b.providers.map((p) => `${p.name}${p.bundled ? '' : ' (needs libraries)'}`), tensorrtOptions: 'environment (ORT_TENSORRT_*)' };
})();

async function curveOptions(config: Readonly<Config>) {
  const c = config.publish.curve;
  if (!c.enabled) return undefined;
  const pair = await loadKeyPair(c.keyFile);
  return { secretKey: pair.secretKey, allowedClients: new Set(await Promise.all(c.allowedClients.map(loadPublicKey))) };
}

