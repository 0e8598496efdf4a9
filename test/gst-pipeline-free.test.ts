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

/** Opens a pipeline that fails at once, as a missing source does; whether its error reached the bus listener, then stops it. */
async function failOnce(i: number): Promise<boolean> {
  const p = new GstPipeline(`filesrc location=/nonexistent/lumen-${i}.mkv ! fakesink`);
  const error = new Promise<boolean>((resolve) => p.onBus((m) => m.type === 'error' && resolve(true)));
  p.play();
  let timer: NodeJS.Timeout | undefined;
  const failed = await Promise.race([error, new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 20_000)))]);
  clearTimeout(timer);
  p.stop();
  return failed;
}

/** Collects until fewer than `limit` descriptors above `base` stay open, or 15 s pass; what stays. */
async function collectUntil(base: number, limit: number): Promise<number> {
  // The bus poll ends on a pool thread after the stop; a collection then frees the wrappers.
  const deadline = Date.now() + 15_000;
  for (;;) {
    gc();
    const grew = fds() - base;
    if (grew < limit || Date.now() > deadline) return grew;
    await new Promise((r) => setTimeout(r, 50));
  }
}

t.test('pipelines that failed and were let go are freed, with their file descriptors', async (t) => {
  // Warm-up: the first pipelines load plugins and start threads that stay.
  let errors = 0;
  for (let i = 0; i < 5; i++) if (await failOnce(i)) errors++;
  // Then a baseline: descriptors counted once collections stop changing them (5 polls in a row).
  let before = fds();
  for (let same = 0, deadline = Date.now() + 15_000; same < 5 && Date.now() < deadline;) {
    await new Promise((r) => setTimeout(r, 50));
    gc();
    same = fds() === before ? same + 1 : 0;
    before = fds();
  }
  const opens = 40;
  for (let i = 0; i < opens; i++) if (await failOnce(100 + i)) errors++;
  const grew = await collectUntil(before, 10);
  t.equal(errors, opens + 5, 'every open failed, and said so on its bus');
  // Kept, each failed open held 2 (the bus's wake-up pair): 80 here.
  t.ok(grew < 10, `${opens} failed opens left ${grew} more file descriptors open`);
});
