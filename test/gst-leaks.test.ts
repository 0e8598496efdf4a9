import t from 'tap';
import { GstPipeline, pipelineCounts } from '../runtime/capture/gst.js';
import { gc } from './helpers/gc.js';

// The GStreamer binding as released never frees a pipeline, and findChild leaks V8 templates on every call:
// the wrapper must keep a long-running daemon (a capture reading its scaler with every frame, a
// bus listener per recorded file) from accumulating what the binding keeps.
const heapMB = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1e6;
};

t.test('setting an element property again and again does not grow the heap', async (t) => {
  const p = new GstPipeline('videotestsrc ! valve name=v ! fakesink');
  t.teardown(() => p.stop());
  p.setProperty('v', 'drop', true);
  const before = heapMB();
  for (let i = 0; i < 3000; i++) p.setProperty('v', 'drop', i % 2 === 0);
  const grew = heapMB() - before;
  // Looked up anew each time, the binding keeps about 3 KB a call: 10 MB here.
  t.ok(grew < 1, `3000 property sets grew the heap by ${grew.toFixed(2)} MB`);
});

t.test("a stopped pipeline's bus listener no longer holds what it referenced", async (t) => {
  const line = 'appsrc name=src format=time caps=video/x-raw,format=RGBA,width=8,height=8,framerate=10/1 ! fakesink';
  const before = heapMB();
  for (let i = 0; i < 20; i++) {
    const p = new GstPipeline(line, { reuse: true });
    p.play();
    const held = Array.from({ length: 50_000 }, (_, k) => ({ k }));
    const eos = new Promise<number>((resolve) =>
      p.onBus((m) => {
        if (m.type !== 'eos') return;
        p.release();
        resolve(held.length);
      }),
    );
    p.sendEos();
    t.equal(await eos, 50_000, `pipeline ${i}: end of stream reached its listener`);
    await new Promise((r) => setImmediate(r));
  }
  const grew = heapMB() - before;
  // Each listener holds ~2 MB of objects; kept by the binding's callback that would be 40 MB.
  t.ok(grew < 5, `20 pipelines with 2 MB listeners grew the heap by ${grew.toFixed(2)} MB`);
  t.ok(pipelineCounts().idle >= 1, 'released from its bus callback, the pipeline waits to be reused');
});
