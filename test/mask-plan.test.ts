import t from 'tap';
import { FrameScale } from '../runtime/frame-scale.js';
import { findActiveArea } from '../runtime/roi/active-area.js';
import { MaskPlan } from '../runtime/roi/mask-plan.js';
import { applyPrivacyMask, blackOutsideArea } from '../runtime/roi/privacy.js';
import { SceneRenderer } from '../runtime/feed/scene.js';
import { makeSceneSpec } from '../runtime/feed/schedule.js';

t.test('a mask plan blacks out exactly what the per-pixel masks do', async (t) => {
  for (const [w, h, seed] of [
    [640, 480, 1],
    [960, 540, 2],
    [333, 251, 3],
  ] as const) {
    const spec = makeSceneSpec({ width: w, height: h, fps: 10, seconds: 1, seed, episodes: 'demo' });
    const frame = new SceneRenderer(spec).render(0);
    const area = findActiveArea({ id: 0, ts: 0, width: w, height: h, data: frame.data });
    // Overlapping regions, one off the frame's edge, one empty.
    const regions = [
      { x: 10, y: 10, width: 100, height: 40 },
      { x: 60, y: 30, width: 80, height: 40 },
      { x: w - 30, y: h - 20, width: 100, height: 100 },
      { x: 5, y: 5, width: 0, height: 10 },
    ];
    const expected = Uint8Array.from(frame.data);
    applyPrivacyMask(expected, w, h, regions);
    blackOutsideArea(expected, w, h, area);
    const got = Uint8Array.from(frame.data);
    const plan = new MaskPlan(w, h, regions, area);
    plan.apply(got);
    t.ok(Buffer.compare(Buffer.from(expected), Buffer.from(got)) === 0, `${w}×${h}: identical pixels`);
    let black = 0;
    for (let i = 0; i < got.length; i += 4) if (got[i] === 0 && got[i + 1] === 0 && got[i + 2] === 0 && got[i + 3] === 255) black++;
    t.ok(plan.pixels > 0 && plan.pixels <= black, `${w}×${h}: the plan counts ${plan.pixels} pixels`);
  }
});

t.test('a plan refuses a frame of another size', async (t) => {
  const plan = new MaskPlan(4, 4, [{ x: 0, y: 0, width: 2, height: 2 }], null);
  t.throws(() => plan.apply(new Uint8Array(5 * 4 * 4)), RangeError);
});

t.test('a buffer not aligned to 4 bytes is masked the same way', async (t) => {
  const plan = new MaskPlan(4, 2, [{ x: 1, y: 0, width: 2, height: 2 }], null);
  const backing = new Uint8Array(4 * 2 * 4 + 1).fill(200);
  const view = backing.subarray(1);
  plan.apply(view);
  const px = (x: number, y: number) => Array.from(view.subarray((y * 4 + x) * 4, (y * 4 + x) * 4 + 4));
  t.same(px(1, 0), [0, 0, 0, 255], 'masked pixel');
  t.same(px(0, 1), [200, 200, 200, 200], 'unmasked pixel untouched');
});

t.test('full-frame masks become analysis masks that cover every pixel they touch', async (t) => {
  const s = new FrameScale({ width: 960, height: 540 }, { width: 1920, height: 1080 });
  const r = s.rectToAnalysis({ x: 101, y: 51, width: 21, height: 9 });
  // Full-frame 101..122 × 51..60 is analysis 50.5..61 × 25.5..30: widened by the scaler's reach.
  t.ok(r.x <= 49 && r.y <= 24 && r.x + r.width >= 62 && r.y + r.height >= 31, `covers with a margin: ${JSON.stringify(r)}`);
  t.ok(r.width <= 16 && r.height <= 10, 'and not much more');
  const id = new FrameScale({ width: 640, height: 480 }, { width: 640, height: 480 });
  t.same(id.rectToAnalysis({ x: 3, y: 4, width: 5, height: 6 }), { x: 3, y: 4, width: 5, height: 6 }, 'unscaled: the same rectangle');
  t.same(s.rectToFull({ x: 10, y: 20, width: 30, height: 40 }), { x: 20, y: 40, width: 60, height: 80 }, 'analysis → full');
  const clip = s.rectToAnalysis({ x: 1900, y: 1070, width: 100, height: 100 });
  t.ok(clip.x + clip.width <= 960 && clip.y + clip.height <= 540, 'clipped to the picture');
});
