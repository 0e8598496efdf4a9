import t from 'tap';
import { tallyGenerator } from './helpers/generator-gate.js';

// Seeds whose `full` schedule holds every artefact: dark, overexposed, blurred, bubbles, bleeding.
const SEEDS = [21, 31, 36];

t.test("the quality gate catches the generator's artefact frames and passes its gradable ones", async (t) => {
  const by = tallyGenerator({ width: 640, height: 360, seeds: SEEDS, every: 6 });
  t.comment(`by truth: ${JSON.stringify(by)}`);
  for (const reason of ['dark', 'overexposed', 'blurred', 'bubbles', 'bleeding']) {
    const k = by[reason];
    t.ok(k && k.n >= 5, `${reason}: ${k?.n ?? 0} frames sampled`);
    t.ok(k.rightReason / k.n >= 0.95, `${reason}: ${k.rightReason}/${k.n} gated for ${reason}`);
  }
  // A lesion beside a trickle of blood, and plain frames, are classified.
  for (const kind of ['lesion+trickle', 'normal']) {
    const k = by[kind];
    t.ok(k && k.n >= 10, `${kind}: ${k?.n ?? 0} frames sampled`);
    t.equal(k.gated, 0, `${kind}: none of ${k.n} gated (usable ${k.usableMin.toFixed(2)}–${k.usableMax.toFixed(2)})`);
  }
});
