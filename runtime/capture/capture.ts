import type { Logger } from '../log.js';
import { LumenError } from '../errors.js';
import type { Frame } from '../frame.js';
import { diagnose, GstPipeline, type AppSink, type BusMessage, type Sample } from './gst.js';
import { Mailbox } from './mailbox.js';
import { checkElements, loadTemplate, renderTemplate } from './template.js';

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
}

export interface CaptureStats {
  /** Frames that left GStreamer. */
  captured: number;
  /** Frames replaced in the mailbox before inference took them. */
  dropped: number;
  /** Times the source was restarted at end of stream. */
  loops: number;
}

// Live: two buffers absorb one late pull (the pump runs on the main thread) without dropping in
// GStreamer, where a drop is invisible; the mailbox then keeps only the newest, and counts.
const SINK_PROPS: Record<CaptureMode, string> = {
  live: 'max-buffers=2 drop=true sync=true',
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

  private constructor(
    private readonly pipeline: GstPipeline,
    private readonly sink: AppSink,
    private readonly opts: CaptureOptions,
    private readonly log: Logger,
  ) {}

  /** Renders and checks the template, starts the pipeline and resolves on the first frame. */
  static async open(opts: CaptureOptions, log: Logger): Promise<Capture> {
    const template = await loadTemplate(opts.pipelinesDir, opts.template);
    const launch = renderTemplate(template, opts.params, SINK_PROPS[opts.mode]);
    checkElements(launch);
    const pipeline = new GstPipeline(launch);
    const capture = new Capture(pipeline, pipeline.appsink('sink'), opts, log);
    log.info({ pipeline: launch, mode: opts.mode }, 'capture starting');
    await capture.start();
    return capture;
  }

  get stats(): CaptureStats {
    return { captured: this.captured, dropped: this.mailbox.dropped, loops: this.loops };
  }

  get mode(): CaptureMode {
    return this.opts.mode;
  }

  private async start(): Promise<void> {
    let failed: (e: LumenError) => void = () => {};
    const failure = new Promise<never>((_, reject) => (failed = reject));
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
    try {
      const sample = await Promise.race([this.sink.pull(), failure, timeout]);
      if (!sample) {
        // An error stops the stream before its bus message arrives: give the reason a moment.
        await Promise.race([failure, new Promise((r) => setTimeout(r, 500))]);
        const reason = await diagnose(this.pipeline.description);
        throw new LumenError('PIPELINE_START', `pipeline "${this.opts.template}" ended before its first frame${reason ? `: ${reason}` : ''}`);
      }
      this.first = this.toFrame(sample);
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
      this.failure = err;
      this.pipeline.stop();
      this.mailbox.close();
    }
    return err;
  }

  private toFrame(s: Sample): Frame {
    const width = Number(s.caps.width);
    const height = Number(s.caps.height);
    if (s.buf.length !== width * height * 4) {
      throw new LumenError('PIPELINE_RUNTIME', `frame of ${s.buf.length} bytes does not match RGBA ${width}×${height}`);
    }
    this.captured++;
    return { id: this.nextId++, ts: Date.now(), width, height, data: s.buf };
  }

  /** Live mode: pulls continuously and keeps the newest frame in the mailbox. */
  private async pump(): Promise<void> {
    if (this.first) this.mailbox.put(this.first);
    this.first = undefined;
    while (!this.closed) {
      const s = await this.sink.pull();
      if (this.closed || this.failure) break;
      if (!s) {
        if (this.opts.loop && this.pipeline.seek(0)) {
          this.loops++;
          continue;
        }
        this.eos = true;
        this.mailbox.close();
        break;
      }
      this.mailbox.put(this.toFrame(s));
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
    } else if (!this.closed && !this.eos && !this.failure) {
      const s = await this.sink.pull();
      if (s) return this.toFrame(s);
      this.eos = true;
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
    this.mailbox.close();
    this.pipeline.stop();
  }
}
