/**
 * Model-only benchmark: per bundle and per execution provider that works on this machine,
 * latency p50/p99 and throughput at batch 1, warm-up excluded.
 * Usage: npm run bench:models [-- --runs N] [-- --providers webgpu,cpu] [-- --models a,b]
 */
import '../runtime/env.js';
import { join } from 'node:path';
import { MODELS_DIR } from '../runtime/config/paths.js';
import { parseConfig } from '../runtime/config/load.js';
import { sessionOptions } from '../runtime/pipeline/sessions.js';
import { percentile } from '../runtime/daemon/stats.js';
import { ModelSession } from '../runtime/inference/model-session.js';
import { PROVIDERS, type ProviderName } from '../runtime/inference/providers.js';
import { createLogger } from '../runtime/log.js';
import { messageOf } from '../runtime/errors.js';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const models = (arg('models') ?? 'ref-classifier,ref-segmenter,gain-resnet50,ca-unet').split(',');
const providers = (arg('providers') ?? PROVIDERS.join(',')).split(',') as ProviderName[];
const minRuns = Number(arg('runs') ?? 30);
const budgetMs = Number(arg('seconds') ?? 10) * 1000;
const log = createLogger('bench', 'silent');
// The default config's settings (TensorRT caches included); only the provider varies per row.
const defaults = await sessionOptions(parseConfig({}));

console.log(`model benchmark, batch 1, warm-up excluded (at least ${minRuns} runs or ${budgetMs / 1000} s per row)`);
console.log('model            provider   p50 ms   p99 ms    fps   runs');
for (const id of models) {
  for (const p of providers) {
    let s: ModelSession;
    try {
      s = await ModelSession.open(join(MODELS_DIR, id), { ...defaults, providers: [p] }, log);
    } catch (err) {
      const full = (err as { detail?: { attempts?: { reason?: string }[] } }).detail?.attempts?.[0]?.reason ?? messageOf(err);
      // ORT prefixes messages with source paths: keep the sentence that says what failed.
      const reason = (full.match(/(Failed[^.]*|No supported[^.]*)/)?.[0] ?? full).slice(0, 90);
      console.log(`${id.padEnd(16)} ${p.padEnd(9)}  unavailable: ${reason}`);
      continue;
    }
    const input = new Float32Array(s.manifest.input.shape.reduce((a, b) => a * b, 1)).fill(0.5);
    for (let i = 0; i < 3; i++) await s.runTensor(input);
    const times: number[] = [];
    const t0 = performance.now();
    while (times.length < minRuns || (performance.now() - t0 < budgetMs && times.length < 2000)) {
      const a = performance.now();
      await s.runTensor(input);
      times.push(performance.now() - a);
      if (performance.now() - t0 > budgetMs * 6) break;
    }
    const fps = times.length / ((performance.now() - t0) / 1000);
    console.log(
      `${id.padEnd(16)} ${p.padEnd(9)} ${percentile(times, 0.5).toFixed(1).padStart(7)} ${percentile(times, 0.99).toFixed(1).padStart(8)} ${fps.toFixed(1).padStart(6)} ${String(times.length).padStart(6)}`,
    );
    await s.close();
  }
}
process.exit(0);
