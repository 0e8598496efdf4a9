import t from 'tap';
import { tallyGenerator } from './helpers/generator-gate.js';

t.test('at 1920×1080 scaled to 960×540, as the live path hands frames to the gate, the verdicts hold', async (t) => {
  // Seed 36 has dark, overexposed, blurred, bubble and bleeding stretches, and lesions with trickles.
  const by = tallyGenerator({ width: 1920, height: 1080, seeds: [36], every: 12, scale: 2 });
  t.comment(`by truth: ${JSON.stringify(by)}`);
  for (const reason of ['dark', 'overexposed', 'blurred', 'bubbles', 'bleeding']) {
    const k = by[reason];
    t.ok(k && k.n >= 1, `${reason}: ${k?.n ?? 0} frames sampled`);
    t.ok(k.rightReason / k.n >= 0.95, `${reason}: ${k.rightReason}/${k.n} gated for ${reason}`);
  }
  for (const kind of ['lesion+trickle', 'normal']) {
    const k = by[kind];
    t.ok(k && k.n >= 2, `${kind}: ${k?.n ?? 0} frames sampled`);
    t.equal(k.gated, 0, `${kind}: none of ${k.n} gated`);
  }
});
