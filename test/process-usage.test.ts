import t from 'tap';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { processUsage } from '../runtime/health/process-usage.js';

/** Reads processUsage until `done` holds of it; the collector's entries arrive after the collection. */
async function until(done: (u: ReturnType<typeof processUsage>) => boolean): Promise<ReturnType<typeof processUsage>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const u = processUsage();
    if (done(u) || Date.now() > deadline) return u;
    await new Promise((r) => setTimeout(r, 20));
  }
}

t.test('status counts V8 scavenges and mark-compacts with their pauses', async (t) => {
  const before = processUsage().gc;
  t.same(Object.keys(before).sort(), ['full', 'fullMs', 'young', 'youngMs']);
  // Short-lived garbage: young collections only.
  let hold: number[][] = [];
  let made = 0;
  for (let i = 0; i < 2_000_000; i++) {
    hold.push([i, i + 1]);
    if (hold.length === 1000) {
      made += hold.length;
      hold = [];
    }
  }
  t.equal(made, 2_000_000);
  const young = (await until((u) => u.gc.young > before.young)).gc;
  t.ok(young.young > before.young, `scavenges counted: ${before.young} → ${young.young}`);
  t.ok(young.youngMs >= before.youngMs, 'their pause time only grows');
  // A full collection on request.
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  const full = (await until((u) => u.gc.full > young.full)).gc;
  t.equal(full.full, young.full + 1, 'one mark-compact counted');
  t.ok(full.fullMs >= young.fullMs);
});
