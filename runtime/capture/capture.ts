import type { Logger } from '../log.js';
import { LumenError } from '../errors.js';
import type { Frame, Size } from '../frame.js';
import { SCALER, sizeOfCaps } from './analysis-stream.js';
import { captureLaunch } from './capture-launch.js';
import { diagnose, GstPipeline, type AppSink, type BusMessage, type Sample } from './gst.js';
import { Mailbox } from './mailbox.js';
import { loadTemplate, type PipelineTemplate } from './template.js';
import { openPipeSource, type PipeSource } from './pipe-source.js';
import { SourceSize } from './source-size.js';
import { FrameMaker } from './frame-maker.js';
import type { FramePool } from './frame-pool.js';

/**
 * `live`: keep only the newest frame (appsink drops in GStreamer, the mailbox drops in Node);
 * `every-frame`: every frame in order, the source waits for the consumer (QA replay).
 */
export type CaptureMode = 'live' | 'every-frame';

export interface CaptureOptions {
  pipelinesDir: string;
  template: string;
  params: Record<string, string>;
  mode: CaptureMode;
  /** Restart from the beginning at end of stream (the demo feed). */
  loop: boolean;
  /** How long to wait for the first frame, ms. */
  readyTimeoutMs: number;
  /**
   * Largest picture JavaScript receives: GStreamer scales the source down to fit (never up).
   * null: the full picture.
   */
  analysis?: Size | null;
  /** Refuse a source smaller than `analysis` (the size was set on purpose, not by default). */
  analysisExplicit?: boolean;
  /** Live mode: pull into these reused buffers; frames then carry a `hold` their consumer releases. */
  pool?: FramePool;
}

export interface CaptureStats {
  /** Frames that left GStreamer. */
  captured: number;
  /** Frames replaced in the mailbox before inference took them. */
  dropped: number;
  /** Times the source was restarted at end of stream. */
  loops: number;
  /** Frames held back while a new source size was being confirmed. */
  resizing: number;
}

/** A running capture pipeline and its frames. */
export class Capture {
  private readonly mailbox = new Mailbox<Frame>((f) => f.hold?.release());
  private failure: LumenError | undefined;
  private closed = false;
  private eos = false;
  private first: Frame | undefined;
  private loops = 0;
  private resizing = 0;
  /** Frames since the last seek to the start (looping sources). */
  private sinceSeek = 0;
  /** The source's own size; frames are scaled from it. */
  private readonly source: SourceSize;
  private readonly frames: FrameMaker;

  private constructor(
    private readonly pipeline: GstPipeline,
    private readonly sink: AppSink,
    scaler: boolean,
    fixedSource: Size | null,
    private readonly opts: CaptureOptions,
    private readonly log: Logger,
    private readonly pipe: PipeSource | null,
  ) {
    // The scaler's input caps: the source's size, read with each frame (a few microseconds).
    const read = scaler ? () => sizeOfCaps(pipeline.padCaps(SCALER, 'sink') ?? {}) : null;
    this.source = new SourceSize(read, fixedSource, log);
    this.frames = new FrameMaker(this.source, opts.readyTimeoutMs, () => this.failure);
  }

  /** Renders and checks the template, starts the pipeline and resolves on the first frame. */
  static async open(opts: CaptureOptions, log: Logger): Promise<Capture> {
    const loaded = await loadTemplate(opts.pipelinesDir, opts.template);
    const pipe = openPipeSource(loaded, opts.params);
    const template = pipe?.template ?? loaded;
    try {
      return await Capture.build(template, pipe, opts, log);
    } catch (err) {
      pipe?.close();
      throw err;
    }
  }

  private static async build(template: PipelineTemplate, pipe: PipeSource | null, opts: CaptureOptions, log: Logger): Promise<Capture> {
    const { launch, scaler, fixed } = captureLaunch(template, opts.params, opts.mode, opts.analysis ?? null, opts.template);
    const pipeline = new GstPipeline(launch);
    const capture = new Capture(pipeline, pipeline.appsink('sink'), scaler, fixed, opts, log, pipe);
    log.info({ pipeline: launch, mode: opts.mode }, 'capture starting');
    await capture.start();
    return capture;
  }

  get stats(): CaptureStats {
    return { captured: this.frames.captured, dropped: this.mailbox.dropped, loops: this.loops, resizing: this.resizing };
  }

  /** The source's own size, once known. */
  get sourceSize(): Size | null {
    return this.source.size;
  }

  private async start(): Promise<void> {
    let failed: (e: LumenError) => void = () => {};
    const failure = new Promise<never>((_, reject) => (failed = reject));
    // onBus has logged the error; this promise only ends the wait for the first frame, and may
    // reject after nothing waits on it any more.
    failure.catch(() => {});
    this.pipeline.onBus((m) => {
      const err = this.onBus(m);
      if (err) failed(err);
    });
    // Live: each frame to the frame loop as soon as GStreamer has converted it, not held for
    // the pipeline's latency (a frame of delay that no frame's age would show).
    if (this.opts.mode === 'live') this.pipeline.renderAtTimestamps();
    this.pipeline.play();
    try {
      const sample = await firstSample(this.pipeline, this.sink, failure, this.opts.template, this.opts.readyTimeoutMs);
      this.first = await this.frames.inOrder(sample);
      if (this.opts.analysis && this.opts.analysisExplicit) this.source.checkAnalysis(this.opts.analysis);
    } catch (err) {
      this.close();
      throw err;
    }
    if (this.opts.mode === 'live') void this.pump();
  }

  private onBus(m: BusMessage): LumenError | undefined {
    if (m.type !== 'error') return undefined;
    const err = new LumenError('PIPELINE_RUNTIME', `GStreamer error from ${m.name ?? m._src_element_name}: ${m.message}`, {
      element: m._src_element_name,
    });
    if (!this.closed) {
      this.log.error({ code: err.code, element: m._src_element_name }, err.message);
      this.fail(err);
    }
    return err;
  }

  /** Stops the stream with a failure that the next `next()` throws. */
  private fail(err: LumenError): void {
    this.failure = err;
    this.pipeline.stop();
    this.mailbox.close();
  }

  /** Live mode: pulls continuously and keeps the newest frame in the mailbox. */
  private async pump(): Promise<void> {
    if (this.first) this.mailbox.put(this.first);
    this.first = undefined;
    let bytes = 0;
    while (!this.closed) {
      // Into a pooled buffer of the last frame's size; a sample of another size comes in a new one.
      const lease = this.opts.pool && bytes ? this.opts.pool.take(bytes) : null;
      const s = await this.sink.pull(lease?.buf);
      const hold = lease && s?.buf === lease.buf ? lease.hold : undefined;
      if (lease && !hold) lease.hold.release();
      if (this.closed || this.failure) {
        hold?.release();
        break;
      }
      if (!s) {
        if (this.opts.loop && this.sinceSeek === 0 && this.loops > 0) {
          // A loop that yields no frame (a truncated or emptied file) would spin: a failure.
          this.fail(new LumenError('PIPELINE_RUNTIME', `pipeline "${this.opts.template}" looped without delivering a frame (a truncated or empty source?)`));
          break;
        }
        if (this.opts.loop && this.pipeline.seek(0)) {
          this.loops++;
          this.sinceSeek = 0;
          continue;
        }
        this.eos = true;
        this.mailbox.close();
        break;
      }
      this.sinceSeek++;
      bytes = s.buf.length;
      const f = this.frames.sized(s, hold);
      if (f) this.mailbox.put(f);
      else {
        hold?.release();
        this.resizing++;
      }
    }
  }

  /** The next frame: the newest (live) or the next in order (every-frame); null at the end. */
  async next(): Promise<Frame | null> {
    if (this.first && this.opts.mode === 'every-frame') {
      const f = this.first;
      this.first = undefined;
      return f;
    }
    if (this.opts.mode === 'live') {
      const f = await this.mailbox.take();
      if (f) return f;
    } else {
      while (!this.closed && !this.eos && !this.failure) {
        const s = await this.sink.pull();
        if (!s) {
          this.eos = true;
          break;
        }
        return await this.frames.inOrder(s);
      }
    }
    if (this.failure && !this.closed) throw this.failure;
    return null;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Frame> {
    for (;;) {
      const f = await this.next();
      if (!f) return;
      yield f;
    }
  }

  /** Stops the pipeline; a waiting `next()` resolves null. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.source.close();
    this.mailbox.close();
    this.pipeline.stop();
    this.pipe?.close();
  }
}

/**
 * The pipeline's first sample. Rejects with `failure` (a bus error), after `timeoutMs`, or when
 * the stream ends first, with GStreamer's reason when it gives one.
 */
async function firstSample(pipeline: GstPipeline, sink: AppSink, failure: Promise<never>, name: string, timeoutMs: number): Promise<Sample> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LumenError('PIPELINE_START', `no frame from pipeline "${name}" within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const sample = await Promise.race([sink.pull(), failure, timeout]);
    if (sample) return sample;
    // An error stops the stream before its bus message arrives: give the reason a moment.
    await Promise.race([failure, new Promise((r) => setTimeout(r, 500))]);
    const reason = await diagnose(pipeline.description);
    throw new LumenError('PIPELINE_START', `pipeline "${name}" ended before its first frame${reason ? `: ${reason}` : ''}`);
  } finally {
    clearTimeout(timer);
  }
}
