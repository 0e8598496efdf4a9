import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { ProcessedFrame } from '../pipeline/processed-frame.js';
import type { AlertEvent, DecisionOutput } from '../decision/decision.js';
import { isLumenError, LumenError, messageOf } from '../errors.js';
import type { Logger } from '../log.js';
import type { AlertHeader, RecordingStatusFields } from '../publish/protocol.js';
import type { RecordingInfo } from './catalogue.js';
import { freeMB } from './disk.js';
import { Encoder, type EncodedUnit } from './encoder.js';
import { RecordPixels } from './frame-pixels.js';
import { PreRoll } from './preroll.js';
import { PROFILES } from './profiles.js';
import { RecentFrames, RecordingStats } from './recorder-status.js';
import type { FrameDecision } from './sidecar.js';
import { RecordingStore, type StoreHooks } from './store.js';
import type { RecordingWriter } from './writer.js';

/** What an alert message says about its clip (docs/protocol.md). */
export type ClipRef = NonNullable<AlertHeader['clip']>;

interface ActiveClip {
  writer: RecordingWriter;
  onsetTs: number;
  clearTs: number | null;
  /** Frames after this capture time are past the post-roll, ms. */
  endTs: number | null;
  /** Frames with a higher id are past the post-roll (what the clear named as the clip's last frame). */
  endFrame: number | null;
  timer?: NodeJS.Timeout;
}

/** A recording was finished (published on lumen.clip); the models in use (for the sidecars). */
export type RecorderHooks = Omit<StoreHooks, 'fault'>;

/** Frames pushed but not yet encoded before further frames are skipped (each is width × height × 4 bytes). */
const MAX_IN_FLIGHT = 4;
/** At most this many alert clips are written at once; a further raise ends the oldest. */
const MAX_OPEN_CLIPS = 3;
const HEALTH_EVERY_MS = 5000;
/** How long a raise waits for its clip's record to reach the disk before it is journalled anyway, ms. */
const RECORD_WAIT_MS = 250;
/** Frames the rate cap lets through back to back (see due()). */
const BURST = 3;
const RETENTION_EVERY_MS = 60_000;
/** How far past the post-roll's time a clip may run while its frame bound is not reached, ms. */
const END_SLACK_MS = 1000;

/**
 * Records the conditioned analysis stream (docs/recording.md): every frame the daemon handled,
 * up to record.maxFps, goes once into a long-lived encoder; its encoded units fill the pre-roll
 * and every open file — one per alert (pre-roll to post-roll) and, when enabled, continuous
 * segments. A fault (full disk, unwritable folder, encoder) stops recording and says so in
 * status; it never reaches the alerting path, and recording resumes by itself once it clears.
 */
export class Recorder {
  private readonly store: RecordingStore;
  private encoder: Encoder<FrameDecision> | null = null;
  private readonly preroll: PreRoll<FrameDecision>;
  private readonly clips = new Map<number, ActiveClip>();
  private segment: RecordingWriter | null = null;
  private readonly pixels: RecordPixels;
  private readonly recent = new RecentFrames(1024);
  private readonly stats = new RecordingStats();
  private tokens = BURST;
  private lastTs = 0;
  private lastLogged: { code: string; at: number } | null = null;
  private closed = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly r: Readonly<Config['record']>;

  private constructor(
    config: Readonly<Config>,
    hooks: RecorderHooks,
    private readonly log: Logger,
  ) {
    this.r = config.record;
    // Bound late: the daemon names its models once they are open, after the recorder.
    const storeHooks: StoreHooks = { finished: (info) => hooks.finished(info), models: () => hooks.models(), fault: (err) => this.stop(err) };
    this.store = new RecordingStore(join(config.state.dir, 'recordings'), config, storeHooks, log);
    this.pixels = new RecordPixels(config.roi);
    // A clip starts preRollS before the onset frame, which the raise comes raiseFrames after:
    // the ring holds that much more (at 5 processed frames/s or more; at least 1 s).
    const raiseS = Math.max(1, config.decision.raiseFrames / 5);
    this.preroll = new PreRoll((this.r.clips.preRollS + raiseS) * 1000, this.r.preRollMaxMB * 2 ** 20);
  }

  /** Opens the recordings folder and its index; never throws (a fault is reported in status). */
  static async open(config: Readonly<Config>, log: Logger, hooks: RecorderHooks): Promise<Recorder> {
    const rec = new Recorder(config, hooks, log);
    if (!rec.enabled) return rec;
    await rec.health();
    await rec.store.sweep(rec.busy());
    rec.timers.push(
      setInterval(() => void rec.health(), HEALTH_EVERY_MS),
      setInterval(() => void rec.store.sweep(rec.busy()), RETENTION_EVERY_MS),
    );
    return rec;
  }

  private get enabled(): boolean {
    return this.r.clips.enabled || this.r.segments.enabled;
  }

  /** Per handled frame (daemon hook): the conditioned pixels go to the encoder, at most maxFps. */
  frame(p: ProcessedFrame, d: DecisionOutput): void {
    const t = performance.now();
    try {
      this.take(p, d);
    } catch (err) {
      // A recording fault never fails the frame: the overlay and the alert go out regardless.
      this.stop(isLumenError(err) ? err : new LumenError('RECORD_ENCODER', `recording a frame failed: ${messageOf(err)}`));
    }
    p.timings.record = performance.now() - t;
  }

  private take(p: ProcessedFrame, d: DecisionOutput): void {
    const f = p.frame;
    this.recent.add(f.id, f.ts);
    if (this.enabled && !this.closed && !this.stats.fault && this.store.open) {
      if (!this.due(f.ts)) this.stats.skippedRate++;
      else {
        if (this.encoder && (this.encoder.size.width !== f.width || this.encoder.size.height !== f.height)) this.restart('size-change');
        if (this.encoder || this.openEncoder(f)) {
          const data = this.pixels.of({ width: f.width, height: f.height, data: f.data, roi: p.roi, gated: p.gated });
          const meta: FrameDecision = { score: p.score, smoothed: d.smoothed, alert: d.alert, gated: p.gated, box: p.box };
          if (this.encoder!.push(data, f.id, f.ts, meta)) this.stats.recorded++;
          else this.stats.skippedBusy++;
        }
      }
    }
  }

  /**
   * Every frame up to maxFps on average; above it, as many as keep the rate at maxFps. A token
   * bucket rather than a minimum spacing: frames that left GStreamer close together after a
   * stall (their capture times are when they left it) are real frames, not a higher rate.
   */
  private due(ts: number): boolean {
    this.tokens = Math.min(BURST, this.tokens + (Math.max(0, ts - this.lastTs) * this.r.maxFps) / 1000);
    this.lastTs = ts;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private openEncoder(f: { width: number; height: number }): boolean {
    try {
      const gop = Math.max(1, Math.round(this.r.keyframeEveryS * this.r.maxFps));
      const opts = {
        profile: PROFILES[this.r.encoder],
        size: { width: f.width, height: f.height },
        fps: this.r.maxFps,
        gop,
        kbps: this.r.bitrateKbps,
        maxInFlight: MAX_IN_FLIGHT,
      };
      this.encoder = Encoder.open<FrameDecision>(
        opts,
        (u) => this.onUnit(u),
        (err) => this.stop(err),
        this.log,
      );
      return true;
    } catch (err) {
      this.stop(isLumenError(err) ? err : new LumenError('RECORD_ENCODER', messageOf(err)));
      return false;
    }
  }

  /** An encoded unit: into the pre-roll, each open clip (until its post-roll ends) and the segment. */
  private onUnit(u: EncodedUnit<FrameDecision>): void {
    this.preroll.add(u);
    for (const [episode, c] of this.clips) {
      const start = c.writer.startTs ?? u.ts;
      // The frame bound is what the clear promised; the time bound (with slack) ends a clip whose
      // source slowed down or re-opened (ids start again from 0).
      if ((c.endFrame !== null && u.frameId > c.endFrame) || (c.endTs !== null && u.ts > c.endTs + END_SLACK_MS)) this.endClip(episode, 'post-roll');
      else if (u.ts - start > this.r.clips.maxSeconds * 1000) this.endClip(episode, 'length');
      else c.writer.push(u);
    }
    if (!this.r.segments.enabled || !this.store.open || !this.encoder) return;
    const seg = this.segment;
    if (seg && u.key && u.ts - (seg.startTs ?? u.ts) >= this.r.segments.seconds * 1000) {
      this.store.finish(seg, 'segment', () => this.busy());
      this.segment = null;
    }
    if (!this.segment && u.key) this.segment = this.store.writer('segment', u.ts, this.encoder.size);
    this.segment?.push(u);
  }

  /**
   * Alert hook (before the alert is journalled): a raise opens its clip with the pre-roll from
   * preRollS before the onset frame; a clear sets where the clip ends. Returns the clip the
   * alert names, or nothing when no clip is being recorded (status says why). A raise waits for
   * the clip's record to be on disk (at most RECORD_WAIT_MS), so that a journalled alert never
   * names a clip a crash would leave without a record.
   */
  async alert(e: AlertEvent): Promise<{ clip: ClipRef } | undefined> {
    try {
      return await this.clipFor(e);
    } catch (err) {
      // The alert is journalled and published whatever happens here; it just names no clip.
      this.stop(isLumenError(err) ? err : new LumenError('RECORD_WRITE', `opening the clip of alert ${e.episode} failed: ${messageOf(err)}`));
      return undefined;
    }
  }

  private async clipFor(e: AlertEvent): Promise<{ clip: ClipRef } | undefined> {
    if (!this.r.clips.enabled || this.closed) return undefined;
    if (e.type === 'clear') {
      const c = this.clips.get(e.episode);
      if (!c) return undefined;
      c.clearTs = e.ts;
      c.endTs = e.ts + this.r.clips.postRollS * 1000;
      const rate = this.recent.idRate();
      c.endFrame = rate === null ? null : e.frameId + Math.round(this.r.clips.postRollS * 1000 * rate);
      if (c.writer.info.alert) c.writer.info.alert.clearFrame = e.frameId;
      // Frames may stop coming (signal lost, source ended): the clip ends anyway.
      c.timer = setTimeout(() => this.endClip(e.episode, 'no-frames'), this.r.clips.postRollS * 1000 + 3000);
      return { clip: { ...this.ref(c.writer), lastFrame: c.endFrame } };
    }
    if (this.stats.fault || !this.store.open || !this.encoder) return undefined;
    if (this.clips.size >= MAX_OPEN_CLIPS) this.endClip(this.clips.keys().next().value!, 'overlap');
    const onsetTs = this.recent.tsOf(e.onsetFrame) ?? e.ts;
    const w = this.store.writer('clip', e.ts, this.encoder.size, { episode: e.episode, onsetFrame: e.onsetFrame, raiseFrame: e.frameId, clearFrame: null });
    for (const u of this.preroll.from(onsetTs - this.r.clips.preRollS * 1000)) w.push(u);
    this.clips.set(e.episode, { writer: w, onsetTs, clearTs: null, endTs: null, endFrame: null });
    const ref = this.ref(w);
    // A record that could not be saved is the writer's to log (it fails the clip: w.failed below); here only the wait matters.
    await Promise.race([w.saved.catch(() => {}), new Promise((r) => setTimeout(r, RECORD_WAIT_MS))]);
    return w.failed ? undefined : { clip: ref };
  }

  private ref(w: RecordingWriter): ClipRef {
    const first = w.frameCount > 0 ? w.firstFrameId : (this.encoder?.oldestPending ?? null);
    return { id: w.id, path: w.info.path, firstFrame: first };
  }

  private endClip(episode: number, reason: string): void {
    const c = this.clips.get(episode);
    if (!c) return;
    this.clips.delete(episode);
    clearTimeout(c.timer);
    const start = c.writer.startTs;
    const last = c.writer.lastTs;
    const extra = {
      preRollS: start === null ? 0 : Math.round(Math.max(0, c.onsetTs - start)) / 1000,
      ...(c.clearTs !== null && last !== null ? { postRollS: Math.round(Math.max(0, last - c.clearTs)) / 1000 } : {}),
    };
    this.store.finish(c.writer, reason, () => this.busy(), extra);
  }

  /** Ids of the files being written: retention leaves them alone. */
  private busy(): ReadonlySet<string> {
    return new Set([...this.clips.values()].map((c) => c.writer.id).concat(this.segment ? [this.segment.id] : []));
  }

  /** Ends every open file and the encoder (a new picture size, a fault). */
  private restart(reason: string): void {
    for (const episode of [...this.clips.keys()]) this.endClip(episode, reason);
    if (this.segment) this.store.finish(this.segment, reason, () => this.busy());
    this.segment = null;
    const enc = this.encoder;
    this.encoder = null;
    this.preroll.clear();
    void enc?.close(300);
  }

  /** Stops recording with a fault (status and metrics say which); alerting is not affected. */
  private stop(err: LumenError): void {
    if (this.stats.fault || this.closed) return;
    this.stats.fault = { code: err.code, message: err.message, since: Date.now() };
    // A fault that persists is found again at every health check: logged once, then every 10 min.
    const again = this.lastLogged?.code === err.code && Date.now() - this.lastLogged.at < 600_000;
    if (!again) this.lastLogged = { code: err.code, at: Date.now() };
    this.log[again ? 'debug' : 'error']({ code: err.code, err: err.message }, 'recording stopped; alerting goes on');
    this.restart(err.code === 'RECORD_DISK_FULL' ? 'disk-full' : err.code === 'RECORD_ENCODER' ? 'encoder' : 'fault');
  }

  /** Every few seconds: files that stopped growing, free space, and the way back once a fault cleared. */
  private async health(): Promise<void> {
    if (this.closed) return;
    for (const [episode, c] of [...this.clips]) if (!(await c.writer.progress())) this.endClip(episode, 'stalled');
    const seg = this.segment;
    if (seg && !(await seg.progress()) && this.segment === seg) {
      this.store.finish(seg, 'stalled', () => this.busy());
      this.segment = null;
    }
    const f = this.stats.fault;
    if (!f && !(await this.store.ensureOpen())) return;
    const free = await freeMB(this.store.root);
    this.stats.freeMB = free;
    const min = this.r.retention.minFreeMB;
    if (!f && free !== null && free < min) {
      this.stop(new LumenError('RECORD_DISK_FULL', `${this.store.root}: ${free.toFixed(0)} MB free, below record.retention.minFreeMB ${min}`));
      return;
    }
    const spaceBack = f?.code !== 'RECORD_DISK_FULL' || (free !== null && free >= min * 1.25 + 16);
    // An encoder that failed is tried again after a while; a missing element stays missing.
    const encoderBack = f?.code !== 'RECORD_ENCODER' || Date.now() - f.since > 60_000;
    if (f && spaceBack && encoderBack) {
      this.stats.fault = null;
      this.store.reset();
      if (await this.store.ensureOpen()) this.log.info({ code: f.code }, 'recording resumes');
    }
  }

  /** A recording's record, for the history socket's `clip` op: CLIP_UNKNOWN / CLIP_DELETED. */
  describe(id: string): RecordingInfo {
    return this.store.describe(id, this.stats.fault?.message ?? (this.enabled ? 'not open yet' : 'recording is off'));
  }

  /** lumen.status `recording`. */
  statusFields(): RecordingStatusFields {
    const state = !this.enabled ? 'off' : this.stats.fault ? 'stopped' : this.clips.size || this.segment ? 'recording' : 'ready';
    return { recording: this.stats.status(state, this.r, [...this.busy()], this.preroll, this.encoder?.inFlight ?? 0, this.store.tally) };
  }

  /** Finishes the open files with what was encoded (within half a second), then stops. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const t of this.timers) clearInterval(t);
    const enc = this.encoder;
    this.encoder = null;
    await enc?.close(500);
    this.closed = true;
    for (const episode of [...this.clips.keys()]) this.endClip(episode, 'stop');
    if (this.segment) this.store.finish(this.segment, 'stop', () => this.busy());
    this.segment = null;
    await this.store.drain();
  }
}
