import t from 'tap';
import { parseConfig } from '../runtime/config/load.js';
import { egcProbability } from '../runtime/daemon/frame-processor.js';
import { openSessions } from '../runtime/daemon/sessions.js';
import { SceneRenderer } from '../runtime/feed/scene.js';
import { makeSceneSpec } from '../runtime/feed/schedule.js';
import { createLogger } from '../runtime/log.js';
import { blackOutBlood } from '../runtime/quality/blood-mask.js';
import type { Rect } from '../runtime/frame.js';
import { findActiveArea } from '../runtime/roi/active-area.js';
import { GOLDEN } from './helpers/qa-feeds.js';

t.test('blackOutBlood: blood goes, the lesion beside it stays; the reference classifier stops scoring blood alone', async (t) => {
  // The golden feed's schedule with a trickle of blood beside its red lesion (frames 88–110).
  const spec = makeSceneSpec({ ...GOLDEN, trickles: true });
  const r = new SceneRenderer(spec);
  const [classifier, segmenter] = await openSessions(parseConfig({}, 'defaults'), createLogger('test', 'error'));
  t.teardown(async () => { await classifier.close(); await segmenter.close(); });
  // The ROI is the one found on the frame as captured, as the live path tracks it before conditioning.
  const score = async (data: Uint8Array, roi: Rect) => {
    const frame = { id: 0, ts: 0, width: spec.width, height: spec.height, data };
    const out = await classifier.infer(frame, roi);
    return egcProbability(out.logits.data, classifier.manifest.outputs.find((o) => o.name === 'logits')?.classes);
  };
  // Golden frames 62–64: blood rising over normal mucosa, below the gate's limit.
  for (const i of [62, 63, 64]) {
    const f = r.render(i);
    t.equal(f.label, 'normal');
    t.ok(f.blood > 0.1, `frame ${i}: ${(f.blood * 100).toFixed(0)} % of the picture under blood`);
    const frame = { id: i, ts: 0, width: spec.width, height: spec.height, data: new Uint8Array(f.data) };
    const area = findActiveArea(frame);
    const before = await score(f.data, area.rect);
    t.ok(blackOutBlood(frame, area) > 0, 'blood pixels blacked out');
    const after = await score(frame.data, area.rect);
    t.ok(before > 0.9 && after < 0.5, `frame ${i}: score ${before.toFixed(3)} on blood alone, ${after.toFixed(3)} without it`);
  }
  // Frames 95 and 105: the red lesion with a trickle beside it.
  for (const i of [95, 105]) {
    const f = r.render(i);
    t.equal(f.label, 'egc');
    const frame = { id: i, ts: 0, width: spec.width, height: spec.height, data: new Uint8Array(f.data) };
    const area = findActiveArea(frame);
    blackOutBlood(frame, area);
    let lesion = 0, kept = 0;
    for (let p = 0; p < f.mask!.length; p++) {
      if (!f.mask![p]) continue;
      lesion++;
      if (frame.data[p * 4] === f.data[p * 4] && frame.data[p * 4 + 1] === f.data[p * 4 + 1]) kept++;
    }
    t.ok(kept / lesion >= 0.99, `frame ${i}: ${kept} of ${lesion} lesion pixels untouched`);
    t.ok((await score(frame.data, area.rect)) > 0.9, `frame ${i}: the lesion still scores high`);
  }
  // A frame without blood is left as it is.
  const plain = r.render(40);
  const copy = { id: 40, ts: 0, width: spec.width, height: spec.height, data: new Uint8Array(plain.data) };
  t.equal(blackOutBlood(copy, findActiveArea(copy)), 0, 'nothing blacked out on plain mucosa');
});
