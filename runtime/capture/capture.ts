import type { Logger } from '../log.js';
import { LumenError } from '../errors.js';
import type { Frame, Size } from '../frame.js';
import { ANALYSIS_PLACEHOLDER, analysisLaunch, probedSize, SIZE_PROBE_RATE, SIZE_PROBE_SINK, SIZE_PROBE_VALVE } from './analysis-stream.js';
import { diagnose, GstPipeline, type AppSink, type BusMessage, type Sample } from './gst.js';
import { Mailbox } from './mailbox.js';
import { checkElements, loadTemplate, type PipelineTemplate, renderSourceSize, renderTemplate } from './template.js';
import { openPipeSource, type PipeSource } from './pipe-source.js';

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

// Live: the pump pulls as fast as frames come and the mailbox keeps only the newest, counting
// what it replaces. The appsink never drops (a drop there is invisible, and shifts frame ids
// off the source's frame index): two buffers absorb a late pull, and a longer stall holds the
// source back briefly instead — a live source drops in its driver, a file simply waits.
const SINK_PROPS: Record<CaptureMode, string> = {
  live: 'max-buffers=2 drop=false sync=true',
  'every-frame': 'max-buffers=2 drop=false sync=false',
};

/** A running capture pipeline and its frames. */
export class Capture {
  private readonly mailbox = new Mailbox<Frame>();
  private nextId = 0;
  private failure: LumenError | undefined;
  private closed = false;
  private eos = false;
  private first: Frame | undefined;
  private loops = 0;
  private captured = 0;
  private resizing = 0;
  /** Frames since the last seek to the start (looping sources). */
  private sinceSeek = 0;
  /** The source's own size (null while unknown); frames are scaled from it. */
  private full: Size | null;
  private lastAnalysis: Size | null = null;
  private probeTimer: NodeJS.Timeout | undefined;
  /** Every-frame mode waits here for the probe after a change of size. */
  private sizeWaiters: (() => void)[] = [];

  private constructor(
    private readonly pipeline: GstPipeline,
    private readonly sink: AppSink,
    private readonly probe: AppSink | null,
    fixedSource: Size | null,
    private readonly opts: CaptureOptions,
    private readonly log: Logger,
    private readonly pipe: PipeSource | null,
  ) {
    this.full = fixedSource;
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
    const size = opts.analysis ?? null;
    const selfScaling = template.body.includes(`{${ANALYSIS_PLACEHOLDER}}`);
    const slots = { [ANALYSIS_PLACEHOLDER]: size ? `,width=${size.width},height=${size.height}` : '' };
    const rendered = renderTemplate(template, opts.params, SINK_PROPS[opts.mode], slots);
    const { launch, probe } = selfScaling ? { launch: rendered, probe: false } : analysisLaunch(rendered, size, opts.template);
    checkElements(launch);
    const pipeline = new GstPipeline(launch);
    const fixed = selfScaling ? renderSourceSize(template, opts.params) : null;
    const capture = new Capture(pipeline, pipeline.appsink('sink'), probe ? pipeline.appsink(SIZE_PROBE_SINK) : null, fixed, opts, log, pipe);
    log.info({ pipeline: launch, mode: opts.mode }, 'capture starting');
    await capture.start();
    return capture;
  }

  get stats(): CaptureStats {
    return { captured: this.captured, dropped: this.mailbox.dropped, loops: this.loops, resizing: this.resizing };
  }

  /** The source's own size, once known. */
  get sourceSize(): Size | null {
    return this.full;
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
    this.pipeline.play();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new LumenError('PIPELINE_START', `no frame from pipeline "${this.opts.template}" within ${this.opts.readyTimeoutMs} ms`)),
        this.opts.readyTimeoutMs,
      );
    });
    if (this.probe) void this.probeLoop();
    try {
      const sample = await Promise.race([this.sink.pull(), failure, timeout]);
      if (!sample) {
        // An error stops the stream before its bus message arrives: give the reason a moment.
        await Promise.race([failure, new Promise((r) => setTimeout(r, 500))]);
        const reason = await diagnose(this.pipeline.description);
        throw new LumenError('PIPELINE_START', `pipeline "${this.opts.template}" ended before its first frame${reason ? `: ${reason}` : ''}`);
      }
      this.first = await this.sizedInOrder(sample);
      this.checkAnalysisSize();
    } catch (err) {
      this.close();
      throw err;
    } finally {
      clearTimeout(timer);
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

  /** Reads the source size a few times a second; the probe's frames are dropped in GStreamer. */
  private async probeLoop(): Promise<void> {
    while (!this.closed && this.probe) {
      const s = await this.probe.pull();
      if (!s || this.closed) return;
      const size = probedSize(s.caps);
      if (size && this.fits(size)) {
        if (this.full && (this.full.width !== size.width || this.full.height !== size.height)) {
          this.log.info({ from: this.full, to: size }, 'source size changed');
        }
        this.full = size;
        for (const w of this.sizeWaiters.splice(0)) w();
      }
      // Live: closed until the next look, so no frame is payloaded in between. QA keeps it open:
      // its frames wait for their size, and a closed valve would hold back the one that says it.
      const live = this.opts.mode === 'live';
      if (live) this.pipeline.setProperty(SIZE_PROBE_VALVE, 'drop', true);
      await new Promise<void>((r) => (this.probeTimer = setTimeout(r, (live ? 1000 : 100) / SIZE_PROBE_RATE)));
      if (this.closed) return;
      if (live) this.pipeline.setProperty(SIZE_PROBE_VALVE, 'drop', false);
    }
  }

  /** A reported source size belongs to the analysis stream in flight if their shapes agree. */
  private fits(size: Size): boolean {
    const a = this.lastAnalysis;
    if (!a) return true;
    // The scaler keeps the aspect ratio to within a pixel's rounding.
    return Math.abs(size.width / size.height - a.width / a.height) <= 2 / Math.min(a.width, a.height);
  }

  /** An explicitly configured analysis size must not exceed the source in both dimensions. */
  private checkAnalysisSize(): void {
    const a = this.opts.analysis;
    if (!a || !this.opts.analysisExplicit || !this.full) return;
    if (this.full.width < a.width && this.full.height < a.height) {
      throw new LumenError(
        'CONFIG_INVALID',
        `capture.analysisSize ${a.width}x${a.height} is larger than the source (${this.full.width}×${this.full.height}): use a smaller size or "full"`,
        { key: 'capture.analysisSize' },
      );
    }
  }

  /** Checks and counts a sample; notes a change of the analysis picture's shape. */
  private admit(s: Sample): { id: number; width: number; height: number } {
    const width = Number(s.caps.width);
    const height = Number(s.caps.height);
    if (s.buf.length !== width * height * 4) {
      throw new LumenError('PIPELINE_RUNTIME', `frame of ${s.buf.length} bytes does not match RGBA ${width}×${height}`);
    }
    this.captured++;
    // Ids count every frame GStreamer delivered, so a held-back frame leaves a gap, not a shift.
    const id = this.nextId++;
    const prev = this.lastAnalysis;
    if (this.probe && prev && (prev.width !== width || prev.height !== height)) {
      // A new picture shape: the old source size no longer applies until the probe confirms one.
      this.log.info({ from: prev, to: { width, height } }, 'analysis size changed');
      this.full = null;
    }
    this.lastAnalysis = { width, height };
    return { id, width, height };
  }

  /** The frame, or null while the source's size after a change is not yet confirmed. */
  private sized(s: Sample, m: { id: number; width: number; height: number }): Frame | null {
    if (this.probe && (!this.full || !this.fits(this.full))) return null;
    const full = this.full && (this.full.width !== m.width || this.full.height !== m.height) ? { full: this.full } : {};
    return { id: m.id, ts: Date.now(), width: m.width, height: m.height, data: s.buf, ...full };
  }

  /**
   * The first frame, and every frame in QA order: never dropped for its size, it waits for the
   * probe instead (at start, and after a change of size).
   */
  private async sizedInOrder(s: Sample): Promise<Frame> {
    const m = this.admit(s);
    for (const until = Date.now() + this.opts.readyTimeoutMs; ;) {
      const f = this.sized(s, m);
      if (f) return f;
      if (this.failure) throw this.failure;
      if (this.closed || Date.now() > until) {
        throw new LumenError('PIPELINE_RUNTIME', `the source's size was not reported within ${this.opts.readyTimeoutMs} ms`);
      }
      await new Promise<void>((r) => {
        this.sizeWaiters.push(r);
        setTimeout(r, 100);
      });
    }
  }

  /** Live mode: pulls continuously and keeps the newest frame in the mailbox. */
  private async pump(): Promise<void> {
    if (this.first) this.mailbox.put(this.first);
    this.first = undefined;
    while (!this.closed) {
      const s = await this.sink.pull();
      if (this.closed || this.failure) break;
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
      const f = this.sized(s, this.admit(s));
      if (f) this.mailbox.put(f);
      else this.resizing++;
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
        return await this.sizedInOrder(s);
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
    clearTimeout(this.probeTimer);
    this.mailbox.close();
    this.pipeline.stop();
    this.pipe?.close();
  }
}
