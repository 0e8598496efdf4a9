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

t.test("reading a pad's negotiated caps does not grow native memory", async (t) => {
  // The analysis scaler's input is read with every frame (capture/source-size.ts): each read
  // takes a reference to the pad and to its caps, and converts the fields, fractions included.
  const fractions = Array.from({ length: 30 }, (_, i) => `f${i}=1/${i + 2}`).join(',');
  const p = new GstPipeline(
    `videotestsrc is-live=true pattern=black ! video/x-raw,format=RGBA,width=64,height=48,framerate=30/1,${fractions} ! videoscale name=scale ! video/x-raw,width=32,height=24 ! appsink name=sink max-buffers=1 drop=true`,
  );
  t.teardown(() => p.stop());
  t.equal(p.padCaps('scale', 'sink'), null, 'nothing negotiated before the pipeline plays');
  const sink = p.appsink('sink');
  p.play();
  t.ok(await sink.pull(), 'a frame went through');
  const caps = p.padCaps('scale', 'sink');
  t.same([caps?.width, caps?.height, caps?.framerate, caps?.f29], [64, 48, '30/1', '1/31'], 'the input pad: the source size and its fields');
  t.same([p.padCaps('scale', 'src')?.width, p.padCaps('scale', 'src')?.height], [32, 24], 'the output pad: the scaled size');
  t.equal(p.padCaps('scale', 'nope'), null, 'a pad the element does not have');
  t.throws(() => p.padCaps('nothing', 'sink'), { code: 'PIPELINE_START' }, 'an element the pipeline does not have');
  const every = 20_000;
  const rss: number[] = [];
  for (let i = 1; i <= 10 * every; i++) {
    p.padCaps('scale', 'sink');
    if (i % every === 0) {
      settle();
      rss.push(process.memoryUsage().rss / 1024);
    }
  }
  const steps = rss
    .slice(2)
    .map((r, i) => r - rss[i + 1])
    .sort((x, y) => x - y);
  const medianKB = steps[steps.length >> 1];
  // Each read converts 31 fractions through strings; kept as the released binding kept them
  // (~35 bytes a field), a step would grow by about 20 MB.
  t.ok(medianKB < 500, `${every} reads grew the resident set by ${medianKB.toFixed(0)} KB (median of ${steps.map((x) => x.toFixed(0)).join(', ')})`);
});
