import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Frame, Rect } from '../runtime/frame.js';
import { loadStill } from '../runtime/calibration/stills.js';
import { preprocess } from '../runtime/inference/preprocess.js';
import type { InputSpec } from '../runtime/models/manifest.js';
import { kernels, kernelsState, KERNELS_PATH, loadKernels } from '../runtime/native/kernels.js';
import { sampleGrid, type AnalysisGrid } from '../runtime/quality/analysis-grid.js';
import { judgeRegions, KIND } from '../runtime/quality/regions.js';
import { sharpnessOf } from '../runtime/quality/sharpness.js';
import { findActiveArea, type ActiveArea } from '../runtime/roi/active-area.js';
import { MaskPlan } from '../runtime/roi/mask-plan.js';
import { seededRandom } from '../runtime/util/random.js';
import { lumen, SHARED_DATA, sharedImages, tempDir, writeConfig } from './helpers/daemon.js';

// The compiled pixel loops (runtime/native) must give what the JavaScript gives, to the bit: the
// quality gate's grid and each model's input, on real frames and on frames made to reach every
// branch. Set-up builds them, so here they are required, not optional.

type Asserts = Pick<typeof t, 'equal' | 'same'>;

const stills = [...sharedImages('kvasir-seg', 6), ...sharedImages('cvc-clinicdb', 6)];

/** A width × height frame of seeded noise, with bands of black, white, blood red and grey glints. */
function madeFrame(width: number, height: number, seed: number): Frame {
  const rnd = seededRandom(seed);
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const band = Math.floor((4 * x) / width);
      const n = () => Math.floor(rnd() * 256);
      // shadow, blown out, blood, textured mucosa with glints
      const px =
        band === 0
          ? [n() >> 4, n() >> 4, n() >> 4]
          : band === 1
            ? [240 + (n() >> 4), 240 + (n() >> 4), 240 + (n() >> 4)]
            : band === 2
              ? [90 + (n() >> 2), n() >> 4, n() >> 4]
              : rnd() < 0.05
                ? [250, 250, 250]
                : [n(), n() >> 1, n() >> 1];
      data.set([...px, 255], i);
    }
  return { id: seed, ts: 0, width, height, data };
}

/** The grid's arrays copied out (the next call reuses them). */
function kept(g: AnalysisGrid | null) {
  return g && { ...g, valid: g.valid.slice(), luma: g.luma.slice(), kind: g.kind.slice() };
}

/** Samples frame both ways and says whether the two grids are the same, cell for cell. */
function sameGrid(tt: Asserts, frame: Frame, roi: Rect, area: ActiveArea | null, what: string): AnalysisGrid | null {
  const js = kept(sampleGrid(frame, roi, area, true));
  const native = kept(sampleGrid(frame, roi, area));
  tt.equal(native === null, js === null, `${what}: both judge the ROI, or neither`);
  if (!js || !native) return null;
  tt.same([native.gw, native.gh, native.cells, native.meanLuma], [js.gw, js.gh, js.cells, js.meanLuma], `${what}: grid size, cells and mean luma`);
  let differ = 0;
  for (let i = 0; i < js.gw * js.gh; i++)
    if (native.valid[i] !== js.valid[i] || !Object.is(native.luma[i], js.luma[i]) || native.kind[i] !== js.kind[i]) differ++;
  tt.equal(differ, 0, `${what}: every cell the same (${js.gw}×${js.gh})`);
  // What the gate measures on the grid: the same sharpness and the same regions, counts and all.
  tt.equal(sharpnessOf(native), sharpnessOf(js, true), `${what}: sharpness`);
  tt.same(judgeRegions(native), judgeRegions(js, true), `${what}: regions`);
  return js;
}

t.test('the compiled loops are built and loaded', async (t) => {
  t.ok(kernels, 'runtime/native/build/Release/kernels.node loads');
  t.equal(kernelsState().compiled, true, kernelsState().detail);
});

t.test('the gate samples real frames the same with the compiled loop', async (t) => {
  t.equal(stills.length, 12, 'six Kvasir-SEG and six CVC-ClinicDB frames');
  let outlined = 0;
  for (const file of stills) {
    const frame = await loadStill(file);
    const name = file.slice(SHARED_DATA.length);
    const whole = { x: 0, y: 0, width: frame.width, height: frame.height };
    sameGrid(t, frame, whole, null, `${name}, whole frame`);
    const area = findActiveArea(frame);
    if (area) {
      outlined++;
      sameGrid(t, frame, area.rect, area, `${name}, inside its outline`);
    }
    sameGrid(t, frame, { x: 13.6, y: 7.2, width: 201.5, height: 150 }, null, `${name}, an odd rect`);
    sameGrid(t, frame, { x: 5, y: 5, width: 90, height: 60 }, null, `${name}, cells of one pixel`);
    // Not 4-byte aligned: the JavaScript reads bytes, not words.
    const shifted = new Uint8Array(frame.data.length + 1).subarray(1);
    shifted.set(frame.data);
    sameGrid(t, { ...frame, data: shifted }, whole, null, `${name}, unaligned pixels`);
  }
  t.ok(outlined >= 6, `an active area found on ${outlined} of 12 frames, so outlines are compared`);
});

t.test('every cell kind, and grids of many sizes, come out the same', async (t) => {
  const seen = new Set<number>();
  for (const [w, h, seed] of [
    [960, 540, 1],
    [1920, 1080, 2],
    [384, 288, 3],
    [257, 31, 4],
    [50, 700, 5],
  ]) {
    const frame = madeFrame(w, h, seed);
    const g = sameGrid(t, frame, { x: 0, y: 0, width: w, height: h }, null, `made ${w}×${h}`);
    for (const k of g?.kind ?? []) for (const bit of Object.values(KIND)) if (k & bit) seen.add(bit);
  }
  t.same(
    [...seen].sort((a, b) => a - b),
    Object.values(KIND).sort((a, b) => a - b),
    'the made frames reach every kind',
  );
  const tiny = madeFrame(64, 64, 6);
  t.equal(sampleGrid(tiny, { x: 0, y: 0, width: 7, height: 40 }, null), null, 'a ROI under 8 px a side is not judged');
});

t.test("models' inputs are the same from the compiled loop", async (t) => {
  const spec = (w: number, h: number, colorOrder: 'RGB' | 'BGR'): InputSpec =>
    ({ name: 'input', shape: [1, 3, h, w], colorOrder, scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] }) as InputSpec;
  for (const file of stills.slice(0, 4)) {
    const frame = await loadStill(file);
    const crops: (Rect | undefined)[] = [undefined, findActiveArea(frame)?.rect, { x: 31, y: 17, width: 97, height: 211 }];
    for (const crop of crops)
      for (const s of [spec(224, 224, 'RGB'), spec(128, 96, 'BGR')]) {
        const js = preprocess(frame, s, crop, undefined, true);
        const native = preprocess(frame, s, crop);
        let differ = 0;
        for (let i = 0; i < js.length; i++) if (!Object.is(js[i], native[i])) differ++;
        t.equal(differ, 0, `${file.slice(SHARED_DATA.length)} ${s.colorOrder} ${s.shape[3]}×${s.shape[2]} crop ${JSON.stringify(crop ?? 'none')}`);
      }
  }
});

t.test('the compiled loops refuse arguments that do not fit, instead of reading past them', async (t) => {
  const k = kernels!;
  const frame = madeFrame(64, 48, 7);
  const grid = () => [new Uint8Array(64), new Float32Array(64), new Uint8Array(64), new Float64Array(2)] as const;
  const noSpans = new Int32Array(0);
  const params = (rect: number[]) => Float64Array.from([64, 48, ...rect, 1, 8, 8, ...new Array<number>(15).fill(0)]);
  t.doesNotThrow(() => k.gridSample(frame.data, params([0, 0, 8, 8]), noSpans, ...grid()), 'a fitting call');
  t.throws(() => k.gridSample(frame.data, params([60, 0, 8, 8]), noSpans, ...grid()), RangeError, 'a rect past the right edge');
  t.throws(() => k.gridSample(frame.data.subarray(4), params([0, 0, 8, 8]), noSpans, ...grid()), RangeError, 'pixels shorter than the frame');
  t.throws(() => k.gridSample(frame.data, params([0, 0, 8, 8]), new Int32Array(4), ...grid()), RangeError, 'spans for fewer rows than the rect');
  t.throws(() => k.gridSample(frame.data, params([0, 0, 8, 8]).subarray(1), noSpans, ...grid()), RangeError, 'too few params');
  const [valid, luma, kind, sums] = grid();
  t.throws(() => k.gridSample(frame.data, params([0, 0, 8, 8]), noSpans, valid, luma, kind, new Float64Array(2).subarray(1)), RangeError, 'too few sums');
  t.throws(() => k.gridSample(frame.data, params([0, 0, 8, 8]), noSpans, valid, new Float32Array(63), kind, sums), RangeError, 'a luma array too short');
  t.throws(
    () => k.gridSample(frame.data, params([0, 0, 8, 8]), noSpans, valid, new Float64Array(64) as unknown as Float32Array, kind, sums),
    TypeError,
    'a luma array of doubles',
  );

  // n taps of neighbouring pixels, the last one's second tap at `last`.
  const taps = (n: number, last: number) =>
    [
      Int32Array.from({ length: n }, (_, i) => i),
      Int32Array.from({ length: n }, (_, i) => (i === n - 1 ? last : i + 1)),
      new Float64Array(n).fill(0.5),
      new Float64Array(n).fill(0.5),
    ] as const;
  const p = Float64Array.of(64, 48, 16, 16, 0, 1, 1, 1, 0, 0, 0);
  const out = new Float32Array(3 * 16 * 16);
  t.doesNotThrow(() => k.resizeInput(frame.data, p, ...taps(16, 63), ...taps(16, 47), out), 'a fitting resize, taps reaching the last column and row');
  t.throws(() => k.resizeInput(frame.data, p, ...taps(16, 64), ...taps(16, 47), out), RangeError, 'a column tap past the frame');
  t.throws(() => k.resizeInput(frame.data, p, ...taps(16, 63), ...taps(16, 48), out), RangeError, 'a row tap past the frame');
  t.throws(() => k.resizeInput(frame.data, p, ...taps(15, 15), ...taps(16, 47), out), RangeError, 'fewer column taps than columns');
  t.throws(() => k.resizeInput(frame.data, p, ...taps(16, 63), ...taps(16, 47), out.subarray(1)), RangeError, 'an output too short');
  t.throws(() => k.resizeInput(frame.data, p.subarray(1), ...taps(16, 63), ...taps(16, 47), out), RangeError, 'too few params');
  t.throws(
    () => k.resizeInput(frame.data, Float32Array.from(p) as unknown as Float64Array, ...taps(16, 63), ...taps(16, 47), out),
    TypeError,
    'params of singles',
  );
  const loose = k as unknown as { resizeInput(...args: unknown[]): void };
  t.throws(() => loose.resizeInput(frame.data, p, ...taps(16, 63), ...taps(16, 47)), TypeError, 'no output');
});

t.test('the mask plan blacks out the same pixels in one compiled call', async (t) => {
  for (const file of stills.slice(0, 4)) {
    const frame = await loadStill(file);
    const { width: W, height: H } = frame;
    const masks = [
      { x: 10.5, y: 12, width: 80, height: 30 },
      { x: W - 50, y: H - 20, width: 80, height: 40 },
    ];
    const plan = new MaskPlan(W, H, masks, findActiveArea(frame));
    const native = new Uint8Array(frame.data),
      js = new Uint8Array(frame.data);
    plan.apply(native);
    plan.apply(js, true);
    const name = file.slice(SHARED_DATA.length);
    t.equal(Buffer.compare(native, js), 0, `${name}: the same bytes`);
    let black = 0;
    for (let i = 0; i < native.length; i += 4) if (native[i] + native[i + 1] + native[i + 2] === 0 && native[i + 3] === 255) black++;
    t.ok(plan.pixels > 2400 && black >= plan.pixels, `${name}: ${plan.pixels} planned pixels are opaque black (${black} in all)`);
  }
  const data = new Uint8Array(16 * 4);
  t.throws(() => kernels!.fillRuns(data, Int32Array.of(0, 17)), RangeError, 'a run past the frame');
  t.throws(() => kernels!.fillRuns(data, Int32Array.of(5, 4)), RangeError, 'a run that ends before it starts');
  t.throws(() => kernels!.fillRuns(data, Int32Array.of(-1, 4)), RangeError, 'a run before the frame');
  t.throws(() => kernels!.fillRuns(data, Int32Array.of(0, 4, 6)), RangeError, 'a run without its end');
  t.throws(() => kernels!.fillRuns(data, Uint32Array.of(0, 4) as unknown as Int32Array), TypeError, 'runs of another type');
  t.same([...data], new Array<number>(64).fill(0), 'a refused call writes nothing');
  kernels!.fillRuns(data, Int32Array.of(15, 16));
  t.same([...data.subarray(56)], [0, 0, 0, 0, 0, 0, 0, 255], 'a run of the last pixel');
});

t.test('the gate measures refuse a grid that does not fit', async (t) => {
  const k = kernels!;
  t.throws(() => k.gridSharpness(new Float32Array(15), new Uint8Array(16), Float64Array.of(4, 4, KIND.focus)), RangeError, 'too few lumas');
  t.throws(() => k.gridSharpness(new Float32Array(16), new Uint8Array(16), Float64Array.of(4, 4)), RangeError, 'too few params');
  const grid = kept(sampleGrid(madeFrame(64, 64, 8), { x: 0, y: 0, width: 64, height: 64 }, null))!;
  const layout = Int32Array.from([64, 64, 8, 16, KIND.dark, KIND.clipped, KIND.blood, KIND.lit]);
  t.throws(() => k.regionCounts(grid.valid, grid.kind, layout, new Int32Array(256), new Uint8Array(512)), RangeError, 'a layout without its cuts');
  const loose = k as unknown as { regionCounts(...args: unknown[]): void };
  t.throws(() => loose.regionCounts(grid.valid, grid.kind, layout, new Int32Array(256)), TypeError, 'no patch flags');
  t.throws(
    () => k.gridSharpness(new Float32Array(16), new Int8Array(16) as unknown as Uint8Array, Float64Array.of(4, 4, KIND.focus)),
    TypeError,
    'kinds of another type',
  );
});

t.test('an addon that is missing, broken or old is refused with the reason, and the JavaScript runs', async (t) => {
  const dir = tempDir('lumen-kernels-');
  const missing = loadKernels(join(dir, 'kernels.node'));
  t.equal(missing.kernels, null, 'no file: no kernels');
  t.match(missing.why, join(dir, 'kernels.node'), 'the reason names the file');
  const garbage = join(dir, 'garbage.node');
  writeFileSync(garbage, 'not a shared object');
  const broken = loadKernels(garbage);
  t.equal(broken.kernels, null, 'not a shared object: no kernels');
  t.match(broken.why, garbage, 'the reason names the file');
  // An addon of an older build that lacks a kernel this code calls.
  const old = join(dir, 'old.cjs');
  writeFileSync(old, 'module.exports = { gridSample() {}, resizeInput() {} };');
  t.same(loadKernels(old), { kernels: null, why: `${old} lacks gridSharpness, regionCounts, fillRuns` });
  t.ok(loadKernels(KERNELS_PATH).kernels, 'the built addon loads and has every kernel');
});

t.test('lumen doctor says the pixel loops are compiled', async (t) => {
  const c = lumen(['doctor', '--config', writeConfig(tempDir('lumen-kernels-doctor-'), {}), '--json']);
  await c.exited;
  const check = (JSON.parse(c.stdout()) as { checks: { name: string; verdict: string; detail: string }[] }).checks.find((x) => x.name === 'pixel loops');
  t.equal(check?.verdict, 'OK', check?.detail ?? 'no pixel loops check');
});
