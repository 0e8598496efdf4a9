// The alert clips being written: each opened by a raise with the pre-roll, ended by its post-roll
// (frame and time bounds), its length cap, an overlapping raise, a stall or a timer.
import type { Config } from '../config/schema.js';
import type { AlertEvent } from '../decision/decision.js';
import type { Size } from '../frame.js';
import type { AlertHeader } from '../publish/protocol.js';
import type { EncodedUnit } from './encoder.js';
import type { PreRoll } from './preroll.js';
import type { RecentFrames } from './recorder-status.js';
import type { FrameDecision } from './sidecar.js';
import type { RecordingStore } from './store.js';
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

/** What the clips need of the recorder that owns them. */
export interface ClipContext {
  /** The running encoder's picture size and oldest frame not yet encoded; null when none runs (a fault, not started). */
  encoder(): { size: Size; oldestPending: number | null } | null;
  /** No fault and the store open: a raise may open a clip. */
  ready(): boolean;
  /** Ids of every file being written (retention leaves them alone). */
  busy(): ReadonlySet<string>;
}

/** At most this many alert clips are written at once; a further raise ends the oldest. */
const MAX_OPEN_CLIPS = 3;
/** How long a raise waits for its clip's record to reach the disk before it is journalled anyway, ms. */
const RECORD_WAIT_MS = 250;
/** How far past the post-roll's time a clip may run while its frame bound is not reached, ms. */
const END_SLACK_MS = 1000;

/** The open alert clips, by episode. Owned by the Recorder, which feeds them encoded units. */
export class AlertClips {
  private readonly clips = new Map<number, ActiveClip>();

  constructor(
    private readonly c: Readonly<Config['record']['clips']>,
    private readonly store: RecordingStore,
    private readonly preroll: PreRoll<FrameDecision>,
    private readonly recent: RecentFrames,
    private readonly ctx: ClipContext,
  ) {}

  get size(): number {
    return this.clips.size;
  }

  /** Ids of the clips being written. */
  ids(): string[] {
    return [...this.clips.values()].map((c) => c.writer.id);
  }

  /** An encoded unit: into each open clip, until its post-roll or length cap ends it. */
  push(u: EncodedUnit<FrameDecision>): void {
    for (const [episode, c] of this.clips) {
      const start = c.writer.startTs ?? u.ts;
      // The frame bound is what the clear promised; the time bound (with slack) ends a clip whose
      // source slowed down or re-opened (ids start again from 0).
      if ((c.endFrame !== null && u.frameId > c.endFrame) || (c.endTs !== null && u.ts > c.endTs + END_SLACK_MS)) this.end(episode, 'post-roll');
      else if (u.ts - start > this.c.maxSeconds * 1000) this.end(episode, 'length');
      else c.writer.push(u);
    }
  }

  /**
   * A raise opens its clip with the pre-roll from preRollS before the onset frame and waits for
   * the clip's record to be on disk (at most RECORD_WAIT_MS); a clear sets where the clip ends.
   * Returns the clip the alert names, or nothing when no clip is being recorded.
   */
  async alert(e: AlertEvent): Promise<{ clip: ClipRef } | undefined> {
    if (e.type === 'clear') {
      const c = this.clips.get(e.episode);
      if (!c) return undefined;
      c.clearTs = e.ts;
      c.endTs = e.ts + this.c.postRollS * 1000;
      const rate = this.recent.idRate();
      c.endFrame = rate === null ? null : e.frameId + Math.round(this.c.postRollS * 1000 * rate);
      if (c.writer.info.alert) c.writer.info.alert.clearFrame = e.frameId;
      // Frames may stop coming (signal lost, source ended): the clip ends anyway.
      c.timer = setTimeout(() => this.end(e.episode, 'no-frames'), this.c.postRollS * 1000 + 3000);
      return { clip: { ...this.ref(c.writer), lastFrame: c.endFrame } };
    }
    const enc = this.ctx.encoder();
    if (!this.ctx.ready() || !enc) return undefined;
    if (this.clips.size >= MAX_OPEN_CLIPS) this.end(this.clips.keys().next().value!, 'overlap');
    const onsetTs = this.recent.tsOf(e.onsetFrame) ?? e.ts;
    const w = this.store.writer('clip', e.ts, enc.size, { episode: e.episode, onsetFrame: e.onsetFrame, raiseFrame: e.frameId, clearFrame: null });
    for (const u of this.preroll.from(onsetTs - this.c.preRollS * 1000)) w.push(u);
    this.clips.set(e.episode, { writer: w, onsetTs, clearTs: null, endTs: null, endFrame: null });
    const ref = this.ref(w);
    // A record that could not be saved is the writer's to log (it fails the clip: w.failed below); here only the wait matters.
    await Promise.race([w.saved.catch(() => {}), new Promise((r) => setTimeout(r, RECORD_WAIT_MS))]);
    return w.failed ? undefined : { clip: ref };
  }

  private ref(w: RecordingWriter): ClipRef {
    const first = w.frameCount > 0 ? w.firstFrameId : (this.ctx.encoder()?.oldestPending ?? null);
    return { id: w.id, path: w.info.path, firstFrame: first };
  }

  /** Ends the clips whose files stopped growing (health check). */
  async endStalled(): Promise<void> {
    for (const [episode, c] of [...this.clips]) if (!(await c.writer.progress())) this.end(episode, 'stalled');
  }

  /** Ends every open clip (a new picture size, a fault, stop). */
  endAll(reason: string): void {
    for (const episode of [...this.clips.keys()]) this.end(episode, reason);
  }

  private end(episode: number, reason: string): void {
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
    this.store.finish(c.writer, reason, () => this.ctx.busy(), extra);
  }
}
