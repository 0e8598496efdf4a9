/**
 * Output agreement between two execution providers on the same inputs (frames of the demo
 * feed): max |Δ score| for classifiers, mask IoU for segmenters.
 * Usage: node dist/scripts/provider-agreement.js [--a webgpu] [--b cpu] [--frames 30]
 */
import '../runtime/env.js';
import { join } from 'node:path';
import { Capture } from '../runtime/capture/capture.js';
import { DEMO_FEED, MODELS_DIR, PIPELINES_DIR } from '../runtime/config/paths.js';
import { parseConfig } from '../runtime/config/load.js';
import { sessionOptions } from '../runtime/pipeline/sessions.js';
import { egcProbability } from '../runtime/pipeline/models.js';
import { lesionProbability } from '../runtime/pipeline/lesion-map.js';
import type { Frame } from '../runtime/frame.js';
import { ModelSession } from '../runtime/inference/model-session.js';
import type { ProviderName } from '../runtime/inference/providers.js';
import { createLogger } from '../runtime/log.js';

const arg = (n: string, d: string) => (process.argv.includes(`--${n}`) ? process.argv[process.argv.indexOf(`--${n}`) + 1] : d);
const [a, b] = [arg('a', 'webgpu'), arg('b', 'cpu')] as ProviderName[];
const count = Number(arg('frames', '30'));
const models = arg('models', 'ref-classifier,ref-segmenter,gain-resnet50,ca-unet').split(',');
const log = createLogger('agreement', 'silent');
const defaults = await sessionOptions(parseConfig({}));

const frames: Frame[] = [];
const cap = await Capture.open(
  { pipelinesDir: PIPELINES_DIR, template: 'file-replay', params: { location: DEMO_FEED }, mode: 'every-frame', loop: false, readyTimeoutMs: 20000 },
  log,
);
for await (const f of cap) {
  if (f.id % 10 === 0) frames.push(f);
  if (frames.length >= count) break;
}
cap.close();

console.log(`output agreement ${a} vs ${b} over ${frames.length} demo frames`);
for (const id of models) {
  let sa: ModelSession, sb: ModelSession;
  try {
    sa = await ModelSession.open(join(MODELS_DIR, id), { ...defaults, providers: [a] }, log);
    sb = await ModelSession.open(join(MODELS_DIR, id), { ...defaults, providers: [b] }, log);
  } catch (err) {
    console.log(`${id.padEnd(16)} unavailable: ${(err as Error).message.slice(0, 120)}`);
    continue;
  }
  let maxScore = 0;
  let minIou = 1;
  for (const f of frames) {
    const [oa, ob] = [await sa.infer(f), await sb.infer(f)];
    if (sa.manifest.task === 'classify') {
      maxScore = Math.max(maxScore, Math.abs(egcProbability(oa.logits.data) - egcProbability(ob.logits.data)));
    } else {
      const plane = oa.logits.dims[2] * oa.logits.dims[3];
      const [ma, mb] = [lesionProbability(oa.logits.data, plane), lesionProbability(ob.logits.data, plane)];
      let inter = 0;
      let union = 0;
      for (let i = 0; i < plane; i++) {
        const x = ma[i] >= 0.5;
        const y = mb[i] >= 0.5;
        if (x && y) inter++;
        if (x || y) union++;
      }
      minIou = Math.min(minIou, union ? inter / union : 1);
    }
  }
  console.log(
    sa.manifest.task === 'classify' ? `${id.padEnd(16)} max |Δ score| ${maxScore.toExponential(2)}` : `${id.padEnd(16)} min mask IoU ${minIou.toFixed(4)}`,
  );
  await Promise.all([sa.close(), sb.close()]);
}
process.exit(0);
