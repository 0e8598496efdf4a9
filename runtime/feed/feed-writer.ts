import { extname } from 'node:path';
import { LumenError } from '../errors.js';
import { GstPipeline, type AppSrc } from '../capture/gst.js';
import { checkElements } from '../capture/template.js';

const MUXERS: Record<string, string> = { '.mkv': 'matroskamux', '.avi': 'avimux' };

/**
 * Encodes RGBA frames to Motion-JPEG in Matroska or AVI through GStreamer. MJPEG keeps every
 * frame independent, so replay is exact per frame and decoders in plugins-good read it.
 */
export class FeedWriter {
  private readonly src: AppSrc;
  private count = 0;
  private done: Promise<void>;
  private error: LumenError | undefined;

  private constructor(
    private readonly pipeline: GstPipeline,
    private readonly fps: number,
  ) {
    this.src = pipeline.appsrc('src');
    this.done = new Promise((resolve, reject) => {
      pipeline.onBus((m) => {
        if (m.type === 'eos') resolve();
        else if (m.type === 'error') {
          this.error = new LumenError('PIPELINE_RUNTIME', `writing the feed failed in ${m.name}: ${m.message}`);
          reject(this.error);
        }
      });
    });
    // The error is kept in this.error and thrown by the next write or close; this only stops an
    // early failure from counting as unhandled before anyone awaits `done`.
    this.done.catch(() => {});
    pipeline.play();
  }

  /** Opens `path` (.mkv or .avi) for frames of the given size and rate. */
  static open(path: string, width: number, height: number, fps: number, quality = 90): FeedWriter {
    const mux = MUXERS[extname(path).toLowerCase()];
    if (!mux) throw new LumenError('USAGE', `feed file ${path} must end in .mkv or .avi`);
    if (/["\\]/.test(path)) throw new LumenError('USAGE', `feed path ${path} has a quote or backslash`);
    const caps = `video/x-raw,format=RGBA,width=${width},height=${height},framerate=${fps}/1`;
    const launch =
      `appsrc name=src format=time block=true max-bytes=${width * height * 8} caps="${caps}" ` +
      `! videoconvert ! jpegenc quality=${quality} ! ${mux} ! filesink location="${path}"`;
    checkElements(launch);
    return new FeedWriter(new GstPipeline(launch), fps);
  }

  /** Queues one frame; blocks while GStreamer's queue is full (two frames). */
  write(rgba: Uint8Array): void {
    if (this.error) throw this.error;
    const pts = (BigInt(this.count) * 1_000_000_000n) / BigInt(this.fps);
    this.src.push(rgba, pts);
    this.count++;
  }

  /** Ends the stream and resolves once the file is complete. */
  async close(): Promise<number> {
    this.pipeline.sendEos();
    try {
      await this.done;
    } finally {
      this.pipeline.stop();
    }
    return this.count;
  }
}
