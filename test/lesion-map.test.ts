import t from 'tap';
import { largestBlob } from '../runtime/overlay/mask-geometry.js';
import { buildGeometry } from '../runtime/overlay/geometry.js';
import { FrameScale } from '../runtime/frame-scale.js';
import { LesionMap, lesionProbability } from '../runtime/pipeline/lesion-map.js';

/** [1, 2, h, w] logits: a seeded mix of ordinary values and differences right at a threshold's logit. */
function logits(w: number, h: number, thresholds: number[], seed: number): Float32Array {
  const plane = w * h;
  const l = new Float32Array(2 * plane);
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let i = 0; i < plane; i++) {
    const bg = Math.fround((rnd() - 0.5) * 16);
    l[i] = bg;
    if (i % 3 === 0) {
      // l0 − l1 at ln((1 − t) / t), give or take a few units in the last place of a single.
      const th = thresholds[i % thresholds.length];
      const at = Math.fround(bg - Math.log((1 - th) / th));
      const ulp = Math.max(Math.abs(at) * 2 ** -23, 2 ** -126);
      l[plane + i] = Math.fround(at + (((i / 3) % 7) - 3) * ulp);
    } else l[plane + i] = Math.fround((rnd() - 0.5) * 16);
  }
  return l;
}

const THRESHOLDS = [0.5, 0.35, 0.05, 0.9, 0.001, 0.999];

t.test('LesionMap.inside: the cells whose stored probability is at or above the threshold, exactly', async (t) => {
  const w = 64,
    h = 48;
  for (const seed of [1, 2, 3]) {
    const l = logits(w, h, THRESHOLDS, seed);
    const p = lesionProbability(l, w * h);
    for (const th of [...THRESHOLDS, 0, 1, 0.9999, 1e-5, -0.5, 1.5]) {
      const inside = new LesionMap(w, h, l).inside(th);
      let differ = 0,
        count = 0;
      for (let i = 0; i < w * h; i++) {
        const want = p[i] >= th ? 1 : 0;
        if (inside[i] !== want) differ++;
        count += want;
      }
      t.equal(differ, 0, `seed ${seed}, threshold ${th}: no cell differs (${count} inside)`);
    }
  }
  // The generated logits do put cells on both sides of each threshold, right at it.
  const l = logits(w, h, [0.5], 9);
  const p = lesionProbability(l, w * h);
  const near = [...p].filter((v, i) => i % 3 === 0);
  t.ok(near.some((v) => v === 0.5) && near.some((v) => v < 0.5 && v > 0.4999999), 'probabilities land on the threshold and one unit below it');
});

t.test('LesionMap: non-finite logits read as the probabilities do', async (t) => {
  const l = new Float32Array([NaN, Infinity, -Infinity, 0, 1, Infinity, 5, 0]);
  const p = lesionProbability(l, 4);
  const inside = new LesionMap(2, 2, l).inside(0.5);
  t.same(
    [...inside],
    [...p].map((v) => (v >= 0.5 ? 1 : 0)),
  );
  t.same([...inside], [0, 0, 1, 1], 'NaN and ∞ − ∞ are out; a background of −∞ is in, and so is a tie (0.5)');
});

t.test('LesionMap.data: the probabilities, computed once when first read', async (t) => {
  const l = logits(16, 8, THRESHOLDS, 4);
  const m = new LesionMap(16, 8, l);
  const inside = m.inside(0.5);
  t.equal(m.inside(0.5), inside, 'the same threshold reads the same cells');
  t.not(m.inside(0.35), inside, 'another threshold gets its own');
  t.same([...m.data], [...lesionProbability(l, 128)]);
  t.equal(m.data, m.data, 'computed once');
});

t.test('largestBlob and the geometry read a LesionMap as they read its probabilities', async (t) => {
  const w = 40,
    h = 30;
  const plane = w * h;
  const l = new Float32Array(2 * plane);
  // Two lesions, the larger one with a hole, on a background that is lesion-free by far.
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const a = Math.hypot(x - 12, y - 14),
        b = Math.hypot(x - 31, y - 8);
      const lesion = (a < 9 && a > 2) || b < 4;
      l[y * w + x] = lesion ? -1 - (x % 3) : 2 + (y % 4);
      l[plane + y * w + x] = lesion ? 1 : -1;
    }
  }
  const lazy = new LesionMap(w, h, l);
  const plain = { width: w, height: h, data: lesionProbability(l, plane) };
  const blob = largestBlob(lazy, 0.5);
  t.same(blob, largestBlob(plain, 0.5));
  t.same(blob?.box, { x: 4, y: 6, width: 17, height: 17 }, 'the ring is the largest blob');
  const scale = new FrameScale({ width: 960, height: 540 }, { width: 1920, height: 1080 });
  const roi = { x: 100, y: 50, width: 400, height: 300 };
  const g = buildGeometry({ roi, scale, mask: lazy, maskThreshold: 0.5, attention: null });
  t.same(g, buildGeometry({ roi, scale, mask: plain, maskThreshold: 0.5, attention: null }));
  t.equal(g.contours.length, 3, 'ring outline, its hole and the small lesion');
});
