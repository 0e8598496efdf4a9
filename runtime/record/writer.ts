import { open, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { GstPipeline, type AppSrc } from '../capture/gst.js';
import { LumenError, messageOf } from '../errors.js';
import type { Logger } from '../log.js';
import { writeDurably, type Catalogue, type RecordingInfo } from './catalogue.js';
import { ensureFolder, FILE_MODE, writeFault } from './disk.js';
import type { EncodedUnit } from './encoder.js';
import type { EncoderProfile } from './profiles.js';
import { sidecarJson, type ApplianceFrame, type DecisionContext, type FrameDecision } from './sidecar.js';

/** How long the muxer may take to finish the file after end of stream, ms. */
const FINISH_TIMEOUT_MS = 5000;

/**
 * One recording file: encoded access units in (from a keyframe on), Matroska out through
 * appsrc ! reparse ! matroskamux ! filesink, with the appliance's decision on each frame kept
 * for the sidecar. Opening is asynchronous (folder, record, file): units pushed meanwhile wait
 * in a list, since opening takes milliseconds and the stream does not stop for it.
 */
export class RecordingWriter {
  private pipeline: GstPipeline | null = null;
  private src: AppSrc | null = null;
  private queued: EncodedUnit<FrameDecision>[] = [];
  private readonly frames: ApplianceFrame[] = [];
  private fault: LumenError | null = null;
  private eos: (() => void) | null = null;
  private finishing: Promise<RecordingInfo> | null = null;
  private lastPts = -1n;
  private bytesIn = 0;
  private lastSize = -1;
  /**
   * Pushed but not in the file beyond this, and not growing: stuck (see progress()). The muxer
   * holds about a cluster (≈ 1 s) and filesink 64 KiB; set from the bitrate (3 s of video, ≥ 1 MiB).
   */
  stuckBytes = 2 ** 20;
  /** The record is on disk as `recording` (so a crash from here on is found at the next start). */
  readonly saved: Promise<void>;
  readonly ready: Promise<void>;

  constructor(
    private readonly cat: Catalogue,
    readonly info: RecordingInfo,
    private readonly profile: EncoderProfile,
    private readonly ctx: DecisionContext,
    private readonly onFault: (w: RecordingWriter, err: LumenError) => void,
    private readonly log: Logger,
  ) {
    this.saved = this.saveRecord();
    this.ready = this.saved.then(() => this.open()).catch((err: unknown) => this.failWith(err));
  }

  get id(): string {
    return this.info.id;
  }

  get frameCount(): number {
    return this.frames.length + this.queued.length;
  }

  /** Id of the first frame taken (−1 before it). */
  get firstFrameId(): number {
    return this.frames[0]?.frameId ?? this.queued[0]?.frameId ?? -1;
  }

  /** Capture time of the last frame taken, ms (null before the first). */
  get lastTs(): number | null {
    return this.queued.at(-1)?.ts ?? this.frames.at(-1)?.ts ?? null;
  }

  /** Capture time of the first frame taken, ms (null before it). */
  get startTs(): number | null {
    return this.frames[0]?.ts ?? this.queued[0]?.ts ?? null;
  }

  get failed(): LumenError | null {
    return this.fault;
  }

  private async saveRecord(): Promise<void> {
    await ensureFolder(dirname(this.cat.abs(this.info.path)));
    await this.cat.save(this.info);
  }

  private async open(): Promise<void> {
    const file = this.cat.abs(this.info.path);
    // Made here with mode 0600; filesink truncates it and keeps the mode.
    await (await open(file, 'wx', FILE_MODE)).close();
    // One pipeline per file shape, reused file after file: no parse per clip (gst.ts).
    const p = new GstPipeline(
      `appsrc name=src format=time block=false max-buffers=0 max-bytes=0 caps=${this.profile.caps(this.info)} ! ${this.profile.reparse} ! matroskamux ! filesink name=out sync=false`,
      { reuse: true },
    );
    // Set as a property, not in the launch line: the path may hold characters the parser reads.
    p.setProperty('out', 'location', file);
    // The bus is not polled while writing (a poll blocks a libuv pool thread for the file's
    // whole life): an error waits on it until finish() reads it, and a stalled file is noticed
    // by `progress()`.
    p.play();
    this.pipeline = p;
    this.src = p.appsrc('src');
    for (const u of this.queued.splice(0)) this.write(u);
  }

  /** Takes the next unit (the first must be a keyframe; earlier delta units are skipped). */
  push(u: EncodedUnit<FrameDecision>): void {
    if (this.fault || this.finishing) return;
    if (this.frameCount === 0 && !u.key) return;
    if (!this.src) this.queued.push(u);
    else this.write(u);
  }

  private write(u: EncodedUnit<FrameDecision>): void {
    const start = this.frames[0]?.ts ?? u.ts;
    let pts = BigInt(Math.max(0, u.ts - start)) * 1_000_000n;
    if (pts <= this.lastPts) pts = this.lastPts + 1000n;
    this.lastPts = pts;
    this.src!.push(u.data, pts);
    this.bytesIn += u.data.length;
    this.frames.push({ index: this.frames.length, frameId: u.frameId, ts: u.ts, ...u.meta });
  }

  /**
   * Whether the file still grows with what is pushed: false once more than stuckBytes were
   * pushed than reached the file and it did not grow since the last look (a write error, e.g.
   * a full disk, waiting on the unpolled bus). Called every few seconds.
   */
  async progress(): Promise<boolean> {
    if (!this.src || this.fault || this.finishing) return true;
    const size = await stat(this.cat.abs(this.info.path)).then(
      (s) => s.size,
      () => -1,
    );
    const grew = size !== this.lastSize;
    this.lastSize = size;
    return grew || this.bytesIn - size < this.stuckBytes;
  }

  private failWith(err: unknown): void {
    if (this.fault) return;
    this.fault = err instanceof LumenError ? err : new LumenError('RECORD_WRITE', `writing ${this.info.path}: ${messageOf(err)}`, {}, { cause: err });
    this.log.error({ id: this.info.id, code: this.fault.code, err: this.fault.message }, 'recording failed');
    this.pipeline?.stop();
    this.eos?.();
    this.onFault(this, this.fault);
  }

  /**
   * Ends the file: end of stream through the muxer (which writes its index), fsync, the sidecar,
   * then the record as complete — or failed, with the error, when anything went wrong.
   * Resolves with the final record; never throws. Safe to call twice.
   */
  finish(endReason: string, extra: Partial<RecordingInfo> = {}): Promise<RecordingInfo> {
    this.finishing ??= this.doFinish(endReason, extra);
    return this.finishing;
  }

  private async doFinish(endReason: string, extra: Partial<RecordingInfo>): Promise<RecordingInfo> {
    await this.ready;
    const file = this.cat.abs(this.info.path);
    if (!this.fault && this.pipeline) {
      const done = new Promise<void>((r) => (this.eos = r));
      let error: Promise<unknown> = Promise.resolve();
      this.pipeline.onBus((m) => {
        if (m.type === 'eos') {
          // The file is whole; stopped here, in the bus callback, the pipeline can serve the next file.
          this.pipeline?.release();
          this.eos?.();
        } else if (m.type === 'error')
          error = writeFault(dirname(file), `writing ${this.info.path}`, new Error(`${m.name ?? m._src_element_name}: ${m.message}`)).then((e) =>
            this.failWith(e),
          );
      });
      this.pipeline.sendEos();
      const timedOut = await Promise.race([done.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), FINISH_TIMEOUT_MS))]);
      await error;
      if (timedOut && !this.fault)
        this.failWith(new LumenError('RECORD_WRITE', `writing ${this.info.path}: the muxer did not finish within ${FINISH_TIMEOUT_MS} ms`));
    }
    this.pipeline?.stop();
    const first = this.frames[0];
    const last = this.frames.at(-1);
    const info: RecordingInfo = {
      ...this.info,
      ...extra,
      firstFrame: first?.frameId ?? null,
      lastFrame: last?.frameId ?? null,
      frames: this.frames.length,
      startTs: first?.ts ?? null,
      endTs: last?.ts ?? null,
      endReason,
    };
    try {
      if (this.fault) throw this.fault;
      if (!first) throw new LumenError('RECORD_WRITE', `${this.info.path}: no frame was recorded`);
      const fh = await open(file, 'r+');
      await fh.sync().finally(() => fh.close());
      await writeDurably(this.cat.abs(this.info.sidecar), sidecarJson(info, this.frames, this.ctx));
      info.state = 'complete';
    } catch (err) {
      const e = err instanceof LumenError ? err : await writeFault(dirname(file), `finishing ${this.info.path}`, err);
      info.state = 'failed';
      info.error = { code: e.code, message: e.message };
      // On a full disk the half-written file goes at once: the space is worth more to the journal.
      if (e.code === 'RECORD_DISK_FULL') await rm(file, { force: true });
    }
    info.bytes = await this.cat.sizeOf(info);
    await this.cat
      .save(info)
      .catch((err: unknown) => this.log.error({ id: info.id, err: messageOf(err) }, 'recording record not saved (found as incomplete at the next start)'));
    this.log.info({ id: info.id, state: info.state, frames: info.frames, bytes: info.bytes, encodedBytes: this.bytesIn, endReason }, `recording ${info.state}`);
    return info;
  }
}
