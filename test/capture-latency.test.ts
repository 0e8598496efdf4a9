import t from 'tap';
import { join } from 'node:path';
import { Capture } from '../runtime/capture/capture.js';
import { GstPipeline } from '../runtime/capture/gst.js';
import { createLogger } from '../runtime/log.js';
import { ROOT } from './helpers/daemon.js';

// A live source's frames reach the frame loop as soon as GStreamer has converted them. A live
// source reports a frame period of latency, and an appsink that syncs to the clock would hold
// every frame that long first: a frame of delay on every overlay, which no frame's age shows
// (a frame is stamped when it is pulled). At 1 fps the hold is a whole second, so the test can
// tell it from any start-up time by a wide margin.

const log = createLogger('t', 'silent');
const LIVE_1FPS = 'videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=1/1 ! videoconvert ! video/x-raw,format=RGBA';

t.test('a live capture hands its first frame over at once, not a frame period later', async (t) => {
  // The premise: the same source into an appsink that syncs, as GStreamer configures it, holds it.
  const plain = new GstPipeline(`${LIVE_1FPS} ! appsink name=sink max-buffers=2 drop=false sync=true`);
  t.teardown(() => plain.stop());
  const sink = plain.appsink('sink');
  let t0 = performance.now();
  plain.play();
  await sink.pull();
  const held = performance.now() - t0;
  t.ok(held >= 900, `GStreamer's own configuration holds a 1 fps live frame for its latency (${held.toFixed(0)} ms)`);
  plain.stop();

  t0 = performance.now();
  const cap = await Capture.open(
    {
      pipelinesDir: join(ROOT, 'pipelines'),
      template: 'test-source',
      params: { width: '320', height: '240', fps: '1' },
      mode: 'live',
      loop: false,
      readyTimeoutMs: 20000,
    },
    log,
  );
  t.teardown(() => cap.close());
  const first = await cap.next();
  const got = performance.now() - t0;
  t.ok(first && first.width === 320, 'the capture delivers 320×240 frames');
  t.ok(got < 700, `the capture's first frame comes without that hold (${got.toFixed(0)} ms from opening)`);
});

t.test('only a live capture drops the latency allowance: a file stays paced by its timestamps', async (t) => {
  const p = new GstPipeline(`${LIVE_1FPS} ! appsink name=sink sync=true`);
  t.teardown(() => p.stop());
  t.ok(p.latencySeconds > 1e6, 'by default GStreamer computes the latency (none configured)');
  p.renderAtTimestamps();
  t.equal(p.latencySeconds, 0, 'renderAtTimestamps configures none');
  // A source that is not live (a still at 10 fps, 12 frames) is still paced to real time.
  const file = new GstPipeline(
    'videotestsrc num-buffers=12 ! video/x-raw,width=64,height=48,framerate=10/1 ! videoconvert ! video/x-raw,format=RGBA ! appsink name=sink max-buffers=2 drop=false sync=true',
  );
  t.teardown(() => file.stop());
  file.renderAtTimestamps();
  const sink = file.appsink('sink');
  const t0 = performance.now();
  file.play();
  let n = 0;
  while (await sink.pull()) if (++n === 12) break;
  const took = performance.now() - t0;
  t.equal(n, 12, 'every frame arrives');
  t.ok(took >= 1000, `paced by their timestamps: 12 frames at 10 fps take ${took.toFixed(0)} ms (≥ 1.1 s of timestamps less the first)`);
});
