import { existsSync } from 'node:fs';
import type { Logger } from '../log.js';
import { LumenError, messageOf } from '../errors.js';
import { bindingInfo } from '../inference/ort.js';
import { analysisOf, type Config } from '../config/schema.js';
import { PIPELINES_DIR } from '../config/paths.js';
import { CaptureSupervisor } from './capture-supervisor.js';
import { DecisionStage } from '../decision/decision.js';
import { resumeEpisodes } from '../decision/episodes.js';
import type { ModelSession } from '../inference/model-session.js';
import { renderOverlay } from '../overlay/render.js';
import { buildGeometry } from '../overlay/geometry.js';
import { renderGeometry } from '../overlay/render-geometry.js';
import { AlertJournal } from '../publish/journal.js';
import { LumenPublisher } from '../publish/publisher.js';
import type { ModelReloadStatus, StatusFields, StatusHeader } from '../publish/protocol.js';
import { encodeJpeg, encodePng } from '../util/image-codec.js';
import { compositeRoi } from '../overlay/preview.js';
import { applyPrivacyMask } from '../roi/privacy.js';
import { publishSecurity } from '../publish/curve-keys.js';
import type { FrameProcessor, ProcessedFrame } from './frame-processor.js';
import { makeProcessor, openSessions } from './sessions.js';
import { RollingStats } from './stats.js';
import { Operations, type WorkShare } from './operations.js';
import { SdNotifier, watchdogIntervalMs } from '../health/sd-notify.js';
import { processUsage } from '../health/process-usage.js';
import { runsOnFrame } from '../health/degrade-policy.js';
import { MetricsServer } from '../metrics/metrics-server.js'; // metrics
import { Recorder, type RecorderHooks } from '../record/recorder.js'; // record

const TRANSPARENT = [0, 0, 0, 0] as const;

/** The live appliance: capture → models → decision → overlay → publish, until stopped. */
export class Daemon {
  private capture: CaptureSupervisor | null = null;
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
  /** Sessions opened by a reload, swapped in between two frames. */
  private pendingSwap: ModelSession[] | null = null;
  private lastReload: ModelReloadStatus | undefined;
  private ops: Operations | null = null;
  private classifierEvery = 1;
  private taken = 0;
  /** Frames skipped by the degrade policy (classifier at a reduced rate). */
  private shed = 0;
  /** Frames whose processing threw (a model error); the loop goes on with the next. */
  private frameErrors = 0;
  /** When the frame in flight was taken (null between frames): a frame stuck in flight starves the watchdog. */
  private frameStartedAt: number | null = null;
  private aliveTimer: NodeJS.Timeout | undefined;
  private metrics: MetricsServer | null = null; // metrics
  private recorder: Recorder | null = null; // record

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
    const publisher = await LumenPublisher.open({ ...config.publish, curve: await curveOptions(config, log) }, journal, log).catch(async (err) => {
      await journal.close();
      throw err;
    });
    const notifier = SdNotifier.fromEnv();
    const recordHooks: RecorderHooks = { finished: (info) => void publisher.clip(info), models: () => [] }; // record
    const recorder = await Recorder.open(config, log, recordHooks); // record: before the restart clear, so history can describe the clip it names; never throws
    publisher.clips = recorder; // record
    let sessions: ModelSession[];
    const episodes = resumeEpisodes(journal.last, Date.now());
    try {
      if (episodes.clear)
        log.warn({ episode: episodes.clear.episode, seq: (await publisher.alert(episodes.clear)).seq }, 'alert cleared: the previous run ended mid-episode');
      sessions = await openSessions(config, log, {
        // Keep systemd waiting while TensorRT builds engines, before capture starts.
        onPreparing: (model, s) => void notifier?.extendTimeout(60_000, `building TensorRT engine for ${model} (${s} s)`).catch(() => {}),
      });
    } catch (err) {
      await recorder.close(); // record
      await publisher.close();
      await journal.close();
      throw err;
    }
    const d = new Daemon(config, log, journal, publisher, makeProcessor(config, sessions), sessions);
    d.decision.continueFrom(episodes.lastEpisode);
    d.metrics = await MetricsServer.open(config.metrics, config.state.dir, log); // metrics: never throws on a busy address
    d.recorder = recorder; // record
    recordHooks.models = () => d.sessions.map((s) => s.manifest); // record: the sidecars name the models in use
    d.statusTimer = setInterval(() => void d.publishStatus(), config.publish.statusIntervalMs);
    try {
      d.ops = await Operations.start(
        notifier,
        {
          sampleIntervalMs: config.health.sampleIntervalMs,
          sysRoot: config.health.sysRoot,
          diskPaths: [config.state.dir, config.inference.tensorrt.engineCacheDir].filter((p) => existsSync(p)),
          degrade: config.health.degrade,
        },
        log,
        () => (d.processed > 0 ? d.stats.percentiles('total').p99 : null),
        (share) => d.applyShare(share),
      );
      // The watchdog says the daemon is alive and its loops turn — with or without a signal —
      // and is starved only when a frame stays in flight longer than one watchdog interval.
      const stuckMs = watchdogIntervalMs() ?? 10_000;
      d.aliveTimer = setInterval(
        () => {
          if (d.frameStartedAt === null || performance.now() - d.frameStartedAt < stuckMs) d.ops?.frameDone();
        },
        Math.max(50, Math.min(1000, stuckMs / 4)),
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
    this.state = this.liveState();
    void this.publishStatus();
  }

  private async openCapture(): Promise<void> {
    const c = this.config.capture;
    const analysis = analysisOf(c);
    this.capture = new CaptureSupervisor(
      {
        capture: {
          pipelinesDir: PIPELINES_DIR,
          template: c.pipeline,
          params: c.params,
          mode: 'live',
          loop: c.loop,
          readyTimeoutMs: c.readyTimeoutMs,
          analysis: analysis.size,
          analysisExplicit: analysis.explicit,
        },
        // A lost signal is published at once, not at the next heartbeat.
        onChange: (sig) => {
          this.state = this.liveState();
          this.lastError = sig.state === 'live' ? undefined : (sig.lastError ?? undefined);
          void this.publishStatus();
        },
      },
      this.log,
    );
    await this.capture.start();
    this.state = this.liveState();
    this.log.info({ pipeline: c.pipeline, signal: this.capture.signal.state }, 'capture started');
  }

  /** The published state from the signal and the degrade level. */
  private liveState(): StatusHeader['state'] {
    const sig = this.capture?.signal.state ?? 'live';
    if (sig === 'no-signal') return 'no-signal';
    if (sig === 'ended') return 'error';
    return (this.ops?.share.level ?? 0) > 0 ? 'degraded' : 'running';
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      const frame = await this.capture?.next();
      if (!frame) break; // stopping, or a source played once has ended (status says so)
      try {
        // Under the degrade policy the classifier runs on every n-th frame only.
        if (!runsOnFrame(this.classifierEvery, this.taken++)) {
          this.shed++;
          continue;
        }
        const takenAt = performance.now();
        this.frameStartedAt = takenAt;
        await this.handle(await this.processor.process(frame), takenAt);
        if (this.pendingSwap) await this.swapSessions(this.pendingSwap);
      } catch (err) {
        // One frame failed (a model error): counted, logged (not every one), the next is tried.
        if (this.stopping) break;
        this.frameErrors++;
        this.lastError = messageOf(err);
        if (this.frameErrors <= 3 || this.frameErrors % 100 === 0)
          this.log.error({ err: this.lastError, frameId: frame.id, frameErrors: this.frameErrors }, 'frame failed');
      } finally {
        this.frameStartedAt = null;
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

  private async handle(p: ProcessedFrame, takenAt: number): Promise<void> {
    const t0 = performance.now();
    const { frame, scale } = p;
    const box = p.box ? scale.rectToFull(p.box) : null;
    const d = this.decision.update({ frameId: frame.id, ts: frame.ts, score: p.score, box: box ?? undefined, areaPx: p.areaPx ?? undefined });
    if (d.event) {
      const { type, episode, onsetFrame, score, peakScore, box: eventBox, areaPx } = d.event;
      const clip = await this.recorder?.alert(d.event); // record: the clip (and its record on disk) first, so the journalled alert names it
      const stored = await this.publisher.alert({
        type,
        episode,
        onsetFrame,
        score,
        peakScore,
        box: eventBox,
        areaPx,
        frameId: frame.id,
        ts: frame.ts,
        ...clip,
      });
      this.log.info({ seq: stored.seq, type, episode, frameId: frame.id, score: Math.round(score * 1000) / 1000 }, `alert ${type}`);
    }
    p.timings.decision = performance.now() - t0;
    this.recorder?.frame(p, d); // record: the conditioned frame, copied once into the encoder
    let t = performance.now();
    const ov = this.config.overlay;
    const geometry = buildGeometry({ roi: p.roi, scale, mask: p.mask, maskThreshold: ov.maskThreshold, attention: ov.heatmap ? p.attention : null });
    const full = scale.full;
    const header = {
      frameId: frame.id,
      ts: frame.ts,
      width: full.width,
      height: full.height,
      roi: scale.rectToFull(p.roi),
      score: p.score,
      smoothed: d.smoothed,
      alert: d.alert,
      box,
      areaPx: p.areaPx,
      gated: p.gated,
      quality: p.quality,
      geometry,
    };
    p.timings.overlay = performance.now() - t;
    let png: Buffer | null = null;
    if (ov.png.enabled && this.processed % ov.png.every === 0) {
      // The site asked for rendered overlays (monitors that only composite images): full-frame
      // pixels, drawn from the same geometry, masked regions left transparent.
      t = performance.now();
      const rgba = renderGeometry({ width: full.width, height: full.height, geometry, box, alert: d.alert });
      if (this.config.roi.privacyMasks.length) applyPrivacyMask(rgba, full.width, full.height, this.config.roi.privacyMasks, TRANSPARENT);
      png = await encodePng({ width: full.width, height: full.height, data: rgba });
      p.timings.png = performance.now() - t;
    }
    const pv = this.config.publish.preview;
    if (pv.enabled && this.processed % pv.every === 0) {
      t = performance.now();
      // The preview is the conditioned analysis frame (masks already black), ROI only.
      const rgba = renderOverlay({
        width: frame.width,
        height: frame.height,
        roi: p.roi,
        mask: p.mask,
        maskThreshold: ov.maskThreshold,
        attention: ov.heatmap ? p.attention : null,
        box: p.box,
        alert: d.alert,
      });
      // Masked regions stay black: no heatmap or contour over them either.
      applyPrivacyMask(rgba, frame.width, frame.height, this.processor.privacyRegions, TRANSPARENT);
      const jpeg = await encodeJpeg(compositeRoi(frame, rgba, p.roi), pv.quality, pv.width);
      const height = Math.round((p.roi.height * Math.min(pv.width, p.roi.width)) / p.roi.width);
      void this.publisher.frame({ frameId: frame.id, ts: frame.ts, roi: header.roi, width: Math.min(pv.width, p.roi.width), height, alert: d.alert }, jpeg);
      p.timings.preview = performance.now() - t;
    }
    t = performance.now();
    const age = Date.now() - frame.ts;
    void this.publisher.overlay({ ...header, latencyMs: age }, png);
    p.timings.publish = performance.now() - t;
    for (const [k, v] of Object.entries(p.timings)) this.stats.add(k, v);
    // "total" is capture to publish: the age of the frame when its overlay goes out. "work" is
    // this frame's own processing, and the share of it outside ONNX Runtime's run.
    this.stats.add('total', age);
    const work = performance.now() - takenAt;
    this.stats.add('work', work);
    this.stats.add('outsideOrt', Math.max(0, work - p.ortMs));
    this.metrics?.frame({ timings: p.timings, ageMs: age, alertEvent: d.event?.type }); // metrics
    this.processed++;
    if (p.gated) this.gatedCounts[p.gated] = (this.gatedCounts[p.gated] ?? 0) + 1;
    this.lastFrame = { id: frame.id, ts: frame.ts };
  }

  /** The status header as published now. */
  statusHeader(): StatusFields {
    const now = Date.now();
    const cs = this.capture?.counts ?? { captured: 0, dropped: 0 };
    const captured = cs.captured;
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
      dropped: cs.dropped,
      signal: this.capture?.signal ?? null,
      frameErrors: this.frameErrors,
      latencyMs: latency,
      frameAgeMs,
      providers: Object.fromEntries(this.sessions.map((s) => [s.manifest.task === 'classify' ? 'classifier' : 'segmenter', s.provider])),
      providerAttempts: Object.fromEntries(
        this.sessions.map((s) => [s.manifest.id, s.attempts.map((a) => ({ provider: a.provider, ok: a.ok, reason: a.reason }))]),
      ),
      models: this.sessions.map((s) => ({ id: s.manifest.id, version: s.manifest.version, task: s.manifest.task, clinical: s.manifest.clinical })),
      alert: this.decision.alertActive,
      gated: { ...this.gatedCounts },
      roi: this.processor.roiArea ? { ...this.processor.roiArea.rect, shape: this.processor.roiArea.shape } : null,
      pipeline: this.config.capture.pipeline,
      ...(this.lastReload ? { modelReload: this.lastReload } : {}),
      runtime: RUNTIME_INFO,
      shed: this.shed,
      overlay: this.config.overlay.png.enabled
        ? { format: 'geometry+png', pngEvery: this.config.overlay.png.every }
        : { format: 'geometry', pngEvery: null, png: 'off: overlays carry geometry only; a site turns on overlay.png for monitors that need images' },
      work: workShare(latency),
      analysis: this.processor.frameScale
        ? { width: this.processor.frameScale.analysis.width, height: this.processor.frameScale.analysis.height, source: { ...this.processor.frameScale.full } }
        : null,
      ...(this.ops?.statusFields() ?? {}),
      ...(this.recorder?.statusFields() ?? {}), // record
      process: processUsage(),
      publisher: this.publisher.health(),
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
    clearInterval(this.aliveTimer);
    this.capture?.close();
    await this.loopDone;
    await this.recorder?.close(); // record: open files finish with what was encoded
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

/** Per-frame processing time, and how much of it is outside ONNX Runtime's own run. */
function workShare(latency: Record<string, { p50: number; p99: number }>): StatusHeader['work'] {
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

/** CURVE and the monitor allow-list (watched), or a refusal of an unprotected network bind. */
function curveOptions(config: Readonly<Config>, log: Logger) {
  return publishSecurity(config.publish, log);
}
