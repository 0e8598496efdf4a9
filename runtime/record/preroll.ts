import type { EncodedUnit } from './encoder.js';

/**
 * The pre-roll: the newest encoded access units, whole GOPs from a keyframe on, so that a clip
 * can start `spanMs` before any frame still to come. Bounded twice: by time (one keyframe at or
 * before now − spanMs is kept, nothing older) and by bytes (whole GOPs are dropped, oldest
 * first, while over `maxBytes`; the newest GOP is always kept).
 */
export class PreRoll<M> {
  private gops: EncodedUnit<M>[][] = [];
  private total = 0;
  /** GOPs dropped for the byte cap rather than their age. */
  trimmedForBytes = 0;

  constructor(
    private readonly spanMs: number,
    private readonly maxBytes: number,
  ) {}

  /** Bytes held. */
  get bytes(): number {
    return this.total;
  }

  /** Seconds from the oldest unit held to the newest (0 when empty). */
  get seconds(): number {
    const first = this.gops[0]?.[0];
    const last = this.gops.at(-1)?.at(-1);
    return first && last ? (last.ts - first.ts) / 1000 : 0;
  }

  /** Adds a unit; a delta unit before the first keyframe is dropped (nothing could decode it). */
  add(u: EncodedUnit<M>): void {
    if (u.key) this.gops.push([u]);
    else if (this.gops.length) this.gops[this.gops.length - 1].push(u);
    else return;
    this.total += u.data.length;
    // Time: the second GOP still starts at or before the cut, so the first is not needed.
    const cut = u.ts - this.spanMs;
    while (this.gops.length > 1 && this.gops[1][0].ts <= cut) this.drop();
    while (this.gops.length > 1 && this.total > this.maxBytes) {
      this.drop();
      this.trimmedForBytes++;
    }
  }

  private drop(): void {
    const gop = this.gops.shift()!;
    for (const u of gop) this.total -= u.data.length;
  }

  /**
   * The units a recording starting at `fromTs` begins with: from the newest keyframe at or before
   * it (or the oldest held, when the pre-roll does not reach back that far).
   */
  from(fromTs: number): EncodedUnit<M>[] {
    let start = 0;
    for (let i = 0; i < this.gops.length; i++) if (this.gops[i][0].ts <= fromTs) start = i;
    return this.gops.slice(start).flat();
  }

  clear(): void {
    this.gops = [];
    this.total = 0;
  }
}
