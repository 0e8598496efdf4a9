import t from 'tap';
import { GstPipeline } from '../runtime/capture/gst.js';
import { gc } from './helpers/gc.js';

// AppSrc.handOver pushes a frame without copying it (the project's binding patch): GStreamer
// must keep the bytes alive after JavaScript has let go of them, and must not see them change.

const W = 64,
  H = 48,
  N = 24;
const pattern = (i: number, k: number) => (i * 37 + k * 11) & 255;

t.test('frames handed over arrive intact after JavaScript dropped and collected them', async (t) => {
  const p = new GstPipeline(
    `appsrc name=src format=time caps=video/x-raw,format=RGBA,width=${W},height=${H},framerate=30/1 ! queue max-size-buffers=${N + 4} max-size-bytes=0 max-size-time=0 ! appsink name=sink sync=false max-buffers=${N + 4}`,
  );
  t.teardown(() => p.stop());
  const src = p.appsrc('src');
  const sink = p.appsink('sink');
  p.play();
  // Each frame in a buffer of its own, with a view that starts past the start of its memory.
  for (let i = 0; i < N; i++) {
    const backing = new Uint8Array(W * H * 4 + 16);
    const frame = backing.subarray(16);
    for (let k = 0; k < frame.length; k++) frame[k] = pattern(i, k);
    src.handOver(frame, BigInt(i) * 33_333_333n);
  }
  // Nothing in JavaScript holds the frames now; collect, then churn memory of the same size so
  // freed memory would be reused and overwritten.
  gc();
  gc();
  const churn = Array.from({ length: 64 }, () => new Uint8Array(W * H * 4 + 16).fill(0xee));
  t.equal(churn.length, 64);
  let intact = 0;
  for (let i = 0; i < N; i++) {
    const s = await sink.pull();
    if (!s) break;
    let ok = s.buf.length === W * H * 4;
    for (let k = 0; ok && k < s.buf.length; k++) ok = s.buf[k] === pattern(i, k);
    if (ok) intact++;
  }
  t.equal(intact, N, 'every frame arrives with the bytes it was handed over with');
});

t.test('handOver refuses what is not a buffer', async (t) => {
  const p = new GstPipeline('appsrc name=src ! fakesink');
  t.teardown(() => p.stop());
  t.throws(() => p.appsrc('src').handOver('not bytes' as unknown as Uint8Array, 0n), TypeError);
});
