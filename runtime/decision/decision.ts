// decision/: the decision stage: scores smoothed over time, alerts raised and cleared with hysteresis, and
// the alert episodes that survive restarts.
import type { Rect } from '../frame.js';

/** Hysteresis settings (see config section `decision`). */
export interface DecisionSettings {
  smoothing: number;
  raiseThreshold: number;
  raiseFrames: number;
  clearThreshold: number;
  clearFrames: number;
}

/** One processed frame as the decision stage sees it; score null means the frame was gated. */
export interface DecisionInput {
  frameId: number;
  ts: number;
  score: number | null;
  /** Lesion box in frame pixels and its area, when the segmenter ran and found one. */
  box?: Rect;
  areaPx?: number;
}

export interface AlertEvent {
  type: 'raise' | 'clear';
  /** Counts lesion episodes (continuing across restarts); one raise and one clear each. */
  episode: number;
  /** First frame of the run that raised the alert. */
  onsetFrame: number;
  frameId: number;
  ts: number;
  /** Smoothed score at this frame. */
  score: number;
  /** Highest smoothed score in the episode so far. */
  peakScore: number;
  box: Rect | null;
  areaPx: number | null;
}

export interface DecisionOutput {
  smoothed: number | null;
  alert: boolean;
  event: AlertEvent | null;
}

/**
 * Exponential smoothing then hysteresis: raise after `raiseFrames` consecutive frames at or above
 * `raiseThreshold`, clear after `clearFrames` below `clearThreshold`. Gated frames change nothing.
 */
export class DecisionStage {
  private smoothed: number | null = null;
  private active = false;
  private run = 0;
  private runStart = 0;
  private episode = 0;
  private onset = 0;
  private peak = 0;
  private box: Rect | null = null;
  private area: number | null = null;

  constructor(private readonly s: DecisionSettings) {}

  get alertActive(): boolean {
    return this.active;
  }

  /** Episode numbers continue after `lastEpisode` (the journal's, after a restart). */
  continueFrom(lastEpisode: number): void {
    this.episode = Math.max(this.episode, lastEpisode);
  }

  update(f: DecisionInput): DecisionOutput {
    if (f.score === null) return { smoothed: this.smoothed, alert: this.active, event: null };
    const sm = this.smoothed === null ? f.score : this.s.smoothing * f.score + (1 - this.s.smoothing) * this.smoothed;
    this.smoothed = sm;
    if (f.box) {
      this.box = f.box;
      this.area = f.areaPx ?? null;
    }
    let event: AlertEvent | null = null;
    if (!this.active) {
      if (sm >= this.s.raiseThreshold) {
        if (this.run === 0) this.runStart = f.frameId;
        this.run++;
      } else this.run = 0;
      if (this.run >= this.s.raiseFrames) {
        this.active = true;
        this.run = 0;
        this.episode++;
        this.onset = this.runStart;
        this.peak = sm;
        event = this.event('raise', f, sm);
      }
    } else {
      this.peak = Math.max(this.peak, sm);
      this.run = sm < this.s.clearThreshold ? this.run + 1 : 0;
      if (this.run >= this.s.clearFrames) {
        this.active = false;
        this.run = 0;
        event = this.event('clear', f, sm);
        this.box = null;
        this.area = null;
      }
    }
    return { smoothed: sm, alert: this.active, event };
  }

  private event(type: AlertEvent['type'], f: DecisionInput, score: number): AlertEvent {
    return { type, episode: this.episode, onsetFrame: this.onset, frameId: f.frameId, ts: f.ts, score, peakScore: this.peak, box: this.box, areaPx: this.area };
  }
}
