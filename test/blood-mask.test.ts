import t from 'tap';
import { join } from 'node:path';
import { parseConfig } from '../runtime/config/load.js';
import { egcProbability } from '../runtime/pipeline/models.js';
import { openSessions } from '../runtime/pipeline/sessions.js';
import { SceneRenderer } from '../runtime/feed/scene.js';
import { makeSceneSpec } from '../runtime/feed/schedule.js';
import type { Rect } from '../runtime/frame.js';
import { createLogger } from '../runtime/log.js';
import { buildReferenceBundles } from '../runtime/models/reference/build-reference.js';
import { blackOutBlood } from '../runtime/quality/blood-mask.js';
import { findActiveArea } from '../runtime/roi/active-area.js';
import { tempDir } from './helpers/daemon.js';
import { GOLDEN } from './helpers/qa-feeds.js';

// The golden feed's schedule with a trickle of blood beside its red lesion (frames 88–110).
const spec = makeSceneSpec({ ...GOLDEN, trickles: true });
const renderer = new SceneRenderer(spec);
/** Golden frames 62–64: blood rising over normal mucosa, below the gate's limit (17–48 % of the picture). */
const BLOOD_ONLY = [62, 63, 64];
/** The red lesion with a trickle beside it. */
const LESION_AND_TRICKLE = [95, 105];

/** A classifier from a model root, scoring a frame within `roi` as the live path does. */
async function classifierAt(t: { teardown(fn: () => unknown): void }, root: string | null) {
  const config = parseConfig(root ? { inference: { classifier: join(root, 'ref-classifier'), segmenter: join(root, 'ref-segmenter') } } : {}, 'test');
  const [classifier, segmenter] = await openSessions(config, createLogger('test', 'error'));
  t.teardown(async () => {
    await classifier.close();
    await segmenter.close();
  });
  return {
    manifest: classifier.manifest,
    score: async (data: Uint8Array, roi: Rect) => {
      const out = await classifier.infer({ id: 0, ts: 0, width: spec.width, height: spec.height, data }, roi);
      return egcProbability(out.logits.data, classifier.manifest.outputs.find((o) => o.name === 'logits')?.classes);
    },
  };
}

/** A frame as rendered, with the ROI found on it as captured (the live path tracks it before conditioning). */
function frameAt(i: number) {
  const f = renderer.render(i);
  const frame = { id: i, ts: 0, width: spec.width, height: spec.height, data: new Uint8Array(f.data) };
  return { f, frame, area: findActiveArea(frame) };
}

t.test('blackOutBlood: blood goes, the lesion beside it stays; a colour model without the blood rule stops scoring blood alone', async (t) => {
  // The reference models without their blood rule, as 1.0.0 was: they take blood for a lesion.
  const root = tempDir('lumen-naive-');
  const built = await buildReferenceBundles(root, 7, { bloodRule: false });
  t.same(
    built.map((m) => m.version),
    ['1.0.0', '1.0.0'],
    'built without the blood rule',
  );
  const naive = await classifierAt(t, root);
  for (const i of BLOOD_ONLY) {
    const { f, frame, area } = frameAt(i);
    t.equal(f.label, 'normal');
    t.ok(f.blood > 0.1, `frame ${i}: ${(f.blood * 100).toFixed(0)} % of the picture under blood`);
    const before = await naive.score(f.data, area.rect);
    t.ok(blackOutBlood(frame, area) > 0, 'blood pixels blacked out');
    const after = await naive.score(frame.data, area.rect);
    t.ok(before > 0.9 && after < 0.5, `frame ${i}: score ${before.toFixed(3)} on blood alone, ${after.toFixed(3)} without it`);
  }
  for (const i of LESION_AND_TRICKLE) {
    const { f, frame, area } = frameAt(i);
    t.equal(f.label, 'egc');
    blackOutBlood(frame, area);
    let lesion = 0,
      kept = 0;
    for (let p = 0; p < f.mask!.length; p++) {
      if (!f.mask![p]) continue;
      lesion++;
      if (frame.data[p * 4] === f.data[p * 4] && frame.data[p * 4 + 1] === f.data[p * 4 + 1]) kept++;
    }
    t.ok(kept / lesion >= 0.99, `frame ${i}: ${kept} of ${lesion} lesion pixels untouched`);
    t.ok((await naive.score(frame.data, area.rect)) > 0.9, `frame ${i}: the lesion still scores high`);
  }
  // A frame without blood is left as it is.
  const plain = frameAt(40);
  t.equal(blackOutBlood(plain.frame, plain.area), 0, 'nothing blacked out on plain mucosa');
});

t.test(
  'the reference classifier, whose graph leaves blood out, scores blood alone low and a lesion beside a trickle high, on the frame as it is',
  async (t) => {
    const shipped = await classifierAt(t, null);
    t.equal(shipped.manifest.version, '1.1.0', 'the installed reference models have the blood rule (older ones: lumen models build)');
    for (const i of BLOOD_ONLY) {
      const { f, area } = frameAt(i);
      const s = await shipped.score(f.data, area.rect);
      // Below inference.segmentAbove (0.5): not even suspicious.
      t.ok(s < 0.5, `frame ${i}: blood alone (${(f.blood * 100).toFixed(0)} % of the picture) scores ${s.toFixed(3)}`);
    }
    for (const i of LESION_AND_TRICKLE) {
      const { f, area } = frameAt(i);
      const s = await shipped.score(f.data, area.rect);
      t.ok(s > 0.9, `frame ${i}: the lesion beside a trickle scores ${s.toFixed(3)}`);
    }
  },
);
