import type { Frame, Rect } from '../frame.js';
import { findActiveArea, spanAt, type ActiveArea, type ActiveAreaShape } from '../roi/active-area.js';
import { findBurnedInText } from '../roi/privacy.js';

/**
 * Commissioning a room: from frames of one video processor, the active area and the burned-in
 * text blocks that stay in place, as a proposal for the site config's `roi` section. Text over
 * the picture becomes privacy masks; text on the black border is removed by `blackOutside`.
 */

export interface CommissionOptions {
  /** Least share of the frames a text block must appear on to be kept; default 0.5. */
  minPresence?: number;
  /** Most share of the active area the masks may cover together; default 0.15. */
  maxMaskShare?: number;
  /** Pixels added around each proposed mask; default 4. */
  pad?: number;
  /**
   * Least confidence of a text block (findBurnedInText); default 0.3, the finder's floor: a
   * single short line scores low on one frame, and staying in place across frames is what
   * tells text from glints here.
   */
  minConfidence?: number;
}

/** A text block that stays in place across frames. */
export interface StableText {
  rect: Rect;
  /** Frames it was found on, of the frames considered. */
  frames: number;
  /** Over the picture (needs a privacy mask) or on the border (blackOutside removes it). */
  inPicture: boolean;
}

export interface RoiProposal {
  /** Frames used: those of the reference size (± 10 %); others are left out. */
  framesUsed: number;
  framesGiven: number;
  width: number;
  height: number;
  /** Most frequent shape and the median active-area box, frame pixels. */
  shape: ActiveAreaShape;
  activeArea: Rect;
  /** Frames whose active area agreed with the median (every edge within 2 % of the frame). */
  areaAgreement: number;
  text: StableText[];
  /** The proposed `roi` section. */
  roi: { enabled: true; blackOutside: true; privacyMasks: Rect[] };
  /** Share of the active area the masks cover, 0–1. */
  maskShare: number;
  /** Set when the masks would cover more than maxMaskShare: why the proposal is refused. */
  refused: string | null;
}

const overlap = (a: Rect, b: Rect) =>
  Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x)) * Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
const union = (a: Rect, b: Rect): Rect => {
  const x = Math.min(a.x, b.x),
    y = Math.min(a.y, b.y);
  return { x, y, width: Math.max(a.x + a.width, b.x + b.width) - x, height: Math.max(a.y + a.height, b.y + b.height) - y };
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** Whether r reaches into the active area's outline on some row. */
function overlapsOutline(a: ActiveArea, r: Rect): boolean {
  for (let y = r.y; y < r.y + r.height; y++) {
    const span = spanAt(a, y);
    if (span && span[0] < r.x + r.width && span[1] >= r.x) return true;
  }
  return false;
}

/** Proposes the roi section from frames of one processor (see CommissionOptions for defaults). */
export function proposeRoi(all: Frame[], o: CommissionOptions = {}): RoiProposal {
  // The reference size is the most common one; crops a little off it (still sets) count too.
  const sizes = new Map<string, number>();
  for (const f of all) sizes.set(`${f.width}x${f.height}`, (sizes.get(`${f.width}x${f.height}`) ?? 0) + 1);
  const [W, H] = [...sizes.entries()]
    .sort((a, b) => b[1] - a[1])[0][0]
    .split('x')
    .map(Number);
  const frames = all.filter((f) => Math.abs(f.width - W) <= 0.1 * W && Math.abs(f.height - H) <= 0.1 * H);

  const areas: ActiveArea[] = frames.map((f) => findActiveArea(f));
  const found = areas.filter((a) => a.shape !== 'none');
  const box: Rect = found.length
    ? {
        x: median(found.map((a) => a.rect.x)),
        y: median(found.map((a) => a.rect.y)),
        width: median(found.map((a) => a.rect.width)),
        height: median(found.map((a) => a.rect.height)),
      }
    : { x: 0, y: 0, width: 0, height: 0 };
  const shapes = new Map<ActiveAreaShape, number>();
  for (const a of found) shapes.set(a.shape, (shapes.get(a.shape) ?? 0) + 1);
  const shape = [...shapes.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'none';
  const tol = 0.02 * Math.max(W, H);
  const agree = found.filter(
    (a) =>
      Math.abs(a.rect.x - box.x) <= tol &&
      Math.abs(a.rect.y - box.y) <= tol &&
      Math.abs(a.rect.x + a.rect.width - box.x - box.width) <= tol &&
      Math.abs(a.rect.y + a.rect.height - box.y - box.height) <= tol,
  ).length;

  // Text blocks, clustered across frames: a block joins a cluster when they overlap by half the smaller.
  const clusters: { rect: Rect; frames: Set<number>; lineH: number }[] = [];
  frames.forEach((f, i) => {
    for (const b of findBurnedInText(f)) {
      if (b.confidence < (o.minConfidence ?? 0.3)) continue;
      const c = clusters.find((k) => overlap(k.rect, b.rect) >= 0.5 * Math.min(k.rect.width * k.rect.height, b.rect.width * b.rect.height));
      const lineH = b.rect.height / Math.max(1, b.lines);
      if (c) {
        c.rect = union(c.rect, b.rect);
        c.frames.add(i);
        c.lineH = Math.min(c.lineH, lineH);
      } else clusters.push({ rect: b.rect, frames: new Set([i]), lineH });
    }
  });
  const need = Math.max(2, Math.ceil((o.minPresence ?? 0.5) * frames.length));
  const pad = o.pad ?? 4;
  const stable = clusters.filter((c) => c.frames.size >= Math.min(need, frames.length)).map((c) => ({ rect: c.rect, frames: c.frames.size, lineH: c.lineH }));
  // Pieces of one line (the finder loses glyphs where the text crosses bright picture) are joined:
  // same band, at most two line heights apart.
  for (let merged = true; merged;) {
    merged = false;
    for (let i = 0; i < stable.length && !merged; i++) {
      for (let j = i + 1; j < stable.length && !merged; j++) {
        const a = stable[i].rect,
          b = stable[j].rect;
        const h = Math.min(a.height, b.height);
        const vOverlap = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
        const gap = Math.max(a.x, b.x) - Math.min(a.x + a.width, b.x + b.width);
        if (vOverlap >= 0.5 * h && gap <= 2 * h) {
          stable[i] = { rect: union(a, b), frames: Math.max(stable[i].frames, stable[j].frames), lineH: Math.min(stable[i].lineH, stable[j].lineH) };
          stable.splice(j, 1);
          merged = true;
        }
      }
    }
  }
  // Over the picture is a matter of geometry: any block that reaches into the active area needs a
  // mask, whatever its background (a line starting on the border and running into the picture).
  const inside = (r: Rect) => areas.some((a) => a.shape !== 'none' && overlapsOutline(a, r));
  const text: StableText[] = stable.map((c) => ({ rect: c.rect, frames: c.frames, inPicture: inside(c.rect) }));
  const privacyMasks = stable
    .filter((c) => inside(c.rect))
    .map((t) => {
      // Three characters more either side: a line running over bright picture fades from the
      // finder's view before it ends (short tokens such as "x1.0" are not found on their own).
      const px = pad + Math.round(Math.min(3 * t.lineH, 48));
      const x = Math.max(0, t.rect.x - px),
        y = Math.max(0, t.rect.y - pad);
      return { x, y, width: Math.min(W, t.rect.x + t.rect.width + px) - x, height: Math.min(H, t.rect.y + t.rect.height + pad) - y };
    });
  // Share of the active area under masks: count covered pixels of the box once, overlaps included.
  let covered = 0;
  for (let y = box.y; y < box.y + box.height; y++) {
    for (let x = box.x; x < box.x + box.width; x++) if (privacyMasks.some((m) => x >= m.x && y >= m.y && x < m.x + m.width && y < m.y + m.height)) covered++;
  }
  const maskShare = box.width * box.height ? covered / (box.width * box.height) : 0;
  const max = o.maxMaskShare ?? 0.15;
  const refused =
    maskShare > max
      ? `the ${privacyMasks.length} masks would cover ${(maskShare * 100).toFixed(1)} % of the active area, more than ${(max * 100).toFixed(0)} %: that much hidden picture could hide a lesion — check that the frames show one processor and its usual display, or raise --max-mask-share`
      : null;
  return {
    framesUsed: frames.length,
    framesGiven: all.length,
    width: W,
    height: H,
    shape,
    activeArea: box,
    areaAgreement: agree,
    text,
    roi: { enabled: true, blackOutside: true, privacyMasks },
    maskShare: Math.round(maskShare * 10000) / 10000,
    refused,
  };
}
