import t from 'tap';
import { FrameScale } from '../runtime/frame-scale.js';
import { decodeRuns, encodeRuns, traceContours } from '../runtime/overlay/contours.js';
import { buildGeometry } from '../runtime/overlay/geometry.js';
import { renderGeometry } from '../runtime/overlay/render-geometry.js';

/** A w × h grid with the cells of `cells` set. */
function grid(w: number, h: number, set: (x: number, y: number) => boolean): Uint8Array {
  const g = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) g[y * w + x] = set(x, y) ? 1 : 0;
  return g;
}

/** Signed area of a flat polygon (shoelace): positive runs one way round, negative the other. */
function area(p: number[]): number {
  let s = 0;
  for (let i = 0; i < p.length; i += 2) {
    const j = (i + 2) % p.length;
    s += p[i] * p[j + 1] - p[j] * p[i + 1];
  }
  return s / 2;
}

t.test('a filled rectangle has one outline on its cell corners', async (t) => {
  const g = grid(10, 8, (x, y) => x >= 2 && x < 7 && y >= 3 && y < 6);
  const c = traceContours(g, 10, 8);
  t.equal(c.length, 1, 'one outline');
  const pts = new Set<string>();
  for (let i = 0; i < c[0].length; i += 2) pts.add(`${c[0][i]},${c[0][i + 1]}`);
  t.same([...pts].sort(), ['2,3', '2,6', '7,3', '7,6'], 'the four corners of cells 2..6 × 3..5');
  t.equal(Math.abs(area(c[0])), 15, 'it encloses the 15 cells');
});

t.test('a ring has an outer outline and a hole running the other way', async (t) => {
  const g = grid(12, 12, (x, y) => x >= 2 && x < 10 && y >= 2 && y < 10 && !(x >= 4 && x < 8 && y >= 4 && y < 8));
  const c = traceContours(g, 12, 12);
  t.equal(c.length, 2, 'two outlines');
  t.equal(Math.abs(area(c[0])), 64, 'the largest first: the outer square');
  t.equal(Math.abs(area(c[1])), 16, 'then the hole');
  t.ok(Math.sign(area(c[0])) !== Math.sign(area(c[1])), 'opposite orientation');
});

t.test('a disc is simplified to a few points that stay within a cell of its edge', async (t) => {
  const r = 20;
  const g = grid(64, 64, (x, y) => (x + 0.5 - 32) ** 2 + (y + 0.5 - 32) ** 2 <= r * r);
  const [c] = traceContours(g, 64, 64);
  const n = c.length / 2;
  t.ok(n < 80, `${n} points instead of a staircase of about ${Math.round(8 * r)}`);
  for (let i = 0; i < c.length; i += 2) {
    const d = Math.hypot(c[i] - 32, c[i + 1] - 32);
    t.ok(Math.abs(d - r) <= 1.5, `point ${c[i]},${c[i + 1]} at ${d.toFixed(2)} from the centre`);
  }
  t.ok(Math.abs(Math.abs(area(c)) - Math.PI * r * r) / (Math.PI * r * r) < 0.05, 'encloses the disc to within 5 %');
});

t.test('run lengths round-trip and refuse runs that do not fit', async (t) => {
  const g = grid(7, 5, (x, y) => (x * 3 + y * 5) % 4 === 0);
  const runs = encodeRuns(g);
  t.same(decodeRuns(runs, 35), g, 'decode(encode(g)) = g');
  t.equal(encodeRuns(grid(3, 1, () => true))[0], 0, 'a grid starting with a set cell begins with an empty run');
  t.same(encodeRuns(grid(4, 1, () => false)), [4], 'an empty grid is one run');
  t.throws(() => decodeRuns([2, 2], 5), RangeError, 'too few cells');
  t.throws(() => decodeRuns([4, 4], 5), RangeError, 'too many cells');
  t.throws(() => decodeRuns([-1, 6], 5), RangeError, 'a negative run');
});

t.test('geometry is in full-frame pixels: analysis ROI and mask cells scaled by the source size', async (t) => {
  // 960×540 analysis of a 1920×1080 source; the ROI is the right half; a 4×4 mask with one set quarter.
  const scale = new FrameScale({ width: 960, height: 540 }, { width: 1920, height: 1080 });
  const roi = { x: 480, y: 0, width: 480, height: 540 };
  const data = new Float32Array(16);
  for (const i of [10, 11, 14, 15]) data[i] = 0.9; // cells x 2..3, y 2..3
  const attention = { width: 2, height: 2, data: Float32Array.from([0, 0.5, 1, 2]) };
  const g = buildGeometry({ roi, scale, mask: { width: 4, height: 4, data }, maskThreshold: 0.5, attention });
  t.same(g.mask?.rect, { x: 960, y: 0, width: 960, height: 1080 }, 'the mask covers the ROI in source pixels');
  t.same(g.mask?.runs, [10, 2, 2, 2], 'the mask as runs');
  t.equal(g.contours.length, 1, 'one outline');
  const xs = g.contours[0].filter((_, i) => i % 2 === 0);
  const ys = g.contours[0].filter((_, i) => i % 2 === 1);
  t.same(
    [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)],
    [960 + 480, 1920, 540, 1080],
    'the outline is the lower right quarter of the ROI, in source pixels',
  );
  t.same(g.attention?.values, [0, 128, 255, 255], 'attention as 0–255, clipped');
  const none = buildGeometry({ roi, scale, mask: null, maskThreshold: 0.5, attention: null });
  t.same(none, { contours: [], attention: null, mask: null }, 'a frame without a mask or heatmap has empty geometry');
});

t.test('a monitor draws the geometry: contour pixels where the outline is, nothing elsewhere', async (t) => {
  const scale = new FrameScale({ width: 80, height: 60 }, { width: 160, height: 120 });
  const data = new Float32Array(64);
  for (let y = 2; y < 6; y++) for (let x = 2; x < 6; x++) data[y * 8 + x] = 1;
  const g = buildGeometry({ roi: { x: 20, y: 10, width: 40, height: 40 }, scale, mask: { width: 8, height: 8, data }, maskThreshold: 0.5, attention: null });
  const rgba = renderGeometry({ width: 160, height: 120, geometry: g, box: null, alert: false });
  // The ROI is 40..120 × 20..100 in source pixels; the set cells are its middle half: 60..100 × 40..80.
  const green = (x: number, y: number) => rgba[(y * 160 + x) * 4 + 1] === 255 && rgba[(y * 160 + x) * 4 + 3] === 255;
  t.ok(green(60, 60) && green(99, 60) && green(80, 40) && green(80, 79), "the outline is drawn on the lesion's edge");
  t.notOk(green(80, 60), 'not inside it');
  let outside = 0;
  for (let y = 0; y < 120; y++) for (let x = 0; x < 160; x++) if (rgba[(y * 160 + x) * 4 + 3] && (x < 58 || x > 101 || y < 38 || y > 81)) outside++;
  t.equal(outside, 0, 'nothing drawn away from the lesion');
});
