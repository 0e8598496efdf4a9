import t from 'tap';
import { GstPipeline } from '../runtime/capture/gst.js';
import { gc } from './helpers/gc.js';

// The GStreamer binding as the project builds it (scripts/patches): what it converts for each
// sample is freed. A file of its own, so that no other test's garbage moves the resident set.
const settle = () => {
  gc();
  gc();
};

t.test('pulling samples does not grow native memory', async (t) => {
  // Every pull converts the sample's caps; unpatched, the binding kept each field it converted
  // through a string (framerate, pixel-aspect-ratio): ~70 bytes a frame, ~17 MB/h at 60 fps.
  // Thirty more fraction fields make each pull convert 32 of them: a leak shows as megabytes.
  const frames = 60_000;
  const fractions = Array.from({ length: 30 }, (_, i) => `f${i}=1/${i + 2}`).join(',');
  const p = new GstPipeline(
    `videotestsrc num-buffers=${frames} pattern=black ! video/x-raw,format=RGBA,width=8,height=8,framerate=1000/1,${fractions} ! appsink name=sink sync=false max-buffers=64`,
  );
  t.teardown(() => p.stop());
  const sink = p.appsink('sink');
  p.play();
  // The resident set every 5,000 pulls from the 10,000th; the median step, because one step
  // may fall where the runtime hands back memory of its own (tens of MB at once).
  const every = 5_000;
  let pulled = 0;
  let withRate = 0;
  const rss: number[] = [];
  for (let s = await sink.pull(); s; s = await sink.pull()) {
    if (s.caps.framerate === '1000/1' && s.caps.f29 === '1/31') withRate++;
    if (++pulled >= 2 * every && pulled % every === 0 && pulled < frames) {
      settle();
      rss.push(process.memoryUsage().rss / 1024);
    }
  }
  const steps = rss
    .slice(1)
    .map((r, i) => r - rss[i])
    .sort((x, y) => x - y);
  const medianKB = steps[steps.length >> 1];
  t.equal(pulled, frames, 'every frame pulled');
  t.equal(withRate, frames, 'each with its caps, the fractions converted to strings');
  t.equal(steps.length, 9, 'nine steps measured');
  t.ok(medianKB < 500, `${every} pulls grew the resident set by ${medianKB.toFixed(0)} KB (median of ${steps.map((x) => x.toFixed(0)).join(', ')})`);
});
