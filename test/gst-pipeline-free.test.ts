import { readdirSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import t from 'tap';
import { GstPipeline } from '../runtime/capture/gst.js';

// The GStreamer binding as the project builds it (scripts/patches) frees a pipeline once nothing
// holds it: a capture source that keeps failing is opened again every 30 s for as long as the
// signal is away, and each open used to keep its pipeline, its bus's socket pair and its elements.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const fds = () => readdirSync('/proc/self/fd').length;

/** Opens a pipeline that fails at once, as a missing source does, and waits for its error and its return to NULL. */
async function failOnce(t: { fail(message: string): void }, i: number): Promise<void> {
  const p = new GstPipeline(`filesrc location=/nonexistent/lumen-${i}.mkv ! fakesink`);
  const error = new Promise<string>((resolve) => p.onBus((m) => m.type === 'error' && resolve(String(m.message))));
  p.play();
  let timer: NodeJS.Timeout | undefined;
  const message = await Promise.race([error, new Promise<string>((r) => (timer = setTimeout(() => r('no error within 20 s'), 20_000)))]);
  clearTimeout(timer);
  if (!/exist|found|open/i.test(message)) t.fail(`pipeline ${i}: ${message}`);
  p.stop();
}

t.test('pipelines that failed and were let go are freed, with their file descriptors', async (t) => {
  // Warm-up: the first pipeline loads plugins and starts threads that stay.
  for (let i = 0; i < 5; i++) await failOnce(t, i);
  const settle = async () => {
    // The bus poll ends on a pool thread after the stop; then two collections free the wrappers.
    for (let k = 0; k < 20; k++) {
      await new Promise((r) => setTimeout(r, 50));
      gc();
    }
  };
  await settle();
  const before = fds();
  const opens = 40;
  for (let i = 0; i < opens; i++) await failOnce(t, 100 + i);
  await settle();
  const grew = fds() - before;
  // Kept, each failed open held 2 (the bus's wake-up pair): 80 here.
  t.ok(grew < 10, `${opens} failed opens left ${grew} more file descriptors open`);
});
