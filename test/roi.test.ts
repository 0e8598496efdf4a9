import t from 'tap';
import { loadStill } from '../runtime/calibration/stills.js';
import sharp from 'sharp';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Frame, Rect } from '../runtime/frame.js';
import { findActiveArea, spanAt } from '../runtime/roi/active-area.js';
import { RoiTracker } from '../runtime/roi/roi-tracker.js';
import { findBurnedInText } from '../runtime/roi/privacy.js';
import { drawText, makeFrame } from './helpers/synthetic-frames.js';
import { seededRandom } from '../runtime/util/random.js';

// The real frames stay in the shared data folder; the project never copies them.
const DATA = fileURLToPath(new URL('../../shared/data/', import.meta.url));

/** Lesion-mask pixels (grey ≥ 128: Kvasir masks are JPEG, CVC masks carry faint grey values). */
async function loadMask(file: string): Promise<{ width: number; height: number; on: (x: number, y: number) => boolean }> {
  const { data, info } = await sharp(file).greyscale().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, on: (x, y) => data[(y * info.width + x) * info.channels] >= 128 };
}

function contains(r: Rect, x: number, y: number): boolean {
  return x >= r.x && y >= r.y && x < r.x + r.width && y < r.y + r.height;
}

function fillRect(f: Frame, r: Rect, rgb: [number, number, number]): void {
  for (let y = r.y; y < r.y + r.height; y++)
    for (let x = r.x; x < r.x + r.width; x++) {
      const i = (y * f.width + x) * 4;
      f.data[i] = rgb[0];
      f.data[i + 1] = rgb[1];
      f.data[i + 2] = rgb[2];
    }
}

/** Exact bounding box of the lit picture (any channel > 16) — the ground truth of a synthetic frame. */
function litBox(f: Frame, ignore: Rect[] = []): Rect {
  let x0 = f.width,
    y0 = f.height,
    x1 = -1,
    y1 = -1;
  for (let y = 0; y < f.height; y++)
    for (let x = 0; x < f.width; x++) {
      if (ignore.some((r) => contains(r, x, y))) continue;
      const i = (y * f.width + x) * 4;
      if (Math.max(f.data[i], f.data[i + 1], f.data[i + 2]) > 16) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  return { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

function edgeError(a: Rect, b: Rect): number {
  return Math.max(Math.abs(a.x - b.x), Math.abs(a.y - b.y), Math.abs(a.x + a.width - b.x - b.width), Math.abs(a.y + a.height - b.y - b.height));
}

const circle =
  (cx: number, cy: number, r: number) =>
  (x: number, y: number): boolean =>
    (x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= r * r;
const octagon =
  (bx: number, by: number, w: number, h: number, cut: number) =>
  (x: number, y: number): boolean => {
    if (x < bx || y < by || x >= bx + w || y >= by + h) return false;
    return Math.min(x - bx, bx + w - 1 - x) + Math.min(y - by, by + h - 1 - y) >= cut;
  };
const roundedRect =
  (bx: number, by: number, w: number, h: number, rad: number) =>
  (x: number, y: number): boolean => {
    if (x < bx || y < by || x >= bx + w || y >= by + h) return false;
    const dx = Math.max(0, Math.max(bx + rad - x - 0.5, x + 0.5 - (bx + w - rad)));
    const dy = Math.max(0, Math.max(by + rad - y - 0.5, y + 0.5 - (by + h - rad)));
    return dx * dx + dy * dy <= rad * rad;
  };

/** An OSD text block in the left border, like the processor's patient data. */
function plantLeftText(f: Frame, x: number, y: number, s: number): Rect[] {
  return ['15/03/2012', '12:34:56', 'CVP:1', '0:00'].map((line, k) => drawText(f, line, x, y + k * 11 * s, s));
}

t.test('synthetic frames: the ROI is the known active area, text in the border left out', async (t) => {
  const cases: { name: string; w: number; h: number; inside: (x: number, y: number) => boolean; shape: string; s: number; decorate?: (f: Frame) => Rect[] }[] =
    [
      { name: 'circle 1080p', w: 1920, h: 1080, inside: circle(1000, 540, 500), shape: 'circle', s: 3 },
      { name: 'circle cut by the frame, 1080p', w: 1920, h: 1080, inside: circle(1040, 540, 640), shape: 'circle', s: 3 },
      { name: 'octagon 1080p', w: 1920, h: 1080, inside: octagon(420, 30, 1300, 1020, 260), shape: 'octagon', s: 3 },
      { name: 'full-frame picture (no border)', w: 640, h: 480, inside: () => true, shape: 'rectangle', s: 2 },
      { name: 'rounded rectangle 720p', w: 1280, h: 720, inside: roundedRect(260, 40, 960, 640, 60), shape: 'rounded-rectangle', s: 2 },
      {
        // The hard case: a thumbnail box cut into the lower-left corner, a blue OSD bar, glints,
        // and dark mucosa running into the left edge of the picture.
        name: 'octagon 576p with thumbnail, blue bar, glints, dark edge',
        w: 720,
        h: 576,
        inside: octagon(170, 20, 530, 536, 110),
        shape: 'octagon',
        s: 2,
        decorate: (f) => {
          fillRect(f, { x: 170, y: 420, width: 110, height: 136 }, [0, 0, 0]);
          fillRect(f, { x: 300, y: 380, width: 250, height: 30 }, [30, 40, 160]);
          fillRect(f, { x: 170, y: 200, width: 60, height: 150 }, [26, 12, 10]);
          const rand = seededRandom(5);
          for (let k = 0; k < 60; k++) {
            const cx = 200 + rand() * 480,
              cy = 40 + rand() * 500,
              r = 1 + rand() * 5;
            for (let y = Math.floor(cy - r); y <= cy + r; y++)
              for (let x = Math.floor(cx - r); x <= cx + r; x++) {
                if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r && octagon(170, 20, 530, 536, 110)(x, y))
                  fillRect(f, { x, y, width: 1, height: 1 }, [250, 250, 250]);
              }
          }
          return [];
        },
      },
    ];
  for (const c of cases) {
    const f = makeFrame(c.w, c.h, c.inside);
    c.decorate?.(f);
    const truth = litBox(f);
    const text = plantLeftText(f, 12, 80, c.s);
    // A few glyphs in the top-right border as well.
    text.push(drawText(f, '56', c.w - 20 * c.s, 10, c.s));
    const outside = text.filter((r) => r.x + r.width <= truth.x || r.x >= truth.x + truth.width);
    if (c.shape !== 'rectangle') t.ok(outside.length >= 4, `${c.name}: planted text lies outside the picture`);

    const a = findActiveArea(f, { margin: 0 });
    t.ok(edgeError(a.rect, truth) <= 2, `${c.name}: ROI ${JSON.stringify(a.rect)} within 2 px of ${JSON.stringify(truth)}`);
    t.equal(a.shape, c.shape, `${c.name}: shape`);
    for (const r of outside.filter((r) => r.x < truth.x))
      t.ok(a.rect.x >= r.x + r.width, `${c.name}: ROI left edge right of the text block ending at x=${r.x + r.width}`);

    // The default margin adds 4 px per side, clamped to the frame.
    const m = findActiveArea(f).rect;
    t.equal(m.x, Math.max(0, a.rect.x - 4), `${c.name}: margin on the left`);
    t.equal(m.x + m.width, Math.min(c.w, a.rect.x + a.rect.width + 4), `${c.name}: margin on the right`);
  }
});

t.test('the outline follows the shape: spanAt on a circle', async (t) => {
  const cx = 640,
    cy = 360,
    r = 330;
  const f = makeFrame(1280, 720, circle(cx, cy, r));
  drawText(f, '15/03/2012', 10, 40, 2);
  const a = findActiveArea(f);
  let worst = 0;
  for (let y = cy - r + 20; y < cy + r - 20; y += 7) {
    const half = Math.sqrt(r * r - (y + 0.5 - cy) ** 2);
    const span = spanAt(a, y);
    t.ok(span, `row ${y} is inside`);
    if (!span) continue;
    worst = Math.max(worst, Math.abs(span[0] - (cx - half)), Math.abs(span[1] - (cx + half)));
  }
  // The outline is sampled on the detection grid (step 4 here), so it is good to about a step.
  t.ok(worst <= 2 * a.outline.step, `span ends within two grid steps of the true circle (worst ${worst.toFixed(1)} px)`);
  t.equal(spanAt(a, 0), null, 'row 0 lies above the circle');
});

t.test('no picture: a black frame', async (t) => {
  const f = makeFrame(640, 480, () => false);
  drawText(f, '12:34:56', 20, 20, 2);
  const a = findActiveArea(f);
  t.equal(a.shape, 'none');
  t.equal(a.coverage, 0);
  t.same(a.rect, { x: 0, y: 0, width: 0, height: 0 });
});

t.test('real frames: the ROI holds every lesion pixel', async (t) => {
  for (const set of ['kvasir-seg', 'cvc-clinicdb']) {
    const names = readdirSync(`${DATA}${set}/images`).sort();
    t.equal(names.length, 30, `${set}: 30 frames`);
    for (const name of names) {
      const f = await loadStill(`${DATA}${set}/images/${name}`);
      const mask = await loadMask(`${DATA}${set}/masks/${name}`);
      t.equal(mask.width, f.width, `${name}: mask matches the frame`);
      const a = findActiveArea(f);
      let outside = 0,
        lesion = 0;
      for (let y = 0; y < mask.height; y++)
        for (let x = 0; x < mask.width; x++) {
          if (!mask.on(x, y)) continue;
          lesion++;
          if (!contains(a.rect, x, y)) outside++;
        }
      t.ok(lesion > 0, `${set}/${name}: the mask has lesion pixels`);
      t.equal(outside, 0, `${set}/${name}: no lesion pixel outside ROI ${JSON.stringify(a.rect)}`);
      // Both sets use processors that cut the picture's corners.
      t.equal(a.shape, 'octagon', `${set}/${name}: octagon`);
    }
  }
});

t.test('real frames re-framed: Kvasir OSD text moved into a left border stays outside the ROI', async (t) => {
  // Every Kvasir frame is cropped so the picture reaches x = 0 and its OSD text lies over the
  // mucosa (no rectangle can drop it there; privacy regions do). Here each frame gets the 160-px
  // black border a full processor output has on its left, and its own text, found by
  // findBurnedInText, is copied into that border, as the processor draws it there.
  const P = 160;
  let planted = 0;
  for (const name of readdirSync(`${DATA}kvasir-seg/images`).sort()) {
    const f = await loadStill(`${DATA}kvasir-seg/images/${name}`);
    const mask = await loadMask(`${DATA}kvasir-seg/masks/${name}`);
    const W = f.width + P,
      H = f.height;
    const data = new Uint8Array(W * H * 4);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < P; x++) data[(y * W + x) * 4 + 3] = 255;
      data.set(f.data.subarray(y * f.width * 4, (y + 1) * f.width * 4), (y * W + P) * 4);
    }
    const blocks = findBurnedInText(f).filter((b) => b.confidence >= 0.5 && b.rect.x + b.rect.width / 2 < 0.25 * f.width && b.rect.width <= P - 16);
    let textRight = -1;
    for (const b of blocks) {
      for (let y = b.rect.y; y < b.rect.y + b.rect.height; y++)
        for (let x = b.rect.x; x < b.rect.x + b.rect.width; x++) {
          const i = (y * f.width + x) * 4;
          if ((77 * f.data[i] + 150 * f.data[i + 1] + 29 * f.data[i + 2]) >> 8 < 120) continue;
          const nx = 8 + x - b.rect.x,
            j = (y * W + nx) * 4;
          data[j] = f.data[i];
          data[j + 1] = f.data[i + 1];
          data[j + 2] = f.data[i + 2];
          textRight = Math.max(textRight, nx);
        }
    }
    if (textRight >= 0) planted++;
    const a = findActiveArea({ id: 0, ts: 0, width: W, height: H, data });
    if (textRight >= 0) t.ok(a.rect.x > textRight, `${name}: ROI left edge ${a.rect.x} right of the text ending at x=${textRight}`);
    t.ok(a.rect.x <= P, `${name}: ROI starts at the picture (x ≤ ${P})`);
    let outside = 0;
    for (let y = 0; y < mask.height; y++) for (let x = 0; x < mask.width; x++) if (mask.on(x, y) && !contains(a.rect, x + P, y)) outside++;
    t.equal(outside, 0, `${name}: no lesion pixel outside the ROI`);
  }
  // Kvasir frames with OSD text found: the test must have planted text in most frames to mean anything.
  t.ok(planted >= 20, `text planted in ${planted} of 30 frames`);
});

t.test('RoiTracker: changes the ROI only after a stable run', async (t) => {
  const at = (x: number, y = 10, w = 600, h = 500) => ({ rect: { x, y, width: w, height: h } });
  const tr = new RoiTracker<{ rect: Rect }>({ stableCount: 3, tolerance: 4, detectEvery: 30, confirmEvery: 5 });
  t.equal(tr.roi, null, 'no ROI before a detection');
  t.ok(tr.isDue(0), 'a detection is due at once');
  t.equal(tr.observe(null, 0), null, 'a miss adopts nothing');
  t.same(tr.observe(at(100), 1)?.rect, at(100).rect, 'the first area is adopted at once');
  t.same(tr.observe(at(103), 31)?.rect, at(100).rect, 'a 3-px wobble does not move the ROI');
  t.same(tr.observe(at(160), 61)?.rect, at(100).rect, 'a new area once: ROI kept');
  t.same(tr.observe(at(162), 66)?.rect, at(100).rect, 'twice: kept');
  t.same(tr.observe(null, 71)?.rect, at(100).rect, 'a miss breaks the run');
  t.same(tr.observe(at(161), 76)?.rect, at(100).rect, 'run restarted: kept');
  t.same(tr.observe(at(250), 81)?.rect, at(100).rect, 'a different area restarts the run');
  t.same(tr.observe(at(251), 86)?.rect, at(100).rect, 'twice');
  t.same(tr.observe(at(249), 91)?.rect, at(249).rect, 'three agreeing detections in a row replace the ROI');
  t.same(tr.observe({ rect: { x: 0, y: 0, width: 0, height: 0 } }, 121)?.rect, at(249).rect, 'an empty area counts as a miss');
  tr.reset();
  t.equal(tr.roi, null, 'reset forgets the ROI');
});

t.test('RoiTracker: detects every K frames, faster while confirming a change', async (t) => {
  const tr = new RoiTracker<{ rect: Rect }>({ detectEvery: 10, confirmEvery: 2, stableCount: 2 });
  let calls = 0;
  let x = 100;
  const detect = (): { rect: Rect } => {
    calls++;
    return { rect: { x, y: 0, width: 300, height: 300 } };
  };
  const frame = (id: number): Frame => ({ id, ts: 0, width: 1, height: 1, data: new Uint8Array(4) });
  for (let id = 0; id < 30; id++) tr.track(frame(id), detect);
  t.equal(calls, 3, 'frames 0, 10, 20');
  x = 200;
  const seen: number[] = [];
  for (let id = 30; id < 40; id++) {
    const before = calls;
    tr.track(frame(id), detect);
    if (calls > before) seen.push(id);
  }
  t.same(seen.slice(0, 2), [30, 32], 'a changed area is re-checked after confirmEvery frames');
  t.equal(tr.roi?.x, 200, 'and adopted after stableCount agreeing detections');
  t.ok(tr.isDue(5), 'a frame id going backwards (new capture session) makes a detection due');
});

t.test('RoiTracker: default detector is findActiveArea', async (t) => {
  const f = makeFrame(640, 480, circle(320, 240, 200));
  const tr = new RoiTracker();
  const area = tr.track(f);
  t.equal(area?.shape, 'circle');
  t.ok(tr.roi && edgeError(tr.roi, { x: 116, y: 36, width: 408, height: 408 }) <= 3, `ROI ${JSON.stringify(tr.roi)}`);
});
