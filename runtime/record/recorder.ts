import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { ProcessedFrame } from '../pipeline/processed-frame.js';
import type { AlertEvent, DecisionOutput } from '../decision/decision.js';
import { isLumenError, LumenError, messageOf } from '../errors.js';
import type { Logger } from '../log.js';
import type { RecordingStatusFields } from '../publish/protocol.js';
import type { RecordingInfo } from './catalogue.js';
import { AlertClips, type ClipRef } from './clips.js';
import { freeMB } from './disk.js';
import type { EncodedUnit } from './encoder.js';
import { FrameFeed } from './frame-feed.js';
import { PreRoll } from './preroll.js';
import { RecentFrames, RecordingStats } from './recorder-status.js';
import { Segments } from './segments.js';
import type { FrameDecision } from './sidecar.js';
import { RecordingStore, type StoreHooks } from './store.js';

export type { ClipRef } from './clips.js';

/** A recording was finished (published on lumen.clip); the models in use (for the sidecars). */
export type RecorderHooks = Omit<StoreHooks, 'fault'>;

const HEALTH_EVERY_MS = 5000;
const RETENTION_EVERY_MS = 60_000;

/**
 * Records the conditioned analysis stream (docs/recording.md): every frame the daemon handled,
 * up to record.maxFps, goes once into a long-lived encoder; its encoded units fill the pre-roll
 * and every open file — one per alert (pre-roll to post-roll) and, when enabled, continuous
 * segments. A fault (full disk, unwritable folder, encoder) stops recording and says so in
 * status; it never reaches the alerting path, and recording resumes by itself once it clears.
 * Frames come in through the feed (frame-feed.ts); the open files are the clips' (clips.ts) and
 * the segments' (segments.ts).
 */
export class Recorder {
  private readonly store: RecordingStore;
  private readonly feed: FrameFeed;
  private readonly preroll: PreRoll<FrameDecision>;
  private readonly clips: AlertClips;
  private readonly segments: Segments;
  private readonly recent = new RecentFrames(1024);
  private readonly stats = new RecordingStats();
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
    this.feed = new FrameFeed(
      this.r,
      config.roi,
      this.stats,
      { unit: (u) => this.onUnit(u), fault: (err) => this.stop(err), restart: (why) => this.restart(why) },
      log,
    );
    // A clip starts preRollS before the onset frame, which the raise comes raiseFrames after:
    // the ring holds that much more (at 5 processed frames/s or more; at least 1 s).
    const raiseS = Math.max(1, config.decision.raiseFrames / 5);
    this.preroll = new PreRoll((this.r.clips.preRollS + raiseS) * 1000, this.r.preRollMaxMB * 2 ** 20);
    this.clips = new AlertClips(this.r.clips, this.store, this.preroll, this.recent, {
      encoder: () => this.feed.encoder,
      ready: () => !this.stats.fault && this.store.open,
      busy: () => this.busy(),
    });
    this.segments = new Segments(this.r.segments.seconds, this.store, () => this.busy());
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
    this.recent.add(p.frame.id, p.frame.ts);
    if (this.enabled && !this.closed && !this.stats.fault && this.store.open) this.feed.take(p, d);
  }

  /** An encoded unit: into the pre-roll, each open clip (until its post-roll ends) and the segment. */
  private onUnit(u: EncodedUnit<FrameDecision>): void {
    this.preroll.add(u);
    this.clips.push(u);
    const enc = this.feed.encoder;
    if (!this.r.segments.enabled || !this.store.open || !enc) return;
    this.segments.push(u, enc.size);
  }

  /**
   * Alert hook (before the alert is journalled): a raise opens its clip with the pre-roll from
   * preRollS before the onset frame; a clear sets where the clip ends. Returns the clip the
   * alert names, or nothing when no clip is being recorded (status says why). A raise waits for
   * the clip's record to be on disk (briefly: clips.ts), so that a journalled alert never
   * names a clip a crash would leave without a record.
   */
  async alert(e: AlertEvent): Promise<{ clip: ClipRef } | undefined> {
    try {
      return !this.r.clips.enabled || this.closed ? undefined : await this.clips.alert(e);
    } catch (err) {
      // The alert is journalled and published whatever happens here; it just names no clip.
      this.stop(isLumenError(err) ? err : new LumenError('RECORD_WRITE', `opening the clip of alert ${e.episode} failed: ${messageOf(err)}`));
      return undefined;
    }
  }

  /** Ids of the files being written: retention leaves them alone. */
  private busy(): ReadonlySet<string> {
    const seg = this.segments.id;
    return new Set(this.clips.ids().concat(seg === null ? [] : [seg]));
  }

  /** Ends every open file and the encoder (a new picture size, a fault). */
  private restart(reason: string): void {
    this.clips.endAll(reason);
    this.segments.end(reason);
    this.preroll.clear();
    void this.feed.end(300);
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
    await this.clips.endStalled();
    await this.segments.endStalled();
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
    const state = !this.enabled ? 'off' : this.stats.fault ? 'stopped' : this.clips.size || this.segments.id !== null ? 'recording' : 'ready';
    return { recording: this.stats.status(state, this.r, [...this.busy()], this.preroll, this.feed.encoder?.inFlight ?? 0, this.store.tally) };
  }

  /** Finishes the open files with what was encoded (within half a second), then stops. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const t of this.timers) clearInterval(t);
    await this.feed.end(500);
    this.closed = true;
    this.clips.endAll('stop');
    this.segments.end('stop');
    await this.store.drain();
  }
}
