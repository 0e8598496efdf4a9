import { readdirSync } from 'node:fs';
import t from 'tap';
import { GstPipeline } from '../runtime/capture/gst.js';
import { WaitBudget } from './helpers/deadline.js';
import { gc } from './helpers/gc.js';

// The GStreamer binding as the project builds it (scripts/patches) frees a pipeline once nothing
// holds it: a capture source that keeps failing is opened again every 30 s for as long as the
// signal is away, and each open used to keep its pipeline, its bus's socket pair and its elements.
const budget = new WaitBudget(200_000);
const fds = () => readdirSync('/proc/self/fd').length;

/** Opens a pipeline that fails at once, as a missing source does; whether its error reached the bus listener, then stops it. */
async function failOnce(i: number): Promise<boolean> {
  const p = new GstPipeline(`filesrc location=/nonexistent/lumen-${i}.mkv ! fakesink`);
  const error = new Promise<void>((resolve) => p.onBus((m) => m.type === 'error' && resolve()));
  p.play();
  const failed = await budget.within(error, 20_000, `pipeline ${i}'s error`).then(
    () => true,
    () => false,
  );
  p.stop();
  return failed;
}

/**
 * Collects every 50 ms until `done(open)` holds for the descriptors open, or 15 s pass; then the
 * count. The bus poll ends on a pool thread after the stop; a collection then frees the wrappers.
 */
async function collect(done: (open: number) => boolean): Promise<number> {
  for (const deadline = Date.now() + 15_000; ; await new Promise((r) => setTimeout(r, 50))) {
    gc();
    const open = fds();
    if (done(open) || Date.now() > deadline) return open;
  }
}

t.test('pipelines that failed and were let go are freed, with their file descriptors', async (t) => {
  // Warm-up: the first pipelines load plugins and start threads that stay.
  let errors = 0;
  for (let i = 0; i < 5; i++) if (await failOnce(i)) errors++;
  // Then a baseline: descriptors counted once collections stop changing them (5 polls in a row).
  let last = -1,
    same = 0;
  const before = await collect((open) => {
    same = open === last ? same + 1 : 0;
    last = open;
    return same >= 5;
  });
  const opens = 40;
  for (let i = 0; i < opens; i++) if (await failOnce(100 + i)) errors++;
  const grew = (await collect((open) => open - before < 10)) - before;
  t.equal(errors, opens + 5, 'every open failed, and said so on its bus');
  // Kept, each failed open held 2 (the bus's wake-up pair): 80 here.
  t.ok(grew < 10, `${opens} failed opens left ${grew} more file descriptors open`);
});
