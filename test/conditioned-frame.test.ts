import t from 'tap';
import type { Frame } from '../runtime/frame.js';
import { compositeRoi } from '../runtime/overlay/preview.js';
import { Conditioner } from '../runtime/pipeline/condition.js';

const W = 64;
const H = 48;
const MASK = { x: 8, y: 4, width: 16, height: 8 };

/** A white frame (full picture, no border) of W × H. */
const white = (): Frame => ({ id: 0, ts: 0, width: W, height: H, data: new Uint8Array(W * H * 4).fill(255) });

const at = (data: Uint8Array, width: number, x: number, y: number) => [...data.subarray((y * width + x) * 4, (y * width + x) * 4 + 4)];

t.test('the privacy rule, in one place: masks black in the frame, transparent in overlays, black again over drawings', async (t) => {
  const c = new Conditioner({
    roi: { enabled: false, detectEvery: 30, stableCount: 3, tolerance: 4, privacyMasks: [MASK], blackOutside: true },
    quality: null,
  });
  const raw = white();
  const { frame, roi, gated } = c.run(raw, {});
  t.equal(gated, null);
  t.same(at(frame.data, W, 10, 6), [0, 0, 0, 255], 'a pixel under the mask is black in the conditioned frame');
  t.same(at(frame.data, W, 30, 20), [255, 255, 255, 255], 'a pixel beside it is untouched');

  // An overlay painted everywhere: cleared over the mask, so nothing is drawn there.
  const overlay = new Uint8Array(W * H * 4).fill(200);
  c.clearMasked(overlay, W, H, 'analysis');
  t.same(at(overlay, W, 10, 6), [0, 0, 0, 0], 'the overlay is transparent over the mask');
  t.same(at(overlay, W, 30, 20), [200, 200, 200, 200], 'and drawn elsewhere');
  const preview = compositeRoi(frame, overlay, roi);
  t.same(at(preview.data, preview.width, 10, 6), [0, 0, 0, 255], 'the preview shows black under the mask');

  const drawn = new Uint8Array(W * H * 4).fill(255);
  c.blackMasked(drawn, W, H);
  t.same(at(drawn, W, 10, 6), [0, 0, 0, 255], 'a picture drawn from the frame gets the mask black again');
});

t.test('only conditioning makes a ConditionedFrame: a raw frame does not type-check where one is required', async (t) => {
  const raw = white();
  const overlay = new Uint8Array(W * H * 4);
  // Compile-time guarantee (tsc -p test): the preview refuses a frame that was not conditioned.
  const refused = () =>
    // @ts-expect-error a raw Frame is not a ConditionedFrame
    compositeRoi(raw, overlay, { x: 0, y: 0, width: W, height: H });
  t.type(refused, 'function');
});
