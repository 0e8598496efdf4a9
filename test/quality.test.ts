import t from 'tap';
import sharp from 'sharp';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadStill } from '../runtime/calibration/stills.js';
import { seededRandom } from '../runtime/util/random.js';
import type { Frame, Rect } from '../runtime/frame.js';
import { findActiveArea, type ActiveArea } from '../runtime/roi/active-area.js';
import { DEFAULT_QUALITY_THRESHOLDS, evaluateQuality } from '../runtime/quality/quality-gate.js';

// The real frames stay in the shared data folder; the project never copies them.
const DATA = fileURLToPath(new URL('../../shared/data/', import.meta.url));

function copy(f: Frame): Frame {
  return { ...f, data: new Uint8Array(f.data) };
}

/** Colour × k + add, clipped: k < 1 darkens, a large k with an offset blows the picture out. */
function scaled(f: Frame, k: number, add = 0): Frame {
  const o = copy(f);
  for (let i = 0; i < o.data.length; i += 4) {
    for (let c = 0; c < 3; c++) o.data[i + c] = Math.max(0, Math.min(255, Math.round(o.data[i + c] * k + add)));
  }
  return o;
}

/** Box blur of radius r, three passes (close to a Gaussian of σ ≈ r), edges clamped. */
function blurred(f: Frame, r: number): Frame {
  const o = copy(f);
  const { width: W, height: H } = o;
  const src = o.data,
    tmp = new Uint8Array(src.length);
  const n = 2 * r + 1;
  for (let pass = 0; pass < 3; pass++) {
    for (let y = 0; y < H; y++)
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (let x = -r; x <= r; x++) acc += src[(y * W + Math.min(W - 1, Math.max(0, x))) * 4 + c];
        for (let x = 0; x < W; x++) {
          tmp[(y * W + x) * 4 + c] = Math.round(acc / n);
          acc += src[(y * W + Math.min(W - 1, x + r + 1)) * 4 + c] - src[(y * W + Math.max(0, x - r)) * 4 + c];
        }
      }
    for (let x = 0; x < W; x++)
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (let y = -r; y <= r; y++) acc += tmp[(Math.min(H - 1, Math.max(0, y)) * W + x) * 4 + c];
        for (let y = 0; y < H; y++) {
          src[(y * W + x) * 4 + c] = Math.round(acc / n);
          acc += tmp[(Math.min(H - 1, y + r + 1) * W + x) * 4 + c] - tmp[(Math.max(0, y - r) * W + x) * 4 + c];
        }
      }
  }
  return o;
}

/**
 * Paints froth over rect: bubbles drawn as near-white rims a sixth of their radius thick,
 * `cover` × the rect's area of them in all (overlaps included), each 1/60 of the rect wide on average.
 */
function bubbled(f: Frame, rect: Rect, cover = 1.5, seed = 7): Frame {
  const o = copy(f);
  const rand = seededRandom(seed);
  const r = rect.width / 60;
  const n = Math.round((cover * rect.width * rect.height) / (Math.PI * r * r));
  for (let k = 0; k < n; k++) {
    const cx = rect.x + rand() * rect.width,
      cy = rect.y + rand() * rect.height,
      rr = r * (0.6 + 0.8 * rand());
    for (let y = Math.max(0, Math.floor(cy - rr)); y <= Math.min(o.height - 1, cy + rr); y++) {
      for (let x = Math.max(0, Math.floor(cx - rr)); x <= Math.min(o.width - 1, cx + rr); x++) {
        const d2 = (x - cx) ** 2 + (y - cy) ** 2;
        if (d2 > rr * rr || d2 < ((rr * 5) / 6) ** 2) continue;
        const i = (y * o.width + x) * 4;
        o.data[i] = 250;
        o.data[i + 1] = 250;
        o.data[i + 2] = 250;
      }
    }
  }
  return o;
}

/** Blacks out (as a dark lumen or shadow) every pixel of the ROI for which keep(x, y) is false. */
function shadowed(f: Frame, keep: (x: number, y: number) => boolean): Frame {
  const o = copy(f);
  for (let y = 0; y < o.height; y++)
    for (let x = 0; x < o.width; x++) {
      if (keep(x, y)) continue;
      const i = (y * o.width + x) * 4;
      o.data[i] = 8;
      o.data[i + 1] = 6;
      o.data[i + 2] = 6;
    }
  return o;
}

async function realFrames(): Promise<{ name: string; frame: Frame; area: ActiveArea }[]> {
  const out: { name: string; frame: Frame; area: ActiveArea }[] = [];
  for (const set of ['kvasir-seg', 'cvc-clinicdb']) {
    for (const name of readdirSync(`${DATA}${set}/images`).sort()) {
      const frame = await loadStill(`${DATA}${set}/images/${name}`);
      out.push({ name: `${set}/${name}`, frame, area: findActiveArea(frame) });
    }
  }
  return out;
}

t.test('DEFAULT_QUALITY_THRESHOLDS is frozen and complete', async (t) => {
  t.ok(Object.isFrozen(DEFAULT_QUALITY_THRESHOLDS));
  t.same(Object.keys(DEFAULT_QUALITY_THRESHOLDS).sort(), ['minMeanLuma', 'minSharpness', 'minUsableFraction']);
});

t.test('real frames pass; dark, blown-out, blurred and bubble-covered copies are gated', async (t) => {
  const frames = await realFrames();
  t.equal(frames.length, 60);
  const flagged: string[] = [];
  for (const { name, frame, area } of frames) {
    const q = evaluateQuality(frame, area);
    // Every frame in both sets is a curated, gradable frame (looked at one by one).
    t.same(q.reasons, [], `${name} passes (${JSON.stringify(q.scores, (_, v: unknown) => (typeof v === 'number' ? Number(v.toFixed(3)) : v))})`);
    if (q.gated) flagged.push(`${name}: ${q.reasons.join(',')}`);

    const r = area.rect;
    const variants = [
      // 15 % of the light (mean luma 10–25): the generator's dark episodes are at 13 %.
      { kind: 'dark', frame: scaled(frame, 0.15) },
      // Light × 4 + 80: blown out to white. (× 3 + 60 leaves the 5 dimmest of these frames properly
      // exposed over half their picture, polyp and mucosa plainly visible: gradable.)
      { kind: 'overexposed', frame: scaled(frame, 4, 80) },
      // σ ≈ 1.2 % of the picture width: a smeared, motion-blurred look.
      { kind: 'blurred', frame: blurred(frame, Math.max(2, Math.round(r.width / 80))) },
      // Froth over the whole view.
      { kind: 'bubbles', frame: bubbled(frame, r) },
    ] as const;
    for (const v of variants) {
      const qv = evaluateQuality(v.frame, area);
      t.ok(qv.gated && qv.reasons.includes(v.kind), `${name} made ${v.kind}: gated for ${qv.reasons.join(',') || 'nothing'}`);
    }
  }
  t.comment(`real frames gated: ${flagged.length} of ${frames.length}${flagged.length ? ': ' + flagged.join('; ') : ''}`);
});

t.test('a frame is gated when too little of it is usable, not when part of it is hidden', async (t) => {
  for (const name of ['kvasir-seg/images/cju2r91dg2k090801bh0xzbxk.jpg', 'cvc-clinicdb/images/13.png']) {
    const f = await loadStill(`${DATA}${name}`);
    const area = findActiveArea(f);
    const r = area.rect;
    // The left half in shadow (a dark lumen beside the lit wall): half the picture is usable.
    const half = evaluateQuality(
      shadowed(f, (x) => x >= r.x + r.width / 2),
      area,
    );
    t.same(half.reasons, [], `${name} half in shadow passes: ${half.explanation.join('; ')}`);
    t.ok(
      half.scores.darkFraction > 0.35 && half.scores.usableFraction >= 0.4,
      `dark ${half.scores.darkFraction.toFixed(2)}, usable ${half.scores.usableFraction.toFixed(2)}`,
    );
    // Froth over the left half only: the right half is usable.
    const frothHalf = evaluateQuality(bubbled(f, { ...r, width: Math.round(r.width / 2) }), area);
    t.same(frothHalf.reasons, [], `${name} froth over half passes: ${frothHalf.explanation.join('; ')}`);
    // Only the right fifth lit: too little left to grade, and the explanation says why.
    const fifth = evaluateQuality(
      shadowed(f, (x) => x >= r.x + 0.8 * r.width),
      area,
    );
    t.same(fifth.reasons, ['dark'], `${name} four fifths in shadow is gated dark`);
    t.match(fifth.explanation[0], /^usable \d+ % of \d+ regions < 40 %: dark \d+ %/);
    t.ok(
      fifth.regions.regions.some((g) => g.state === 'usable') && fifth.regions.regions.some((g) => g.state === 'dark'),
      'per-region detail names usable and dark regions',
    );
  }
});

t.test('the verdict does not depend on the frame size', async (t) => {
  for (const name of ['kvasir-seg/images/cju2tjrog4jy30878pawyazqc.jpg', 'cvc-clinicdb/images/13.png']) {
    const f = await loadStill(`${DATA}${name}`);
    for (const width of [300, 960, 1920]) {
      const { data, info } = await sharp(`${DATA}${name}`).resize({ width }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
      const g: Frame = { id: 0, ts: 0, width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
      const base = evaluateQuality(f, findActiveArea(f)).scores;
      const q = evaluateQuality(g, findActiveArea(g));
      t.same(q.reasons, [], `${name} at ${info.width}×${info.height} passes`);
      t.ok(
        Math.abs(q.scores.usableFraction - base.usableFraction) <= 0.1,
        `usable ${q.scores.usableFraction.toFixed(2)} vs ${base.usableFraction.toFixed(2)} at the original size`,
      );
      const froth = evaluateQuality(bubbled(g, findActiveArea(g).rect), findActiveArea(g));
      t.ok(froth.reasons.includes('bubbles'), `froth at ${info.width}×${info.height} gated: ${froth.explanation.join('; ')}`);
    }
  }
});

t.test('sharpness moves little with brightness, much with blur', async (t) => {
  for (const name of ['kvasir-seg/images/cju2r91dg2k090801bh0xzbxk.jpg', 'kvasir-seg/images/cju2tjrog4jy30878pawyazqc.jpg', 'cvc-clinicdb/images/13.png']) {
    const f = await loadStill(`${DATA}${name}`);
    const area = findActiveArea(f);
    const base = evaluateQuality(f, area).scores.sharpness;
    // It is a ratio of two derivatives, so a gain cancels out; what is left comes from 8-bit
    // rounding and from which cells fall into shadow.
    const dim = evaluateQuality(scaled(f, 0.6), area).scores.sharpness;
    t.ok(Math.abs(dim - base) / base < 0.3, `${name}: sharpness ${base.toFixed(2)}, at 60 % brightness ${dim.toFixed(2)}`);
    const soft = evaluateQuality(blurred(f, Math.round(area.rect.width / 80)), area).scores.sharpness;
    t.ok(soft < base / 2.5, `${name}: blurred ${soft.toFixed(2)}`);
  }
});

t.test('a Rect ROI works; the area outline leaves the black corners out', async (t) => {
  const f = await loadStill(`${DATA}cvc-clinicdb/images/1.png`);
  const area = findActiveArea(f);
  const byArea = evaluateQuality(f, area);
  const byRect = evaluateQuality(f, area.rect);
  t.equal(byRect.gated, false);
  // The rectangle includes the octagon's black corners, which count as shadow.
  t.ok(
    byRect.scores.darkFraction > byArea.scores.darkFraction,
    `dark share ${byRect.scores.darkFraction.toFixed(3)} (rect) > ${byArea.scores.darkFraction.toFixed(3)} (outline)`,
  );
});

t.test('no picture, and thresholds given by the caller', async (t) => {
  const f = await loadStill(`${DATA}cvc-clinicdb/images/1.png`);
  const none = evaluateQuality(f, { x: 0, y: 0, width: 0, height: 0 });
  t.same(none.reasons, ['no-picture']);
  t.equal(none.gated, true);
  const black: Frame = { id: 0, ts: 0, width: 320, height: 240, data: new Uint8Array(320 * 240 * 4) };
  t.same(evaluateQuality(black, findActiveArea(black)).reasons, ['no-picture'], 'a black frame has no picture');
  const strict = evaluateQuality(f, findActiveArea(f), { minMeanLuma: 250 });
  t.same(strict.reasons, ['dark'], 'a caller threshold overrides the default');
  const picky = evaluateQuality(f, findActiveArea(f), { minUsableFraction: 1.01 });
  t.ok(picky.gated, 'and so does minUsableFraction');
});
