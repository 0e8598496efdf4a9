import type { DegradeLevel } from '../health/degrade-policy.js';

/**
 * How much model work each frame gets — the one owner of the degrade policy's rates on the frame
 * path. The policy (health/) picks a level; the loop asks `takes()` for each frame taken, and the
 * model stage asks `segments()` for each suspicious frame. A new share runs every model on every
 * frame (QA replay, selftest and the bench measure the full path).
 */
export class DegradeShare {
  private classifierEvery = 1;
  private segmenterEvery = 1;
  private taken = 0;
  private suspicious = 0;
  /** Frames not classified because of the degrade level. */
  shed = 0;

  /** Adopts a level's rates (DEGRADE_LEVELS). */
  apply(level: Pick<DegradeLevel, 'classifierEvery' | 'segmenterEvery'>): void {
    this.classifierEvery = level.classifierEvery;
    this.segmenterEvery = level.segmenterEvery;
  }

  /** Whether the frame just taken goes through the models: every classifierEvery-th; the others are counted as shed. */
  takes(): boolean {
    if (this.taken++ % this.classifierEvery === 0) return true;
    this.shed++;
    return false;
  }

  /** Whether the suspicious frame just classified is segmented: every segmenterEvery-th. */
  segments(): boolean {
    return this.suspicious++ % this.segmenterEvery === 0;
  }
}
