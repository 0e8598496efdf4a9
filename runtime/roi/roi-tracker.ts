import type { Frame, Rect } from '../frame.js';
import { findActiveArea, type ActiveArea } from './active-area.js';

/**
 * Keeps the ROI steady. The scope's picture does not jump from frame to frame, so the active area
 * is detected only every few frames, and a detection that differs from the current ROI replaces
 * it only after it has been seen, within a few pixels, on several detections in a row: one frame
 * with the tip against the wall, a menu or a dark view does not move the ROI.
 */

/** Options of RoiTracker; every field is optional. */
export interface RoiTrackerOptions {
  /** Frames between detections while the ROI is steady; default 30 (1 s at 30 fps). */
  readonly detectEvery?: number;
  /** Frames between detections while a changed area awaits confirmation; default 5. */
  readonly confirmEvery?: number;
  /** Consecutive agreeing detections needed to replace the ROI; default 3. */
  readonly stableCount?: number;
  /** Largest move of any edge, in pixels, still counted as the same area; default 4. */
  readonly tolerance?: number;
}

/** Something with a rect: an ActiveArea, or a bare { rect } in tests and fixed set-ups. */
export interface HasRect {
  readonly rect: Rect;
}

/** Tracks the active area across frames; T is what detect returns (default ActiveArea). */
export class RoiTracker<T extends HasRect = ActiveArea> {
  readonly #detectEvery: number;
  readonly #confirmEvery: number;
  readonly #stableCount: number;
  readonly #tolerance: number;
  #current: T | null = null;
  #candidate: T | null = null;
  #agree = 0;
  #lastDetect = -Infinity;

  constructor(opts: RoiTrackerOptions = {}) {
    this.#detectEvery = Math.max(1, Math.floor(opts.detectEvery ?? 30));
    this.#confirmEvery = Math.max(1, Math.floor(opts.confirmEvery ?? 5));
    this.#stableCount = Math.max(1, Math.floor(opts.stableCount ?? 3));
    this.#tolerance = Math.max(0, opts.tolerance ?? 4);
  }

  /** The area in use, or null before the first detection that found one. */
  get area(): T | null {
    return this.#current;
  }

  /** The ROI in use (frame pixels), or null before the first detection that found one. */
  get roi(): Rect | null {
    return this.#current?.rect ?? null;
  }

  /** Whether a detection is due at frameIndex: every frame until an area is found, then every detectEvery (confirmEvery while a change is pending); a frame id going backwards (new session) is due. */
  isDue(frameIndex: number): boolean {
    if (this.#current === null) return true;
    const every = this.#candidate ? this.#confirmEvery : this.#detectEvery;
    const since = frameIndex - this.#lastDetect;
    return since >= every || since < 0;
  }

  /**
   * Feeds one detection (null, or an area with an empty rect, when nothing was found) and returns
   * the area in use afterwards. The first area found is adopted at once: until then there is no
   * ROI at all, and the whole frame — burned-in text included — would be the alternative.
   */
  observe(area: T | null, frameIndex = this.#lastDetect + 1): T | null {
    this.#lastDetect = frameIndex;
    if (area === null || area.rect.width <= 0 || area.rect.height <= 0) {
      // A miss breaks a run of agreeing detections: the change was not stable.
      this.#candidate = null;
      this.#agree = 0;
      return this.#current;
    }
    if (this.#current === null) {
      this.#current = area;
      return area;
    }
    if (this.#near(area.rect, this.#current.rect)) {
      this.#candidate = null;
      this.#agree = 0;
      return this.#current;
    }
    if (this.#candidate && this.#near(area.rect, this.#candidate.rect)) {
      this.#agree++;
    } else {
      this.#candidate = area;
      this.#agree = 1;
    }
    if (this.#agree >= this.#stableCount) {
      // The latest of the agreeing detections: it is the one the picture settled on.
      this.#current = area;
      this.#candidate = null;
      this.#agree = 0;
    }
    return this.#current;
  }

  /** Runs detect (default findActiveArea, when T is ActiveArea) on frame when a detection is due; returns the area in use. */
  track(frame: Frame, detect?: (frame: Frame) => T | null): T | null {
    if (!this.isDue(frame.id)) return this.#current;
    // Without a detector T is the default type argument, ActiveArea.
    const found = detect ? detect(frame) : (findActiveArea(frame) as unknown as T);
    return this.observe(found, frame.id);
  }

  /** Forgets everything: the next detection is adopted at once (after a scope or processor change). */
  reset(): void {
    this.#current = null;
    this.#candidate = null;
    this.#agree = 0;
    this.#lastDetect = -Infinity;
  }

  #near(a: Rect, b: Rect): boolean {
    const t = this.#tolerance;
    return (
      Math.abs(a.x - b.x) <= t && Math.abs(a.y - b.y) <= t && Math.abs(a.x + a.width - (b.x + b.width)) <= t && Math.abs(a.y + a.height - (b.y + b.height)) <= t
    );
  }
}
