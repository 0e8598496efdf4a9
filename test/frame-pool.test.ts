import t from 'tap';
import { join } from 'node:path';
import { Capture } from '../runtime/capture/capture.js';
import { FramePool } from '../runtime/capture/frame-pool.js';
import { GstPipeline } from '../runtime/capture/gst.js';
import { createLogger } from '../runtime/log.js';
import { ROOT } from './helpers/daemon.js';
import { WaitBudget } from './helpers/deadline.js';

// The live path pulls frames into reused buffers (capture/frame-pool.ts) instead of a new 2 MB
// Buffer per frame; a buffer goes back only when its last reader let go of it.

const budget = new WaitBudget(180_000);

t.test('a buffer is given out again only after its last lease ends, and never twice', async (t) => {
  const pool = new FramePool();
  const a = pool.take(64);
  t.ok(a.buf.buffer instanceof SharedArrayBuffer, 'frames lie in shared memory (readable by worker threads)');
  a.hold.retain(); // a second reader (the recorder)
  a.hold.release();
  const b = pool.take(64);
  t.not(b.buf, a.buf, 'still held by one reader: not given out');
  a.hold.release();
  a.hold.release(); // a stray second release
  const c = pool.take(64);
  const d = pool.take(64);
  t.equal(c.buf, a.buf, 'back once the last reader released it');
  t.not(d.buf, a.buf, 'and given out once only, whatever the releases');
  c.hold.release();
  const e = pool.take(128);
  t.equal(e.buf.length, 128, 'another picture size gets buffers of its own');
  t.not(e.buf, a.buf, 'not one of the old size');
  t.equal(pool.made, 4, 'four buffers made in all');
});

t.test('a pull fills the buffer it is given when the sample fits exactly, and a new one otherwise', async (t) => {
  const p = new GstPipeline('videotestsrc num-buffers=2 pattern=white ! video/x-raw,format=RGBA,width=8,height=8 ! appsink name=sink sync=false');
  t.teardown(() => p.stop());
  const sink = p.appsink('sink');
  p.play();
  const into = Buffer.from(new SharedArrayBuffer(8 * 8 * 4));
  const s = await budget.within(sink.pull(into), 30_000, 'the first sample');
  t.equal(s?.buf, into, 'the sample came in the buffer given');
  t.ok(
    into.every((v) => v === 255),
    'filled with the white frame',
  );
  const small = Buffer.alloc(16);
  const s2 = await budget.within(sink.pull(small), 30_000, 'the second sample');
  t.not(s2?.buf, small, 'a buffer of another size is not used');
  t.equal(s2?.buf.length, 8 * 8 * 4, 'the sample comes whole in a new one');
  t.ok(
    small.every((v) => v === 0),
    'and the small buffer is untouched',
  );
});

t.test('a live capture with a pool reuses a few buffers, frames the loop never took included', async (t) => {
  const pool = new FramePool();
  const cap = await Capture.open(
    {
      pipelinesDir: join(ROOT, 'pipelines'),
      template: 'test-source',
      params: { pattern: 'smpte', width: '64', height: '48', fps: '60' },
      mode: 'live',
      loop: false,
      readyTimeoutMs: 20_000,
      pool,
    },
    createLogger('t', 'silent'),
  );
  t.teardown(() => cap.close());
  let held = 0;
  for (let i = 0; i < 40; i++) {
    const f = await budget.within(cap.next(), 30_000, `frame ${i}`);
    if (f?.hold) held++;
    // Slow now and then: the mailbox replaces frames nobody took, and must give them back.
    if (i % 10 === 9) await new Promise((r) => setTimeout(r, 150));
    f?.hold?.release();
  }
  t.ok(held >= 38, `frames carry the hold on their pooled buffer (${held} of 40; the first comes unpooled)`);
  t.ok(cap.stats.dropped >= 3, `frames were dropped in the mailbox (${cap.stats.dropped})`);
  t.ok(pool.made <= 4, `${pool.made} buffers served every frame, dropped ones included`);
});
