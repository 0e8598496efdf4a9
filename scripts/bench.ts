/**
 * Benchmark of the default configuration: runs `lumen run` (demo feed, reference models) on free
 * local ports, reads its status, then runs the same pipeline stages as fast as they go and the
 * models alone, and prints figures and ratios. Usage: npm run bench [-- --seconds 20]
 */
import '../runtime/env.js';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { LumenClient } from '../runtime/client/client.js';
import { Capture } from '../runtime/capture/capture.js';
import { parseConfig } from '../runtime/config/load.js';
import { DEMO_FEED, PIPELINES_DIR, PROJECT_ROOT } from '../runtime/config/paths.js';
import { makeProcessor, openSessions } from '../runtime/daemon/sessions.js';
import type { ProviderName } from '../runtime/inference/ort.js';
import { SceneRenderer } from '../runtime/feed/scene.js';
import { makeSceneSpec } from '../runtime/feed/schedule.js';
import { preprocess } from '../runtime/inference/preprocess.js';
import { evaluateQuality } from '../runtime/quality/quality-gate.js';
import { findActiveArea } from '../runtime/roi/active-area.js';
import { blackOutsideArea } from '../runtime/roi/privacy.js';
import { percentile } from '../runtime/daemon/stats.js';
import { ModelSession } from '../runtime/inference/model-session.js';
import { createLogger } from '../runtime/log.js';
import { renderOverlay } from '../runtime/overlay/render.js';
import { TOPICS, type StatusHeader } from '../runtime/publish/protocol.js';
import { encodePng } from '../runtime/util/image-codec.js';

const seconds = Number(process.argv[process.argv.indexOf('--seconds') + 1]) || 15;
// LUMEN_PROVIDERS=webgpu,cpu (e.g.) benches another provider chain; default: the config's.
const providers = process.env.LUMEN_PROVIDERS ? (process.env.LUMEN_PROVIDERS.split(',') as ProviderName[]) : parseConfig({}).inference.providers;
const log = createLogger('bench', 'error');

function port(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

const fmt = (p: { p50: number; p99: number }) => `${p.p50.toFixed(1).padStart(7)} ${p.p99.toFixed(1).padStart(7)}`;

async function daemonRun(): Promise<StatusHeader> {
  const ep = { endpoint: `tcp://127.0.0.1:${await port()}`, historyEndpoint: `tcp://127.0.0.1:${await port()}` };
  const cfg = JSON.stringify({ publish: ep, inference: { providers }, state: { dir: join(PROJECT_ROOT, 'var', 'bench-state') } });
  const cfgPath = join(PROJECT_ROOT, 'var', 'bench-config.json');
  await import('node:fs/promises').then((fs) => fs.writeFile(cfgPath, cfg));
  const child = spawn(process.execPath, [join(PROJECT_ROOT, 'dist', 'runtime', 'cli.js'), 'run', '--config', cfgPath], { stdio: 'ignore' });
  const client = new LumenClient({ ...ep, topics: [TOPICS.status] });
  const start = Date.now();
  let last: StatusHeader | undefined;
  let first: StatusHeader | undefined;
  try {
    for await (const m of client) {
      if (m.topic !== TOPICS.status || m.header.state !== 'running') continue;
      first ??= m.header;
      last = m.header;
      if (Date.now() - start > seconds * 1000) break;
    }
  } finally {
    client.close();
    child.kill('SIGTERM');
  }
  if (!last || !first) throw new Error('no status from the daemon');
  const secs = (last.ts - first.ts) / 1000;
  return { ...last, fps: Math.round(((last.processed - first.processed) / secs) * 10) / 10 };
}

async function stagesFlatOut(): Promise<{ fps: number; perStage: Record<string, { p50: number; p99: number }>; models: ModelSession[] }> {
  const config = parseConfig({});
  const [cls, seg] = await openSessions(config, log, { providers });
  // The daemon's own per-frame stages (ROI, quality gate, models), as configured by default.
  const proc = makeProcessor(config, [cls, seg]);
  const cap = await Capture.open({ pipelinesDir: PIPELINES_DIR, template: 'file-replay', params: { location: DEMO_FEED }, mode: 'every-frame', loop: false, readyTimeoutMs: 20000 }, log);
  const samples: Record<string, number[]> = {};
  const add = (k: string, v: number) => (samples[k] ??= []).push(v);
  const t0 = performance.now();
  let n = 0;
  for await (const frame of cap) {
    const s = performance.now();
    const p = await proc.process(frame);
    let t = performance.now();
    const png = await encodePng({ width: frame.width, height: frame.height, data: renderOverlay({ width: frame.width, height: frame.height, roi: p.roi, mask: p.mask, maskThreshold: 0.5, attention: p.attention, box: p.box, alert: false }) });
    void png;
    add('overlay', performance.now() - t);
    for (const [k, v] of Object.entries(p.timings)) add(k, v);
    add('total', performance.now() - s);
    n++;
  }
  const fps = n / ((performance.now() - t0) / 1000);
  cap.close();
  const perStage = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, { p50: percentile(v, 0.5), p99: percentile(v, 0.99) }]));
  return { fps, perStage, models: [cls, seg] };
}

async function modelsAlone(models: ModelSession[], runs = 300): Promise<Record<string, { fps: number; p50: number; p99: number }>> {
  const out: Record<string, { fps: number; p50: number; p99: number }> = {};
  for (const m of models) {
    const input = new Float32Array(m.manifest.input.shape.reduce((a, b) => a * b, 1)).fill(0.5);
    for (let i = 0; i < 10; i++) await m.runTensor(input); // warm-up, excluded
    const times: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) {
      const s = performance.now();
      await m.runTensor(input);
      times.push(performance.now() - s);
    }
    out[m.manifest.id] = { fps: runs / ((performance.now() - t0) / 1000), p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
  }
  return out;
}

/** Frame conditioning at 1080p: each step alone, p50/p99 over 200 runs on a synthetic frame. */
function conditioning1080p(): Record<string, { p50: number; p99: number }> {
  const spec = makeSceneSpec({ width: 1920, height: 1080, fps: 30, seconds: 1, seed: 3, episodes: 'demo' });
  const frame = { id: 0, ts: 0, width: 1920, height: 1080, data: new SceneRenderer(spec).render(10).data };
  const input = { name: 'image', shape: [1, 3, 224, 224], type: 'float32' as const, layout: 'NCHW' as const, colorOrder: 'RGB' as const, scale: 1 / 255, mean: [0, 0, 0] as [number, number, number], std: [1, 1, 1] as [number, number, number] };
  const area = findActiveArea(frame);
  const steps: Record<string, () => unknown> = {
    'roi detect': () => findActiveArea(frame),
    'black outside': () => blackOutsideArea(frame.data, 1920, 1080, area),
    'quality gate': () => evaluateQuality(frame, area),
    'crop+resize': () => preprocess(frame, input, area.rect),
  };
  const out: Record<string, { p50: number; p99: number }> = {};
  for (const [k, f] of Object.entries(steps)) {
    const times: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      f();
      times.push(performance.now() - t);
    }
    out[k] = { p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
  }
  return out;
}

const live = await daemonRun();
console.log(`lumen run, default config (demo feed ${DEMO_FEED.split('/').pop()}, reference models, provider ${Object.values(live.providers).join('/')}), ${seconds} s:`);
console.log(`  fps ${live.fps} (source plays in real time), captured ${live.captured}, dropped ${live.dropped}`);
console.log('  stage          p50 ms  p99 ms');
for (const [k, v] of Object.entries(live.latencyMs)) console.log(`  ${k.padEnd(12)} ${fmt(v)}`);
console.log(`  frame age    ${fmt(live.frameAgeMs)}   (capture → overlay published)`);

const flat = await stagesFlatOut();
console.log(`\nsame stages, every demo frame as fast as possible: ${flat.fps.toFixed(1)} fps`);
for (const [k, v] of Object.entries(flat.perStage)) console.log(`  ${k.padEnd(12)} ${fmt(v)}`);
const alone = await modelsAlone(flat.models);
console.log(`\nmodels alone through ONNX Runtime (${flat.models[0].provider}, batch 1, warm-up excluded):`);
for (const [k, v] of Object.entries(alone)) console.log(`  ${k.padEnd(16)} ${v.fps.toFixed(1).padStart(8)} fps  p50 ${v.p50} ms  p99 ${v.p99} ms`);
console.log('\nframe conditioning at 1920×1080 (per frame; roi detect runs every 30th frame once steady):');
console.log('  step           p50 ms  p99 ms');
for (const [k, v] of Object.entries(conditioning1080p())) console.log(`  ${k.padEnd(12)} ${fmt(v)}`);
const cls = Object.values(alone)[0];
console.log(`\nratio: pipeline throughput / classifier alone = ${(flat.fps / cls.fps).toFixed(3)}; pipeline / live demo rate = ${(flat.fps / Math.max(live.fps, 0.1)).toFixed(2)}×`);
await Promise.all(flat.models.map((m) => m.close()));
process.exit(0);
