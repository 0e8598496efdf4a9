import t from 'tap';
import type { Frame, Rect } from '../runtime/frame.js';
import { Conditioner } from '../runtime/pipeline/condition.js';
import { findActiveArea } from '../runtime/roi/active-area.js';
import { BackgroundDetector } from '../runtime/roi/background-detector.js';
import { FramePool } from '../runtime/capture/frame-pool.js';
import { WaitBudget } from './helpers/deadline.js';

// Steady-state ROI detection on a worker thread (the live daemon): the same areas as in line,
// adopted between frames, never holding a frame up, and in line again if the worker is gone.

const budget = new WaitBudget(120_000);

/** A black frame with a lit, textured picture in `pic`. */
function frame(id: number, width: number, height: number, pic: Rect): Frame {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const inside = x >= pic.x && x < pic.x + pic.width && y >= pic.y && y < pic.y + pic.height;
      data[i] = inside ? 150 + ((x * 7 + y * 3) % 60) : 4;
      data[i + 1] = inside ? 80 + ((x + y) % 30) : 4;
      data[i + 2] = inside ? 70 : 4;
      data[i + 3] = 255;
    }
  return { id, ts: id, width, height, data };
}

/** The frame copied into a buffer of the pool, as the live capture hands it over. */
function inPool(pool: FramePool, f: Frame) {
  const { buf, hold } = pool.take(f.data.length);
  buf.set(f.data);
  return { pooled: { ...f, data: buf, hold }, buf, hold };
}

/** The frame put in the pool and taken by the detector; `got()` is the area delivered, or null. */
function submitPooled(t: { ok(v: unknown, m: string): void }, d: BackgroundDetector, pool: FramePool, f: Frame) {
  const { pooled, buf, hold } = inPool(pool, f);
  let got: unknown = null;
  t.ok(
    d.submit(pooled, (area) => (got = area)),
    'taken',
  );
  return { buf, hold, got: () => got };
}

const settings = (detectEvery: number, stableCount: number) => ({
  roi: { enabled: true, detectEvery, stableCount, tolerance: 4, privacyMasks: [], blackOutside: true },
  quality: null,
});

const BIG: Rect = { x: 40, y: 20, width: 240, height: 200 };
const SMALL: Rect = { x: 100, y: 60, width: 120, height: 100 };

t.test('the worker finds the area findActiveArea finds in line', async (t) => {
  const d = new BackgroundDetector();
  t.teardown(() => d.close());
  const f = frame(7, 320, 240, BIG);
  const got = await budget.within(
    new Promise<{ area: unknown; id: number }>((resolve) => {
      t.ok(
        d.submit(f, (area, id) => resolve({ area, id })),
        'taken',
      );
      d.flush();
    }),
    30_000,
    'the detection',
  );
  t.equal(got.id, 7, 'the result names the frame it was detected on');
  t.same(got.area, findActiveArea(f), 'the same area, outline and all');
  t.ok(
    d.submit(f, () => {}),
    'another is taken once the first came back',
  );
  t.notOk(
    d.submit(f, () => {}),
    'but not a third while that one is in flight',
  );
});

t.test('a changed picture is adopted between frames, and no frame waits for a detection', async (t) => {
  const d = new BackgroundDetector();
  t.teardown(() => d.close());
  const c = new Conditioner(settings(2, 2), d);
  const first = c.run(frame(0, 320, 240, BIG), {}).roi;
  t.ok(first.width > 230 && first.width < 260, `the first area is found in line, on the first frame (${first.width} px wide)`);
  t.notOk(d.busy, 'the first detection did not go to the worker');
  // The picture shrinks (another scope's format). Detections are due on frames 2, 4, 6…
  let id = 1;
  let adoptedAt = -1;
  for (; id < 40 && adoptedAt < 0; id++) {
    const roi = c.run(frame(id, 320, 240, SMALL), {}).roi;
    c.frameDone(); // the frame is out, as the daemon's loop says after each frame
    if (roi.width < 150) adoptedAt = id;
    else if (d.busy) {
      t.same(roi, first, `frame ${id} keeps the ROI in use while its detection runs`);
      await budget.within(d.idle(), 30_000, `the detection of frame ${id}`);
    }
  }
  t.ok(adoptedAt > 2, `the smaller picture is adopted after two agreeing detections (frame ${adoptedAt})`);
  t.ok(c.roiArea && Math.abs(c.roiArea.rect.width - (SMALL.width + 8)) <= 2, 'the area in use is the new picture (plus the margin)');
});

t.test('a detection of the old picture size is dropped when the size changes', async (t) => {
  const d = new BackgroundDetector();
  t.teardown(() => d.close());
  const c = new Conditioner(settings(1, 1), d);
  c.run(frame(0, 320, 240, BIG), {});
  c.run(frame(1, 320, 240, SMALL), {});
  t.ok(d.busy, 'a detection of the 320×240 picture is taken');
  // The source switches to 160×120 before it comes back: the first detection there runs in line.
  const small: Rect = { x: 20, y: 10, width: 120, height: 100 };
  const roi = c.run(frame(2, 160, 120, small), {}).roi;
  await budget.within(d.idle(), 30_000, 'the dropped detection');
  t.same(c.roiArea?.rect, roi, 'the area found at the new size stays: the old size’s detection was not adopted');
  t.ok(roi.x + roi.width <= 160, 'and it lies inside the new frame');
});

t.test('when the worker is gone, detection goes on in line and says so once', async (t) => {
  const failures: string[] = [];
  const d = new BackgroundDetector((why) => failures.push(why));
  t.teardown(() => d.close());
  const c = new Conditioner(settings(1, 1), d);
  c.run(frame(0, 320, 240, BIG), {});
  // The worker dies (as on an uncaught error in it).
  await (d as unknown as { calls: { worker: { terminate(): Promise<number> } } }).calls.worker.terminate();
  await budget.within(
    new Promise<void>((resolve) => {
      const check = () => (failures.length > 0 ? resolve() : setImmediate(check));
      check();
    }),
    30_000,
    'the worker’s exit to be noticed',
  );
  t.equal(failures.length, 1, 'the failure is reported once');
  t.match(failures[0], /ROI detection worker/, 'naming the ROI detection worker');
  const roi = c.run(frame(1, 320, 240, SMALL), {}).roi;
  t.ok(roi.width < 150, 'the changed picture is detected in line, on the frame itself');
  t.notOk(d.busy);
});

t.test('a pooled frame is read where it lies, held until its detection is back', async (t) => {
  const pool = new FramePool();
  const d = new BackgroundDetector();
  t.teardown(() => d.close());
  const plain = frame(3, 320, 240, BIG);
  const { buf, hold, got } = submitPooled(t, d, pool, plain);
  d.flush();
  hold.release(); // the frame loop is done with the frame
  t.not(pool.take(buf.length).buf, buf, 'its buffer is not given out while the worker reads it');
  await budget.within(d.idle(), 30_000, 'the detection');
  t.same(got(), findActiveArea(plain), 'the area of the frame as it was');
  t.equal(pool.take(buf.length).buf, buf, 'and the buffer is back in the pool once the detection is in');
});

t.test('a detection waits for the frame to be out: sent at flush, dropped unsent on cancel', async (t) => {
  const pool = new FramePool();
  const d = new BackgroundDetector();
  const clock = new BackgroundDetector();
  t.teardown(() => Promise.all([d.close(), clock.close()]));
  const plain = frame(5, 320, 240, BIG);
  // Both workers warm (started, code loaded): a detection sent at once would come back in one round trip.
  const detect = (w: BackgroundDetector) =>
    budget.within(new Promise((resolve) => (w.submit(plain, resolve), w.flush())), 30_000, 'a detection on a warm worker');
  await Promise.all([detect(d), detect(clock)]);
  const { buf, hold, got } = submitPooled(t, d, pool, plain);
  hold.release();
  // Two detections of the same frame on another worker: time enough for an unflushed one to come back.
  for (let i = 0; i < 2; i++) await detect(clock);
  t.equal(got(), null, 'nothing comes back before flush: the detection was not sent');
  t.ok(d.busy, 'and it is still taken, so no other is');
  d.cancel();
  await budget.within(d.idle(), 30_000, 'the dropped detection');
  t.equal(got(), null, 'a cancelled detection is never delivered');
  t.notOk(d.busy, 'the detector is free again');
  t.equal(pool.take(buf.length).buf, buf, 'and the frame’s buffer is back in the pool');
  let next: unknown = null;
  t.ok(
    d.submit(plain, (area) => (next = area)),
    'the next is taken',
  );
  d.flush();
  await budget.within(d.idle(), 30_000, 'the flushed detection');
  t.same(next, findActiveArea(plain), 'and delivered once flushed');
});
