import t from 'tap';
import { join } from 'node:path';
import { SHARED_DATA } from './helpers/daemon.js';
import { listStills, loadMask, loadStill } from '../runtime/calibration/stills.js';
import { judgeFrame, lesionKept, siteSettings } from '../runtime/calibration/site-view.js';
import { parseConfig } from '../runtime/config/load.js';

// 753 real polyp frames (470 Kvasir-SEG, 283 CVC-ClinicDB), each gradable, each with an expert
// mask: the clinical rule is that the gate holds back none of them. Read in place, never copied.
const CALIBRATION = join(SHARED_DATA, 'calibration');

t.test('the default gate, at the live analysis size, holds back none of the 753 real lesion frames', async (t) => {
  const settings = siteSettings(parseConfig({}, 'defaults'));
  const entries = await listStills(CALIBRATION);
  t.equal(entries.length, 753);
  const gated: string[] = [];
  let minUsable = 1,
    minUsableName = '',
    outsideBox = 0;
  for (const e of entries) {
    const frame = await loadStill(e.image);
    const j = judgeFrame(frame, settings);
    const q = j.quality!;
    if (q.gated) gated.push(`${e.name}: ${q.explanation.join('; ')}`);
    if (q.scores.usableFraction < minUsable) {
      minUsable = q.scores.usableFraction;
      minUsableName = e.name;
    }
    const k = lesionKept(await loadMask(e.mask!, frame.width, frame.height, e.image), frame.width, frame.height, j, []);
    outsideBox += k.lesion - k.inRect;
  }
  t.same(gated, [], 'no lesion frame gated');
  // The limit is 0.4; the least usable real frame is far above it.
  t.ok(minUsable >= 0.6, `least usable share ${minUsable.toFixed(3)} (${minUsableName})`);
  t.equal(outsideBox, 0, 'every lesion pixel inside the ROI box');
});
