import t from 'tap';
import { SceneRenderer } from '../runtime/feed/scene.js';
import { makeSceneSpec } from '../runtime/feed/schedule.js';
import { evaluateQuality } from '../runtime/quality/quality-gate.js';
import { findActiveArea } from '../runtime/roi/active-area.js';

t.test("the quality gate flags the generator's dark, overexposed, blurred and bubble frames and passes normal ones", async (t) => {
  const confusion = { gatedUngradable: 0, passedUngradable: 0, gatedGradable: 0, passedGradable: 0 };
  const byKind: Record<string, { n: number; gated: number }> = {};
  for (const seed of [21, 22, 23]) {
    const spec = makeSceneSpec({ width: 640, height: 360, fps: 10, seconds: 40, seed, episodes: 'full' });
    const r = new SceneRenderer(spec);
    // Every 6th frame of the calm stretches and lesions, and every frame of each artefact, so a
    // short artefact episode still counts in full.
    const artefact = (i: number) => spec.episodes.some((e) => e.kind !== 'lesion' && i >= e.start && i < e.end);
    for (let i = 0; i < spec.frames; i++) {
      if (i % 6 !== 0 && !artefact(i)) continue;
      const f = r.render(i);
      const frame = { id: i, ts: 0, width: spec.width, height: spec.height, data: f.data };
      const q = evaluateQuality(frame, findActiveArea(frame));
      const kind = spec.episodes.find((e) => e.kind !== 'lesion' && i >= e.start && i < e.end)?.kind ?? (f.label === 'egc' ? 'lesion' : 'normal');
      byKind[kind] ??= { n: 0, gated: 0 };
      byKind[kind].n++;
      if (q.gated) byKind[kind].gated++;
      const ungradable = f.label === 'ungradable';
      if (ungradable) confusion[q.gated ? 'gatedUngradable' : 'passedUngradable']++;
      else confusion[q.gated ? 'gatedGradable' : 'passedGradable']++;
    }
  }
  t.comment(`confusion: ${JSON.stringify(confusion)}`);
  t.comment(`by episode kind: ${JSON.stringify(byKind)}`);
  for (const kind of ['dark', 'overexposed', 'blur', 'bubbles']) {
    t.ok((byKind[kind]?.n ?? 0) >= 8, `${kind}: the sampled frames include ${byKind[kind]?.n ?? 0} of this kind`);
    if (!byKind[kind]) continue;
    t.ok(byKind[kind].gated / byKind[kind].n >= 0.9, `${kind}: ${byKind[kind].gated}/${byKind[kind].n} gated`);
  }
  const normal = byKind.normal.gated + (byKind.lesion?.gated ?? 0);
  const total = byKind.normal.n + (byKind.lesion?.n ?? 0);
  t.ok(normal / total <= 0.05, `gradable frames gated: ${normal}/${total}`);
});
