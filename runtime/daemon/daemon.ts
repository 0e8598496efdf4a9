import { existsSync } from 'node:fs';
import type { Logger } from '../log.js';
import { messageOf } from '../errors.js';
import { analysisOf, type Config } from '../config/schema.js';
import { PIPELINES_DIR } from '../config/paths.js';
import { resumeEpisodes } from '../decision/episodes.js';
import type { ModelSession } from '../inference/model-session.js';
import { FramePipeline } from '../pipeline/pipeline.js';
import { FramePool } from '../capture/frame-pool.js';
import { FrameOutput } from '../pipeline/output.js';
import { BackgroundDetector } from '../roi/background-detector.js';
import { openSessions } from '../pipeline/sessions.js';
import { AlertJournal } from '../publish/journal.js';
import { LumenPublisher } from '../publish/publisher.js';
import type { StatusHeader } from '../publish/protocol.js';
import { publishSecurity } from '../publish/curve-keys.js';
import { SdNotifier, watchdogIntervalMs } from '../health/sd-notify.js';
import { MetricsServer } from '../metrics/metrics-server.js'; // metrics
import { kernelsState } from '../native/kernels.js';
import { Recorder, type RecorderHooks } from '../record/recorder.js'; // record
import { CaptureSupervisor } from './capture-supervisor.js';
import { ModelSet } from './model-set.js';
import { Operations } from './operations.js';
import { RollingStats } from './stats.js';
import { StatusAssembler, type StatusBody } from './status.js';

/** What the daemon owns once its sockets, journal and models are open. */
interface Parts {
  journal: AlertJournal;
  publisher: LumenPublisher;
  recorder: Recorder; // record
  metrics: MetricsServer; // metrics
  models: ModelSet;
}

/**
 * The live appliance: capture → FramePipeline (condition → models → decision) → FrameOutput,
 * until stopped. Owns its parts and closes them in order; the frame graph is in pipeline/.
 */
export class Daemon {
  private capture: CaptureSupervisor | null = null;
  private ops: Operations | null = null;
  private readonly stats = new RollingStats();
  private readonly pipeline: FramePipeline;
  private readonly workers: { detector: BackgroundDetector | null };
  private readonly output: FrameOutput;
  private readonly status: StatusAssembler;
  private state: StatusHeader['state'] = 'starting';
  private lastError: string | undefined;
  /** Frames whose processing threw (a model error); the loop goes on with the next. */
  private frameErrors = 0;
  /** When the frame in flight was taken (null between frames): a frame stuck in flight starves the watchdog. */
  private frameStartedAt: number | null = null;
  private stopping = false;
  private loopDone: Promise<void> = Promise.resolve();
  private readonly timers: NodeJS.Timeout[] = [];

  private constructor(
    private readonly config: Readonly<Config>,
    private readonly log: Logger,
    private readonly parts: Parts,
  ) {
    const { publisher, recorder, metrics, models } = parts;
    // A worker thread beside the frame loop: steady-state ROI detection (about 2 ms every
    // detectEvery frames).
    const inLine = (what: string) => (why: string) => log.warn({ err: why }, `${what} runs in line from now on`);
    this.workers = { detector: config.roi.enabled ? new BackgroundDetector(inLine('ROI detection')) : null };
    this.pipeline = new FramePipeline(config, models.sessions, undefined, this.workers);
    this.output = new FrameOutput(config, this.pipeline.conditioner, { publisher, stats: this.stats, recorder, metrics }, log);
    this.status = new StatusAssembler({
      config,
      stats: this.stats,
      conditioner: this.pipeline.conditioner,
      decision: this.pipeline.decision,
      share: this.pipeline.share,
      output: this.output,
      models,
      publisher,
      recorder,
      capture: () => this.capture,
      ops: () => this.ops,
      state: () => ({ state: this.state, lastError: this.lastError, frameErrors: this.frameErrors }),
    });
  }

  /** Opens journal, sockets and models (warm), then capture; resolves once frames flow. */
  static async start(config: Readonly<Config>, log: Logger): Promise<Daemon> {
    const notifier = SdNotifier.fromEnv();
    const { parts, lastEpisode } = await openParts(config, log, notifier);
    const d = new Daemon(config, log, parts);
    d.pipeline.decision.continueFrom(lastEpisode);
    // Without the compiled pixel loops the daemon runs, with about twice the work outside the models.
    const kernels = kernelsState();
    if (!kernels.compiled) log.warn({ detail: kernels.detail }, 'pixel loops not compiled');
    d.timers.push(setInterval(() => void d.publishStatus(true), config.publish.statusIntervalMs));
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
        () => (d.output.processed > 0 ? d.stats.percentiles('total').p99 : null),
        (share) => {
          // The degrade policy changed how much work each frame gets.
          d.pipeline.share.apply(share);
          d.state = d.liveState();
          void d.publishStatus();
        },
      );
      // The watchdog says the daemon is alive and its loops turn — with or without a signal —
      // and is starved only when a frame stays in flight longer than one watchdog interval.
      const stuckMs = watchdogIntervalMs() ?? 10_000;
      const alive = () => {
        if (d.frameStartedAt === null || performance.now() - d.frameStartedAt < stuckMs) d.ops?.frameDone();
      };
      d.timers.push(setInterval(alive, Math.max(50, Math.min(1000, stuckMs / 4))));
      await d.openCapture();
    } catch (err) {
      await d.stop();
      throw err;
    }
    d.loopDone = d.loop();
    await d.ops.ready(`capture ${config.capture.pipeline} live; models ${parts.models.sessions.map((s) => s.manifest.id).join(', ')}`);
    return d;
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
          pool: new FramePool(),
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
    const { pipeline, output, parts } = this;
    while (!this.stopping) {
      const frame = await this.capture?.next();
      if (!frame) break; // stopping, or a source played once has ended (status says so)
      try {
        // Under the degrade policy the models run on every n-th frame only.
        if (!pipeline.share.takes()) continue;
        const takenAt = performance.now();
        this.frameStartedAt = takenAt;
        await output.emit(await pipeline.step(frame), takenAt);
        if (parts.models.swapPending) await parts.models.swap((s) => pipeline.useModels(s));
      } catch (err) {
        // One frame failed (a model error): counted, logged (not every one), the next is tried.
        if (this.stopping) break;
        this.frameErrors++;
        this.lastError = messageOf(err);
        if (this.frameErrors <= 3 || this.frameErrors % 100 === 0)
          this.log.error({ err: this.lastError, frameId: frame.id, frameErrors: this.frameErrors }, 'frame failed');
      } finally {
        this.frameStartedAt = null;
        pipeline.frameDone();
        frame.hold?.release(); // the loop's lease: the buffer is reused once the recorder is done too
      }
    }
  }

  /**
   * Re-opens the configured bundles (e.g. after an update on disk). The new sessions replace the
   * running ones only if every bundle verifies and opens; a refused bundle leaves them in place.
   */
  reloadModels(): Promise<boolean> {
    return this.parts.models.reload();
  }

  /** The status header as published now; reading it changes nothing. */
  statusHeader(): StatusBody {
    return this.status.header();
  }

  /** Publishes status; `tick` (the status timer) also closes the fps window. */
  private publishStatus(tick = false): Promise<void> {
    if (this.stopping && this.state !== 'stopping') return Promise.resolve();
    if (tick) this.status.tick();
    const header = this.status.header();
    this.parts.metrics.status(header); // metrics: counters from the numbers status publishes
    return this.parts.publisher.status(header);
  }

  /** Stops capture, finishes the frame in flight, publishes a last status, closes everything. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    this.capture?.close();
    await this.workers.detector?.close();
    await this.loopDone;
    await this.parts.recorder.close(); // record: open files finish with what was encoded
    this.state = 'stopping';
    await this.ops?.stopping();
    this.ops?.close();
    await this.publishStatus();
    await this.parts.models.close();
    await this.parts.publisher.close();
    await this.parts.journal.close();
    await this.parts.metrics.close(); // metrics
    this.log.info('stopped');
  }
}

/**
 * Opens the journal and sockets, the recorder, and the models (verified, warm); clears an alert a
 * previous run left raised. A failure closes what was opened and is thrown.
 */
async function openParts(config: Readonly<Config>, log: Logger, notifier: SdNotifier | null): Promise<{ parts: Parts; lastEpisode: number }> {
  const journal = await AlertJournal.open({ dir: config.state.dir, maxBytes: 8 * 1024 * 1024 }, log);
  // CURVE and the monitor allow-list (watched), or a refusal of an unprotected network bind.
  const publisher = await LumenPublisher.open({ ...config.publish, curve: await publishSecurity(config.publish, log) }, journal, log).catch(async (err) => {
    await journal.close();
    throw err;
  });
  let models: ModelSet | null = null;
  const recordHooks: RecorderHooks = { finished: (info) => void publisher.clip(info), models: () => models?.sessions.map((s) => s.manifest) ?? [] }; // record: the sidecars name the models in use
  const recorder = await Recorder.open(config, log, recordHooks); // record: before the restart clear, so history can describe the clip it names; never throws
  publisher.clips = recorder; // record
  const episodes = resumeEpisodes(journal.last, Date.now());
  let sessions: ModelSession[];
  try {
    if (episodes.clear)
      log.warn({ episode: episodes.clear.episode, seq: (await publisher.alert(episodes.clear)).seq }, 'alert cleared: the previous run ended mid-episode');
    let warned = false;
    sessions = await openSessions(config, log, {
      // Keep systemd waiting while TensorRT builds engines, before capture starts.
      onPreparing: (model, s) =>
        void notifier?.extendTimeout(60_000, `building TensorRT engine for ${model} (${s} s)`).catch((err) => {
          if (!warned) log.warn({ err: messageOf(err) }, 'sd_notify EXTEND_TIMEOUT failed; systemd may time out the start');
          warned = true;
        }),
    });
  } catch (err) {
    await recorder.close(); // record
    await publisher.close();
    await journal.close();
    throw err;
  }
  models = new ModelSet(config, log, sessions);
  const metrics = await MetricsServer.open(config.metrics, config.state.dir, log); // metrics: never throws on a busy address
  return { parts: { journal, publisher, recorder, metrics, models }, lastEpisode: episodes.lastEpisode };
}
