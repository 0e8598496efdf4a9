import { checkElements } from '../capture/template.js';
import { GstPipeline, type AppSink, type AppSrc } from '../capture/gst.js';
import type { FrameHold } from '../capture/frame-pool.js';
import { LumenError, messageOf } from '../errors.js';
import type { Size } from '../frame.js';
import type { Logger } from '../log.js';
import type { EncoderProfile } from './profiles.js';

/** One encoded frame, paired with the frame it came from. */
export interface EncodedUnit<M> {
  data: Buffer;
  /** A keyframe: decoding can start here. */
  key: boolean;
  frameId: number;
  /** Capture time of the frame, ms since the epoch. */
  ts: number;
  meta: M;
}

export interface EncoderOptions {
  profile: EncoderProfile;
  size: Size;
  /** Nominal rate for the caps (the real spacing comes from the timestamps), frames/s. */
  fps: number;
  /** Frames between keyframes. */
  gop: number;
  kbps: number;
  /** Frames pushed but not yet encoded beyond which `push` refuses (each is width × height × 4 bytes in GStreamer). */
  maxInFlight: number;
}

/**
 * The encoder's appsrc. Its streaming thread, where conversion and encoding run (no queue,
 * threads=1), is named after it ("lumen_rec_src:s" in /proc): the encoder's CPU can be read there.
 */
const SRC = 'lumen_rec_src';

/** No access unit for this long while frames wait: the encoder is taken for failed, ms. */
const STALL_MS = 3000;

/**
 * A long-lived encode pipeline: RGBA frames in (one copy each, into GStreamer), encoded access
 * units out, in order, each paired with its frame's id, time and metadata. Encoding runs on
 * GStreamer's threads; the main thread only pushes and receives.
 *
 * The binding's appsink pull and bus poll each block a libuv pool thread while they wait, and
 * the pool is shared with the journal's fsync and capture. So the encoder pulls only while a
 * frame is being encoded (one pull at a time, a few ms per frame), and does not poll its bus: a
 * failure shows as access units that stop coming (STALL_MS), and its message is read then.
 */
export class Encoder<M> {
  /** Frames pushed, in order, with the hold on their pixels (released once their unit is out). */
  private readonly pending: { frameId: number; ts: number; meta: M; hold?: FrameHold }[] = [];
  private closed = false;
  private failed = false;
  private lastPtsNs = -1n;
  private readonly t0: number;
  private pumping: Promise<void> | null = null;
  private pullSince = 0;

  private constructor(
    private readonly pipeline: GstPipeline,
    private readonly src: AppSrc,
    private readonly sink: AppSink,
    private readonly opts: EncoderOptions,
    private readonly onUnit: (u: EncodedUnit<M>) => void,
    private readonly onFailure: (err: LumenError) => void,
    private readonly log: Logger,
  ) {
    this.t0 = Date.now();
  }

  /** Builds and starts the pipeline; throws RECORD_ENCODER when an element is missing or it does not parse. */
  static open<M>(opts: EncoderOptions, onUnit: (u: EncodedUnit<M>) => void, onFailure: (err: LumenError) => void, log: Logger): Encoder<M> {
    const { width, height } = opts.size;
    const fps = Math.max(1, Math.round(opts.fps));
    // Queue limits are ours (maxInFlight), so appsrc never blocks the main thread nor drops.
    const launch = `appsrc name=${SRC} format=time is-live=true block=false max-buffers=0 max-bytes=0 caps=video/x-raw,format=RGBA,width=${width},height=${height},framerate=${fps}/1 ! ${opts.profile.encode({ gop: opts.gop, kbps: opts.kbps })} ! appsink name=au sync=false`;
    let pipeline: GstPipeline;
    try {
      checkElements(launch);
      pipeline = new GstPipeline(launch);
    } catch (err) {
      throw new LumenError('RECORD_ENCODER', `record.encoder ${opts.profile.name}: ${messageOf(err)}`, { encoder: opts.profile.name }, { cause: err });
    }
    const enc = new Encoder<M>(pipeline, pipeline.appsrc(SRC), pipeline.appsink('au'), opts, onUnit, onFailure, log);
    pipeline.play();
    log.info({ encoder: opts.profile.name, width, height, gop: opts.gop, kbps: opts.kbps }, 'recording encoder started');
    return enc;
  }

  get size(): Size {
    return this.opts.size;
  }

  /** Frames pushed whose access unit has not come out yet. */
  get inFlight(): number {
    return this.pending.length;
  }

  /** Id of the oldest frame still being encoded, if any. */
  get oldestPending(): number | null {
    return this.pending[0]?.frameId ?? null;
  }

  /**
   * Pushes one RGBA frame, handed over without a copy (AppSrc.handOver): its bytes must not be
   * written until its unit is out, when `hold` (a pooled frame's) is released. False when the encoder is behind by maxInFlight frames, closed or
   * failed: the frame is not recorded.
   */
  push(data: Uint8Array, frameId: number, ts: number, meta: M, hold?: FrameHold): boolean {
    if (this.closed || this.failed) return false;
    if (this.pumping && Date.now() - this.pullSince > STALL_MS) {
      this.fail(`produced nothing for ${STALL_MS} ms`);
      return false;
    }
    if (this.pending.length >= this.opts.maxInFlight) return false;
    // Timestamps must rise; the wall clock may step back (NTP): then 1 µs after the last.
    let pts = BigInt(Math.max(0, ts - this.t0)) * 1_000_000n;
    if (pts <= this.lastPtsNs) pts = this.lastPtsNs + 1000n;
    this.lastPtsNs = pts;
    this.pending.push({ frameId, ts, meta, hold });
    this.src.handOver(data, pts);
    this.pumping ??= this.pump();
    return true;
  }

  /** Pulls while frames wait for their access unit, one pull at a time. */
  private async pump(): Promise<void> {
    while (this.pending.length && !this.failed) {
      this.pullSince = Date.now();
      const s = await this.sink.pull();
      if (!s) {
        // End of stream after close, or the pipeline stopped on an error.
        if (!this.closed) this.fail('stopped');
        break;
      }
      const entry = this.pending.shift();
      if (!entry) break;
      // Its unit is out, so the converter read its pixels long ago: the buffer may be reused.
      // (After a failure the holds are simply dropped: the buffers are then collected.)
      const { hold, ...frame } = entry;
      hold?.release();
      try {
        this.onUnit({ data: s.buf, key: this.opts.profile.isKeyframe(s.buf), ...frame });
      } catch (err) {
        // Nothing of the recorder's may end in an unhandled rejection (it would end the daemon).
        this.fail(`could not take an access unit: ${messageOf(err)}`);
      }
    }
    this.pumping = null;
  }

  private fail(what: string): void {
    if (this.failed || this.closed) return;
    this.failed = true;
    this.pending.length = 0;
    // Read the reason the bus holds (it was not being polled), then stop: the poll ends at NULL.
    let reason = '';
    this.pipeline.onBus((m) => {
      if (m.type === 'error' && !reason) reason = `: GStreamer error from ${m.name ?? m._src_element_name}: ${m.message}`;
    });
    setTimeout(() => {
      this.pipeline.stop();
      const err = new LumenError('RECORD_ENCODER', `record.encoder ${this.opts.profile.name} ${what}${reason}`, { encoder: this.opts.profile.name });
      this.log.error({ code: err.code, err: err.message }, 'recording encoder failed');
      this.onFailure(err);
    }, 200);
  }

  /** Ends the stream: frames in flight come out first (within `drainMs`), then the pipeline stops. Safe to call twice. */
  async close(drainMs = 1000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.failed) {
      this.pipeline.sendEos();
      if (this.pumping) await Promise.race([this.pumping, new Promise((r) => setTimeout(r, drainMs))]);
    }
    this.pipeline.stop();
    await this.pumping;
  }
}
