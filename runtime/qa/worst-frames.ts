import type { Frame, Rect } from '../frame.js';
import { encodeJpeg } from '../util/image-codec.js';
import type { FrameRecord } from './metrics.js';

/** A frame the report shows as a thumbnail, with prediction and truth drawn over it. */
export interface WorstFrame {
  index: number;
  name?: string;
  kind: 'lesion' | 'normal';
  /** Higher is worse: lesion frames 2·(1 − IoU) + (1 − score), normal frames score + false-positive area. */
  badness: number;
  record: FrameRecord;
  /** JPEG thumbnail: truth contour green, predicted lesion tinted red, the processor's box amber. */
  jpeg: Buffer;
}

const TRUTH = [40, 255, 90] as const;
const PRED = [255, 40, 40] as const;
const BOX = [255, 200, 0] as const;

/**
 * Keeps the worst lesion frames and the worst normal frames of a replay (bounded lists; ties
 * broken by frame index, so the choice is deterministic) and their thumbnails.
 */
export class WorstFrames {
  private readonly kept: Record<WorstFrame['kind'], WorstFrame[]> = { lesion: [], normal: [] };

  constructor(
    private readonly limits: Record<WorstFrame['kind'], number> = { lesion: 6, normal: 3 },
    private readonly thumbWidth = 400,
    /** Blacks the privacy masks out in a thumbnail, drawings included (Conditioner.blackMasked). */
    private readonly hideMasked: (rgba: Uint8Array, width: number, height: number) => void = () => {},
  ) {}

  /** Considers one frame; renders its thumbnail only if it makes a list. */
  async offer(r: FrameRecord, frame: Frame, pred: Uint8Array | null, truth: Uint8Array | null, box: Rect | null): Promise<void> {
    if (r.score === null) return;
    let kind: WorstFrame['kind'];
    let badness: number;
    if (r.iou !== null) {
      kind = 'lesion';
      badness = 2 * (1 - r.iou) + (1 - r.score);
    } else if (r.falsePositiveArea !== null) {
      kind = 'normal';
      badness = r.score + r.falsePositiveArea;
    } else return;
    const list = this.kept[kind];
    const limit = this.limits[kind];
    if (limit === 0) return;
    if (list.length >= limit && !worse({ badness, index: r.index }, list[list.length - 1])) return;
    const rgba = composite(frame, pred, truth, box);
    // Masked last: a contour, tint or box drawn over a masked region must not show there either.
    this.hideMasked(rgba, frame.width, frame.height);
    const jpeg = await encodeJpeg({ width: frame.width, height: frame.height, data: rgba }, 80, this.thumbWidth);
    list.push({ index: r.index, ...(r.name ? { name: r.name } : {}), kind, badness: Math.round(badness * 1e6) / 1e6, record: r, jpeg });
    list.sort((a, b) => (worse(a, b) ? -1 : 1));
    if (list.length > limit) list.pop();
  }

  /** Lesion frames first, then normal frames, worst first. */
  list(): WorstFrame[] {
    return [...this.kept.lesion, ...this.kept.normal];
  }
}

function worse(a: { badness: number; index: number }, b: { badness: number; index: number }): boolean {
  return a.badness > b.badness || (a.badness === b.badness && a.index < b.index);
}

/** The frame with the predicted lesion tinted, the truth outlined and the box drawn. */
function composite(frame: Frame, pred: Uint8Array | null, truth: Uint8Array | null, box: Rect | null): Uint8Array {
  const { width: w, height: h } = frame;
  const out = Uint8Array.from(frame.data);
  if (pred) {
    for (let p = 0; p < w * h; p++) {
      if (!pred[p]) continue;
      for (let c = 0; c < 3; c++) out[p * 4 + c] = (out[p * 4 + c] + PRED[c]) >> 1;
    }
  }
  const t = Math.max(1, Math.round(w / 320));
  if (truth) {
    const at = (x: number, y: number) => x >= 0 && y >= 0 && x < w && y < h && truth[y * w + x] === 1;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (!truth[y * w + x]) continue;
        let edge = false;
        for (let d = 1; d <= t && !edge; d++) edge = !at(x - d, y) || !at(x + d, y) || !at(x, y - d) || !at(x, y + d);
        if (edge) out.set(TRUTH, (y * w + x) * 4);
      }
    }
  }
  if (box) {
    const x0 = Math.max(0, box.x);
    const y0 = Math.max(0, box.y);
    const x1 = Math.min(w - 1, box.x + box.width - 1);
    const y1 = Math.min(h - 1, box.y + box.height - 1);
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) if (x - x0 < t || x1 - x < t || y - y0 < t || y1 - y < t) out.set(BOX, (y * w + x) * 4);
    }
  }
  return out;
}
