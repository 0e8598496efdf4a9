/**
 * Benchmark of the live path: runs `lumen run` (reference models) on free local ports on the
 * demo feed and on a live 1920×1080 source at 60 fps (one synthetic frame with a lesion repeated
 * live), reads its status, then runs the same pipeline stages as fast as they go and the models
 * alone, and prints figures and ratios. Usage: npm run bench [-- --seconds 20]
 */
import { asService } from '../runtime/env.js';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { LumenClient } from '../runtime/client/client.js';
import { Capture } from '../runtime/capture/capture.js';
import { parseConfig } from '../runtime/config/load.js';
import { DEMO_FEED, PIPELINES_DIR, PROJECT_ROOT } from '../runtime/config/paths.js';
import { openSessions } from '../runtime/pipeline/sessions.js';
import { FramePipeline } from '../runtime/pipeline/pipeline.js';
import { overlayGeometry } from '../runtime/pipeline/output.js';
import type { ProviderName } from '../runtime/inference/providers.js';
import { SceneRenderer } from '../runtime/feed/scene.js';
import { makeSceneSpec } from '../runtime/feed/schedule.js';
import { preprocess } from '../runtime/inference/preprocess.js';
import { evaluateQuality } from '../runtime/quality/quality-gate.js';
import { findActiveArea } from '../runtime/roi/active-area.js';
import { blackOutsideArea } from '../runtime/roi/privacy.js';
import { MaskPlan } from '../runtime/roi/mask-plan.js';
import { percentile } from '../runtime/daemon/stats.js';
import { ModelSession } from '../runtime/inference/model-session.js';
import { createLogger } from '../runtime/log.js';
import { TOPICS, type StatusHeader } from '../runtime/publish/protocol.js';
import { encodePng } from '../runtime/util/image-codec.js';
import { DEFAULT_ANALYSIS_SIZE } from '../runtime/config/schema.js';
import { mkdir, writeFile } from 'node:fs/promises';

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

interface LiveRun {
  first: StatusHeader;
  last: StatusHeader;
  /** Frames processed per second between the first and last status. */
  fps: number;
  secs: number;
}

/** Runs the daemon with `capture` (default: the demo) for `seconds` and keeps its first and last running status. */
async function daemonRun(capture: Record<string, unknown> = {}): Promise<LiveRun> {
  const ep = { endpoint: `tcp://127.0.0.1:${await port()}`, historyEndpoint: `tcp://127.0.0.1:${await port()}` };
  // The degrade policy stays out of it: the bench measures the full path, not a shed one.
  const cfg = JSON.stringify({
    capture,
    publish: ep,
    inference: { providers },
    health: { degrade: { enabled: false } },
    state: { dir: join(PROJECT_ROOT, 'var', 'bench-state') },
  });
  const cfgPath = join(PROJECT_ROOT, 'var', 'bench-config.json');
  await writeFile(cfgPath, cfg);
  const service = asService(['run', '--config', cfgPath]);
  const child = spawn(process.execPath, service.argv, { stdio: 'ignore', env: service.env });
  const client = new LumenClient({ ...ep, topics: [TOPICS.status] });
  let last: StatusHeader | undefined;
  let first: StatusHeader | undefined;
  let warm = 0;
  try {
    for await (const m of client) {
      if (m.topic !== TOPICS.status || m.header.state !== 'running') continue;
      // Two heartbeats of warm-up (first frames, JIT) before the window opens.
      if (warm++ < 2) continue;
      first ??= m.header;
      last = m.header;
      if (last.ts - first.ts >= seconds * 1000) break;
    }
  } finally {
    client.close();
    child.kill('SIGTERM');
  }
  if (!last || !first) throw new Error('no status from the daemon');
  const secs = (last.ts - first.ts) / 1000;
  return { first, last, secs, fps: Math.round(((last.processed - first.processed) / secs) * 10) / 10 };
}

/** One synthetic 1920×1080 frame with a lesion in view, as PNG, for the live 1080p60 run. */
async function still1080p(): Promise<string> {
  const spec = makeSceneSpec({ width: 1920, height: 1080, fps: 60, seconds: 24, seed: 1, episodes: 'demo' });
  const lesion = spec.episodes.find((e) => e.kind === 'lesion') ?? spec.episodes[0];
  const frame = new SceneRenderer(spec).render(Math.floor((lesion.start + lesion.end) / 2));
  const dir = join(PROJECT_ROOT, 'var', 'bench');
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'still-1080p.png');
  await writeFile(file, await encodePng({ width: 1920, height: 1080, data: frame.data }));
  return file;
}

function printLive(title: string, run: LiveRun, offeredFps: number | null): void {
  const h = run.last;
  console.log(title);
  const processed = h.processed - run.first.processed;
  const offered = offeredFps === null ? null : Math.round(offeredFps * run.secs);
  console.log(
    `  source ${h.analysis ? `${h.analysis.source.width}×${h.analysis.source.height}, analysis ${h.analysis.width}×${h.analysis.height}` : '?'}; provider ${Object.values(h.providers).join('/')}`,
  );
  if (offered !== null) {
    console.log(
      `  offered ${offeredFps} fps, processed ${run.fps} fps, not processed ${Math.max(0, offered - processed)} of ${offered} (mailbox ${h.dropped - run.first.dropped})`,
    );
    console.log(`  ratio processed / offered = ${(processed / offered).toFixed(3)}`);
  } else console.log(`  processed ${run.fps} fps (the source plays in real time), mailbox drops ${h.dropped - run.first.dropped}`);
  console.log('  stage          p50 ms  p99 ms');
  for (const [k, v] of Object.entries(h.latencyMs)) if (!['total', 'work', 'outsideOrt'].includes(k)) console.log(`  ${k.padEnd(12)} ${fmt(v)}`);
  console.log(`  frame work   ${fmt(h.work?.frameMs ?? { p50: 0, p99: 0 })}   (frame taken → overlay published)`);
  console.log(`  outside ORT  ${fmt(h.work?.outsideOrtMs ?? { p50: 0, p99: 0 })}   (share ${h.work?.outsideOrtShare ?? '?'})`);
  console.log(`  frame age    ${fmt(h.frameAgeMs)}   (capture → overlay published)`);
  const [a, b] = [run.first.process.gc, h.process.gc];
  console.log(
    `  collector    ${b.full - a.full} mark-compacts (${b.fullMs - a.fullMs} ms), ${b.young - a.young} scavenges (${b.youngMs - a.youngMs} ms) in the window`,
  );
}

async function stagesFlatOut(): Promise<{ fps: number; perStage: Record<string, { p50: number; p99: number }>; models: ModelSession[] }> {
  const config = parseConfig({});
  const [cls, seg] = await openSessions(config, log, { providers });
  // The daemon's own per-frame stages (conditioning, models, decision), as configured by default.
  const pipeline = new FramePipeline(config, [cls, seg]);
  const cap = await Capture.open(
    {
      pipelinesDir: PIPELINES_DIR,
      template: 'file-replay',
      params: { location: DEMO_FEED },
      mode: 'every-frame',
      loop: false,
      readyTimeoutMs: 20000,
      analysis: DEFAULT_ANALYSIS_SIZE,
    },
    log,
  );
  const samples: Record<string, number[]> = {};
  const add = (k: string, v: number) => (samples[k] ??= []).push(v);
  const t0 = performance.now();
  let n = 0;
  for await (const frame of cap) {
    const s = performance.now();
    const p = await pipeline.step(frame);
    const t = performance.now();
    JSON.stringify(overlayGeometry(p, config.overlay));
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

/** Frame conditioning on one synthetic frame of that size: each step alone, p50/p99 over 200 runs. */
function conditioning(width: number, height: number): Record<string, { p50: number; p99: number }> {
  const spec = makeSceneSpec({ width, height, fps: 30, seconds: 1, seed: 3, episodes: 'demo' });
  const frame = { id: 0, ts: 0, width, height, data: new SceneRenderer(spec).render(10).data };
  const input = {
    name: 'image',
    shape: [1, 3, 224, 224],
    type: 'float32' as const,
    layout: 'NCHW' as const,
    colorOrder: 'RGB' as const,
    scale: 1 / 255,
    mean: [0, 0, 0] as [number, number, number],
    std: [1, 1, 1] as [number, number, number],
  };
  const area = findActiveArea(frame);
  const plan = new MaskPlan(width, height, [{ x: 0, y: 0, width: Math.round(width / 8), height: Math.round(height / 10) }], area);
  const steps: Record<string, () => unknown> = {
    'roi detect': () => findActiveArea(frame),
    'masks (plan)': () => plan.apply(frame.data),
    'black outside (per pixel)': () => blackOutsideArea(frame.data, width, height, area),
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

const demo = await daemonRun();
printLive(`lumen run, default config (demo feed ${DEMO_FEED.split('/').pop()}, reference models), ${demo.secs.toFixed(0)} s:`, demo, null);
const hd = await daemonRun({ pipeline: 'still-live', params: { location: await still1080p(), fps: 60 } });
printLive(`\nlumen run, live 1920×1080 at 60 fps (one synthetic frame repeated live, still-live template), ${hd.secs.toFixed(0)} s:`, hd, 60);

const flat = await stagesFlatOut();
console.log(`\nsame stages, every demo frame as fast as possible: ${flat.fps.toFixed(1)} fps`);
for (const [k, v] of Object.entries(flat.perStage)) console.log(`  ${k.padEnd(12)} ${fmt(v)}`);
const alone = await modelsAlone(flat.models);
console.log(`\nmodels alone through ONNX Runtime (${flat.models[0].provider}, batch 1, warm-up excluded):`);
for (const [k, v] of Object.entries(alone)) console.log(`  ${k.padEnd(16)} ${v.fps.toFixed(1).padStart(8)} fps  p50 ${v.p50} ms  p99 ${v.p99} ms`);
const box = DEFAULT_ANALYSIS_SIZE;
const full = conditioning(1920, 1080);
const small = conditioning(box.width, box.height);
console.log(
  `\nframe conditioning per frame, 1920×1080 (before) vs ${box.width}×${box.height} (the analysis size); roi detect runs every 30th frame once steady:`,
);
console.log('  step                        1080p p50/p99      analysis p50/p99');
for (const k of Object.keys(full)) console.log(`  ${k.padEnd(26)} ${fmt(full[k])}   ${fmt(small[k])}`);
const cls = Object.values(alone)[0];
console.log(
  `\nratio: pipeline throughput / classifier alone = ${(flat.fps / cls.fps).toFixed(3)}; pipeline / live demo rate = ${(flat.fps / Math.max(demo.fps, 0.1)).toFixed(2)}×`,
);
await Promise.all(flat.models.map((m) => m.close()));
process.exit(0);
