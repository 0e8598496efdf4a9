import t from 'tap';
import { loadStill } from '../runtime/calibration/stills.js';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Frame, Rect } from '../runtime/frame.js';
import { findActiveArea } from '../runtime/roi/active-area.js';
import { applyPrivacyMask, blackOutsideArea, findBurnedInText, type TextBox } from '../runtime/roi/privacy.js';
import { drawText, makeFrame } from './helpers/synthetic-frames.js';
import { seededRandom } from '../runtime/util/random.js';

// The real frames stay in the shared data folder; the project never copies them.
const DATA = fileURLToPath(new URL('../../shared/data/', import.meta.url));

// ---------- synthetic frames (same recipe as test/roi.test.ts) ----------

const octagon =
  (bx: number, by: number, w: number, h: number, cut: number) =>
  (x: number, y: number): boolean => {
    if (x < bx || y < by || x >= bx + w || y >= by + h) return false;
    return Math.min(x - bx, bx + w - 1 - x) + Math.min(y - by, by + h - 1 - y) >= cut;
  };

/** Paints n near-white discs (glints) of radius 1–6 px inside the picture. */
function glints(f: Frame, inside: (x: number, y: number) => boolean, n: number, seed: number): void {
  const rand = seededRandom(seed);
  for (let k = 0; k < n; k++) {
    const cx = rand() * f.width,
      cy = rand() * f.height,
      r = 1 + rand() * 5;
    for (let y = Math.floor(cy - r); y <= cy + r; y++)
      for (let x = Math.floor(cx - r); x <= cx + r; x++) {
        if (x < 0 || y < 0 || x >= f.width || y >= f.height || !inside(x, y) || (x - cx) ** 2 + (y - cy) ** 2 > r * r) continue;
        const i = (y * f.width + x) * 4;
        f.data[i] = 252;
        f.data[i + 1] = 250;
        f.data[i + 2] = 248;
      }
  }
}

function union(rs: Rect[]): Rect {
  const x0 = Math.min(...rs.map((r) => r.x)),
    y0 = Math.min(...rs.map((r) => r.y));
  const x1 = Math.max(...rs.map((r) => r.x + r.width)),
    y1 = Math.max(...rs.map((r) => r.y + r.height));
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

function overlap(a: Rect, b: Rect): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

/** The found box that covers most of r, and the share of r it covers. */
function bestCover(boxes: TextBox[], r: Rect): { box: TextBox | undefined; cover: number } {
  let box: TextBox | undefined,
    cover = 0;
  for (const b of boxes) {
    const c = overlap(b.rect, r) / (r.width * r.height);
    if (c > cover) {
      cover = c;
      box = b;
    }
  }
  return { box, cover };
}

interface Planted {
  frame: Frame;
  inside: (x: number, y: number) => boolean;
  border: Rect;
  over: Rect;
}

/** An octagon picture with a 4-line OSD block in the left border and a 2-line block over the picture, plus glints. */
function planted(w: number, h: number, s: number): Planted {
  const inside = octagon(Math.round(w * 0.22), 10, Math.round(w * 0.7), h - 20, Math.round(h * 0.2));
  const frame = makeFrame(w, h, inside);
  glints(frame, inside, 150, 9);
  const border = union(['15/03/2012', '12:34:56', 'CVP:1', '0:00'].map((l, k) => drawText(frame, l, 12, Math.round(h * 0.3) + k * 11 * s, s)));
  const over = union(['CVP:5', '00:05:02'].map((l, k) => drawText(frame, l, Math.round(w * 0.55), Math.round(h * 0.6) + k * 11 * s, s)));
  return { frame, inside, border, over };
}

t.test('findBurnedInText: planted text in the border and over the picture, not glints', async (t) => {
  for (const [w, h, s] of [
    [1280, 720, 2],
    [1920, 1080, 3],
  ] as const) {
    const p = planted(w, h, s);
    const boxes = findBurnedInText(p.frame);
    const b = bestCover(boxes, p.border);
    t.ok(b.cover >= 0.95, `${w}×${h}: the border block is covered (${(b.cover * 100).toFixed(0)} %)`);
    t.ok((b.box?.confidence ?? 0) >= 0.5, `${w}×${h}: border block confidence ${b.box?.confidence}`);
    t.equal(b.box?.onBorder, true, `${w}×${h}: border block sits on the border`);
    const o = bestCover(boxes, p.over);
    t.ok(o.cover >= 0.95, `${w}×${h}: the block over the picture is covered (${(o.cover * 100).toFixed(0)} %)`);
    t.ok((o.box?.confidence ?? 0) >= 0.5, `${w}×${h}: over-picture block confidence ${o.box?.confidence}`);
    t.equal(o.box?.onBorder, false, `${w}×${h}: over-picture block is not on the border`);
    // 150 glints were painted; none may come out as a confident text block.
    const stray = boxes.filter((x) => x.confidence >= 0.5 && overlap(x.rect, p.border) === 0 && overlap(x.rect, p.over) === 0);
    t.same(
      stray.map((x) => x.rect),
      [],
      `${w}×${h}: no confident block elsewhere`,
    );
    // Restricting the search to the ROI finds only the text inside it.
    const roi = findActiveArea(p.frame).rect;
    const inRoi = findBurnedInText(p.frame, roi).filter((x) => x.confidence >= 0.5);
    t.ok(inRoi.length >= 1 && inRoi.every((x) => overlap(x.rect, p.border) === 0), `${w}×${h}: search limited to the ROI`);
  }
});

t.test('applyPrivacyMask: nothing inside a region survives', async (t) => {
  const p = planted(1280, 720, 2);
  const before = new Uint8Array(p.frame.data);
  const regions = findBurnedInText(p.frame)
    .filter((b) => b.confidence >= 0.5)
    .map((b) => b.rect);
  t.ok(regions.length >= 2, 'both planted blocks give a region');
  const { width: W, height: H, data } = p.frame;
  const n = applyPrivacyMask(data, W, H, regions);
  t.ok(n > 0, `${n} pixels written`);
  let nonZero = 0,
    changedOutside = 0;
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const i = (y * W + x) * 4;
      const inRegion = regions.some((r) => x >= r.x && y >= r.y && x < r.x + r.width && y < r.y + r.height);
      if (inRegion) {
        if (data[i] || data[i + 1] || data[i + 2]) nonZero++;
      } else if (data[i] !== before[i] || data[i + 1] !== before[i + 1] || data[i + 2] !== before[i + 2]) changedOutside++;
    }
  t.equal(nonZero, 0, 'no non-zero colour inside a mask region');
  t.equal(changedOutside, 0, 'nothing outside the regions changed');
  t.ok(
    p.frame.data.every((v, i) => i % 4 !== 3 || v === 255),
    'alpha stays opaque',
  );
  t.same(
    findBurnedInText(p.frame).filter((b) => b.confidence >= 0.5),
    [],
    'no text is found after masking',
  );
  // Fractional regions (mapped from model space) round outwards.
  const small = new Uint8Array(16 * 16 * 4).fill(200);
  t.equal(applyPrivacyMask(small, 16, 16, [{ x: 10.5, y: 10.5, width: 2, height: 2 }]), 9, 'a 2×2 region at .5 covers 3×3 pixels');
  t.equal(applyPrivacyMask(small, 16, 16, [{ x: -5, y: 14, width: 8, height: 9 }]), 6, 'regions clip to the buffer');
});

t.test('blackOutsideArea: OSD text in an octagon corner is removed, the picture kept', async (t) => {
  const inside = octagon(200, 20, 880, 680, 200);
  const f = makeFrame(1280, 720, inside);
  // Inside the octagon's bounding box but outside the picture: the top-left corner triangle.
  const corner = drawText(f, '1234', 210, 40, 2);
  const area = findActiveArea(f);
  t.ok(corner.x >= area.rect.x, 'the corner text lies inside the ROI rectangle');
  const before = new Uint8Array(f.data);
  blackOutsideArea(f.data, f.width, f.height, area);
  const step = area.outline.step;
  let strayLit = 0,
    lostPicture = 0,
    picture = 0;
  for (let y = 0; y < f.height; y++)
    for (let x = 0; x < f.width; x++) {
      const i = (y * f.width + x) * 4;
      const lit = f.data[i] || f.data[i + 1] || f.data[i + 2];
      // Far (more than two grid steps) from the octagon's edge on either side.
      const deepIn = inside(x - 2 * step, y) && inside(x + 2 * step, y) && inside(x, y - 2 * step) && inside(x, y + 2 * step);
      const farOut = !inside(x, y) && !inside(x - 2 * step, y) && !inside(x + 2 * step, y) && !inside(x, y - 2 * step) && !inside(x, y + 2 * step);
      if (farOut && lit) strayLit++;
      if (deepIn) {
        picture++;
        if (f.data[i] !== before[i]) lostPicture++;
      }
    }
  t.equal(strayLit, 0, 'nothing lit is left outside the picture');
  t.equal(lostPicture, 0, `the picture is untouched (${picture} pixels checked)`);
  const left = findBurnedInText(f).filter((b) => overlap(b.rect, corner) > 0);
  t.same(left, [], 'the corner text is gone');
});

t.test('real frames: Kvasir OSD text found, none invented on CVC', async (t) => {
  let found = 0;
  const names = readdirSync(`${DATA}kvasir-seg/images`).sort();
  const missed: string[] = [];
  for (const name of names) {
    const f = await loadStill(`${DATA}kvasir-seg/images/${name}`);
    const left = findBurnedInText(f).filter((b) => b.confidence >= 0.5 && b.rect.x + b.rect.width / 2 < 0.25 * f.width);
    if (left.length > 0) found++;
    else missed.push(name);
    // Masking the found blocks leaves no confident block on the left.
    applyPrivacyMask(
      f.data,
      f.width,
      f.height,
      left.map((b) => b.rect),
    );
    const again = findBurnedInText(f).filter((b) => b.confidence >= 0.5 && b.rect.x + b.rect.width / 2 < 0.25 * f.width);
    t.same(
      again.map((b) => b.rect),
      [],
      `${name}: no text block left after masking`,
    );
  }
  // 28 of the 30 frames carry OSD text on the left; the misses are text over a blown-out white
  // area (2) and a crop that kept only fragments of the text (1).
  t.comment(`left text block found on ${found} of ${names.length} Kvasir frames; missed: ${missed.join(', ')}`);
  t.ok(found >= 22, `left text block found on ${found} of ${names.length} Kvasir frames`);

  const cvc = readdirSync(`${DATA}cvc-clinicdb/images`).sort();
  t.equal(cvc.length, 30, 'all 30 CVC frames are checked');
  for (const name of cvc) {
    const f = await loadStill(`${DATA}cvc-clinicdb/images/${name}`);
    const boxes = findBurnedInText(f).filter((b) => b.confidence >= 0.5);
    t.same(
      boxes.map((b) => b.rect),
      [],
      `cvc-clinicdb/${name}: no text (its frames carry none)`,
    );
  }
});
